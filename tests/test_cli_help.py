"""What the entry points tell a newcomer: readable help and one-line errors.

``explore --help`` printed its example with a collapsed line continuation (a backslash
in a non-raw docstring joins two lines), and a companion run that does not fit the main
run ended in a 20-line traceback.
"""

import ast
import pathlib

from tests._helpers import REPO

_SCRIPTS = sorted((pathlib.Path(REPO) / "experiments").glob("*.py"))


def test_entry_point_docstrings_keep_every_line():
  for path in _SCRIPTS:
    tree = ast.parse(path.read_text())
    if not tree.body or not isinstance(tree.body[0], ast.Expr):
      continue
    node = tree.body[0].value
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
      continue
    source_lines = node.end_lineno - node.lineno + 1
    assert node.value.count("\n") + 1 == source_lines, (
        f"{path.name}: a backslash at a line end joins two lines of its help text")


def test_train_help_lists_every_config_with_its_summary():
  import configs
  from experiments import _cli

  text = _cli.config_help()
  rows = configs.inventory()
  assert len(rows) >= 19 and all(summary for _, summary in rows)
  for path, summary in rows:
    assert f"{path}: {summary}" in text
  assert ":smoke" in text and "configs/common.py" in text
  assert "bench_" not in text  # the benchmark's workloads are not experiments


def test_a_missing_config_file_suggests_one_and_lists_them():
  from experiments import _cli

  missing = FileNotFoundError("[Errno 2] No such file or directory: 'configs/vae_digit.py'")
  text = _cli._config_error(["--config=configs/vae_digit.py:smoke"], missing)
  assert text.startswith("--config=configs/vae_digit.py:smoke: no such config file; "
                         "did you mean 'vae_digits.py'? configs/ holds ae_digits.py, ")
  assert "gan_ring8.py" in text and "common.py" not in text
  text = _cli._config_error(["--config=configs/zzz.py"], missing)
  assert "did you mean" not in text and "configs/ holds ae_digits.py" in text


def test_readme_config_table_names_every_config():
  import configs

  text = (pathlib.Path(REPO) / "README.md").read_text(encoding="utf-8")
  start = text.index("| config | model | data | what to expect |")
  table = text[start:text.index("\n\n", start)]
  for path, _ in configs.inventory():
    assert f"`{path.split('/', 1)[1]}`" in table, f"{path} is missing from the README"


def test_readme_names_every_registered_family():
  from latentjax.training._families import registered_families

  text = (pathlib.Path(REPO) / "README.md").read_text(encoding="utf-8")
  start = text.index("A model family plugs into the one loop")
  paragraph = text[start:text.index("\n\n", start)]
  for name in registered_families():
    assert f"`{name}`" in paragraph, f"family {name!r} is missing from the README"
