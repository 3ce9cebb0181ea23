"""Experiment configs: one file per experiment, each with ``get_config(arg=None)``.

Every experiment config takes ``:smoke`` (``--config=configs/X.py:smoke``), which shrinks
it to seconds; the keys and their defaults are declared in ``configs/common.py``.
``bench_*.py`` are the benchmark's workloads (``python -m experiments.benchmark``).
"""

import ast
import pathlib

_DIR = pathlib.Path(__file__).resolve().parent


def inventory(include_benchmarks: bool = False) -> list[tuple[str, str]]:
  """``(path, summary)`` of each config file, sorted: ``("configs/vae_digits.py", "VAE ...")``.

  Read from the files' docstrings (first line), without importing them.

  Args:
    include_benchmarks: also list the ``bench_*.py`` workloads.
  """
  rows = []
  for path in sorted(_DIR.glob("*.py")):
    if path.name in ("__init__.py", "common.py"):
      continue
    if path.name.startswith("bench_") and not include_benchmarks:
      continue
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    rows.append((f"configs/{path.name}", doc.strip().splitlines()[0] if doc else ""))
  return rows
