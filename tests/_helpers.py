"""Small helpers shared by the training tests."""

import dataclasses
import json
import os
import subprocess
import sys
import tempfile

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


def run_entry_points(cases, *, env=None, timeout=600):
  """Runs each ``(module, [args])`` as ``python -m module args`` would, in a process of its
  own forked from one helper process that has imported the dependencies once
  (``tests/_entry_points.py``). Returns a ``CompletedProcess`` per case, in order.

  For command lines that stop early (errors, help); a case that must run to the end of a
  real interpreter (``atexit``, output files) uses `run_module`.
  """
  with tempfile.TemporaryDirectory() as folder:
    cases_path = os.path.join(folder, "cases.json")
    results_path = os.path.join(folder, "results.json")
    with open(cases_path, "w") as f:
      json.dump([[m, [str(a) for a in args]] for m, args in cases], f)
    proc = run_module("tests._entry_points", cases_path, results_path, env=env,
                      timeout=timeout)
    if proc.returncode != 0:
      raise RuntimeError(f"tests._entry_points failed:\n{proc.stderr[-3000:]}")
    with open(results_path) as f:
      results = json.load(f)
  return [subprocess.CompletedProcess([sys.executable, "-m", m, *map(str, args)],
                                      r["returncode"], r["stdout"], r["stderr"])
          for (m, args), r in zip(cases, results, strict=True)]


def smoke_config(config_module, data_dir, *, num_devices=1, **sections):
  """``config_module``'s ``:smoke`` config on ``data_dir``, trained on ``num_devices``.

  One device unless a test is about parallelism: the programs are then the same across
  tests (one compilation serves them all through the shared cache) and a checkpoint is
  not cut into per-device pieces. ``sections`` are ``{section: {key: value}}`` overrides.
  """
  config = config_module.get_config("smoke")
  config.data.data_dir = data_dir
  config.train.num_devices = num_devices
  for section, values in sections.items():
    for k, v in values.items():
      config[section][k] = v
  return config


def small_unet(config):
  """``config`` with a one-level U-Net of 8 channels and no attention, in place.

  For tests of what surrounds a diffusion network (evaluation, the report, inversion):
  it compiles in a fraction of the smoke U-Net's time. The U-Net itself is
  test_unet's.
  """
  config.model.unet_channels, config.model.unet_mult = 8, (1,)
  config.model.attn_resolutions = ()
  return config
