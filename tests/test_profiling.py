"""train(..., profile_steps=(a, b)): a JAX profiler trace of those steps in <workdir>/profile."""

import glob
import os

import pytest

from configs import vae_digits
from latentjax import training


def _smoke_config():
  c = vae_digits.get_config("smoke")
  c.model.hidden_dims = (16,)
  c.train.num_steps = 6
  c.train.num_devices = 1
  return c


def test_a_profiled_smoke_run_writes_a_tensorboard_trace(tmp_path):
  workdir = str(tmp_path / "run")
  training.train(_smoke_config(), workdir, profile_steps=(3, 4))
  traces = glob.glob(os.path.join(workdir, "profile", "plugins", "profile", "*",
                                  "*.xplane.pb"))
  assert len(traces) == 1  # one trace, of steps 3..4
  assert os.path.getsize(traces[0]) > 0
  assert training.read_metrics(workdir)  # training itself went on as usual


@pytest.mark.parametrize("steps, match", [
    ((0, 3), r"1 <= a <= b <= config\.train\.num_steps=6, got 0:3"),
    ((4, 3), "got 4:3"),
    ((5, 7), "got 5:7"),
    ((2,), "a pair of step numbers"),
    ((1.0, 2), "a pair of step numbers"),
])
def test_bad_profile_steps_fail_before_anything_is_written(tmp_path, steps, match):
  workdir = tmp_path / "run"
  with pytest.raises(ValueError, match=r"`profile_steps`.*" + match):
    training.train(_smoke_config(), str(workdir), profile_steps=steps)
  assert not workdir.exists()


@pytest.mark.parametrize("text, expected", [("3:5", (3, 5)), (" 1:1", (1, 1))])
def test_parse_profile_steps(text, expected):
  assert training.parse_profile_steps(text) == expected


@pytest.mark.parametrize("text", ["3", "3:5:7", "a:b", ""])
def test_parse_profile_steps_rejects_other_text(text):
  with pytest.raises(ValueError, match="`profile_steps` must be A:B"):
    training.parse_profile_steps(text)
