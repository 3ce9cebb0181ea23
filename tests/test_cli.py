"""The entry points as a user runs them: exact resume after SIGKILL (their error lines:
test_cli_errors)."""

import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from latentjax import training
from tests._helpers import REPO, run_module


def _train_args(workdir, data_dir, *extra):
  return ("experiments.train", "--config=configs/vae_digits.py:smoke", f"--workdir={workdir}",
          f"--config.data.data_dir={data_dir}", *extra)


_KILL_RUNS = {  # config -> (steps, checkpoint every): long enough to be killed mid-run
    "configs/vae_digits.py:smoke": (500, 50),
    # Both networks, both optimizer states, the generator's EMA and BatchNorm statistics,
    # the discriminator's spectral-norm state.
    "configs/dcgan_digits.py:smoke": (300, 30),
}


@pytest.mark.slow
@pytest.mark.parametrize("config", sorted(_KILL_RUNS))
def test_resume_after_sigkill_is_exact(config, tfds_data_dir, tmp_path):
  """Kill a real training process mid-run; the restarted run ends bit-identical."""
  steps, every = _KILL_RUNS[config]
  extra = (f"--config.train.num_steps={steps}", f"--config.train.checkpoint_every_steps={every}",
           "--config.train.log_every_steps=20", "--eval=False")
  whole, killed = tmp_path / "whole", tmp_path / "killed"

  def args(workdir):
    return ("experiments.train", f"--config={config}", f"--workdir={workdir}",
            f"--config.data.data_dir={tfds_data_dir}", *extra)

  proc = run_module(*args(whole), timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]

  env = dict(os.environ)
  env.pop("XLA_FLAGS", None)
  child = subprocess.Popen([sys.executable, "-m", *args(killed)],
                           cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
  ckpt_root = killed / "checkpoints"
  deadline = time.time() + 300
  while time.time() < deadline and child.poll() is None:
    names = os.listdir(ckpt_root) if ckpt_root.exists() else []
    if any(2 * every <= int(n) < steps for n in names if n.isdigit()):
      break
    time.sleep(0.02)
  assert child.poll() is None, "training finished before it could be killed"
  child.send_signal(signal.SIGKILL)
  child.wait()
  interrupted_at = training.Checkpointer(str(killed), read_only=True).latest_step()
  assert interrupted_at is not None and interrupted_at < steps

  proc = run_module(*args(killed), timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  a = jax.device_get(training.load_run(str(whole)).state.arrays())
  b = jax.device_get(training.load_run(str(killed)).state.arrays())
  assert int(a["step"]) == int(b["step"]) == steps
  jax.tree.map(np.testing.assert_array_equal, a, b)  # every array of the state


def _flag_names(path) -> set[str]:
  """The flag names a script defines (the first argument of each ``*.DEFINE_*`` call)."""
  import ast  # noqa: PLC0415

  names = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith("DEFINE") and node.args
        and isinstance(node.args[0], ast.Constant)):
      names.add(node.args[0].value)
  return names


def test_scripts_the_tests_import_define_no_flag_twice():
  # pytest-xdist puts any test modules in one process, and absl refuses a flag defined
  # twice: the scripts that tests import must not share a flag name.
  import ast  # noqa: PLC0415
  import pathlib  # noqa: PLC0415

  repo = pathlib.Path(REPO)
  scripts = set()
  for test in (repo / "tests").glob("*.py"):
    for node in ast.walk(ast.parse(test.read_text())):
      if isinstance(node, ast.ImportFrom) and node.module == "experiments":
        scripts.update(a.name for a in node.names)
      elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("experiments."):
        scripts.add(node.module.split(".")[1])
  owners = {}
  for script in sorted(scripts):
    path = repo / "experiments" / f"{script}.py"
    files = [path] if path.exists() else sorted((repo / "experiments" / script).glob("*.py"))
    assert files, script
    for name in set().union(*map(_flag_names, files)):
      owners.setdefault(name, []).append(script)
  assert {n: s for n, s in owners.items() if len(s) > 1} == {}
  assert "train" not in scripts  # the test of the test: train and inversion_study share --workdir
  assert _flag_names(repo / "experiments" / "train.py") & _flag_names(
      repo / "experiments" / "inversion_study.py") == {"workdir"}
