# The two commands of the quick start. Both create .venv (Python 3.11+) if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
WORKDIR ?= runs/demo
PYTEST_ARGS ?=

.PHONY: demo test test-slow lint install notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml setup.cfg | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	touch $(STAMP)

install: $(STAMP)

LAB_STAMP := $(VENV)/.lab-stamp
$(LAB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks,lab]"
	touch $(LAB_STAMP)

# JupyterLab on notebooks/, with the venv's Python as the kernel (as root, in a container,
# JupyterLab needs --allow-root).
notebooks: $(LAB_STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

demo: $(STAMP)
	$(BIN)/python -m experiments.demo --workdir=$(WORKDIR)

# The suite in two parts: `make test` everything but the long end-to-end tests marked
# @pytest.mark.slow, `make test-slow` those (CI runs both).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow" --durations=15 $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m slow --durations=15 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check latentjax experiments configs tests

clean:
	rm -rf $(VENV) runs .pytest_cache
