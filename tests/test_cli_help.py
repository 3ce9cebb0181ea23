"""What the entry points tell a newcomer: readable help and one-line errors.

``explore --help`` printed its example with a collapsed line continuation (a backslash
in a non-raw docstring joins two lines), and a companion run that does not fit the main
run ended in a 20-line traceback.
"""

import ast
import pathlib

from tests._helpers import REPO, run_module

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


def test_companion_run_that_does_not_fit_gives_one_error_line(vae_smoke_run):
  proc = run_module("experiments.explore", f"--workdir={vae_smoke_run}",
                    f"--companion_workdir={vae_smoke_run}", "--small", timeout=300)
  assert proc.returncode == 1, proc.stderr[-2000:]
  assert "Traceback" not in proc.stderr
  lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
  assert len(lines) == 1 and "--companion_workdir" in lines[0] and "2-D latent" in lines[0]
