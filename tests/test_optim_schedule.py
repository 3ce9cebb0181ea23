"""``learning_rate_schedule``: warm-up and cosine decay, also for warm-ups past the run."""

import pytest

from configs import common
from latentjax.training._optim import learning_rate_schedule


def _optim(**kw):
  c = common.base_config().optim
  c.learning_rate = 1e-2
  for k, v in kw.items():
    c[k] = v
  return c


@pytest.mark.parametrize("warmup", [8, 200])
def test_cosine_with_warmup_as_long_as_the_run_builds(warmup):
  # A full config (warm-up 200) shrunk to an 8-step smoke run used to raise in optax
  # (cosine_decay_schedule with 0 decay steps).
  s = learning_rate_schedule(_optim(schedule="cosine", warmup_steps=warmup), 8)
  values = [float(s(i)) for i in range(9)]
  assert values[0] == 0.0
  assert all(a <= b for a, b in zip(values[:7], values[1:8], strict=True))
  assert values[8] == pytest.approx(1e-2)


def test_cosine_warmup_then_decay_to_zero():
  s = learning_rate_schedule(_optim(schedule="cosine", warmup_steps=10), 100)
  assert float(s(0)) == 0.0
  assert float(s(10)) == pytest.approx(1e-2)
  assert float(s(55)) == pytest.approx(0.5e-2, rel=1e-5)
  assert float(s(100)) == pytest.approx(0.0, abs=1e-9)


def test_cosine_without_warmup_starts_at_the_peak():
  s = learning_rate_schedule(_optim(schedule="cosine", warmup_steps=0), 100)
  assert float(s(0)) == pytest.approx(1e-2)
  assert float(s(100)) == pytest.approx(0.0, abs=1e-9)
