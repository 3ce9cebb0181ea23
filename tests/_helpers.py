"""Small helpers shared by the training tests."""

import dataclasses
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class FakeSpec:
  """Stands in for a DatasetSpec where a test feeds synthetic batches itself."""

  name: str = "synthetic"
  input_key: str = "image"
  input_shape: tuple = (8, 8, 1)
  num_classes: int = 10
  label_key: str = "label"
  train_split: str = "train"
  test_split: str = "test"


def run_module(module, *args, env=None, timeout=600, **kwargs):
  """Runs ``python -m module args`` from the repo root; returns the CompletedProcess."""
  full_env = dict(os.environ)
  full_env.pop("XLA_FLAGS", None)  # subprocesses get one CPU device unless asked otherwise
  full_env.update(env or {})
  return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=full_env,
                        capture_output=True, text=True, timeout=timeout, **kwargs)
