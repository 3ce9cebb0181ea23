"""Mode coverage on hand-made sample sets with known answers."""

import math

import numpy as np
import pytest

from latentjax import metrics
from latentjax.data._toy2d import toy2d_modes, toy2d_stddev

RING = toy2d_modes("ring8")
SIGMA = toy2d_stddev("ring8")


def test_ring8_has_eight_distinct_modes_at_angles_2_pi_k_over_8():
  assert RING.shape == (8, 2)
  gaps = np.linalg.norm(RING[:, None] - RING[None], axis=-1) + np.eye(8) * 10
  assert gaps.min() > 1.0  # distinct, far apart compared with sigma
  angles = np.mod(np.arctan2(RING[:, 1], RING[:, 0]), 2 * np.pi)
  np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-6)
  np.testing.assert_allclose(np.linalg.norm(RING, axis=1), 2.0, rtol=1e-6)


def test_samples_exactly_at_every_mean():
  res = metrics.mode_coverage(np.repeat(RING, 3, axis=0), RING, SIGMA)
  assert res == {"modes_covered": 8, "high_quality_fraction": 1.0, "reverse_kl": 0.0}
  assert isinstance(res["modes_covered"], int)


def test_all_samples_at_one_mode():
  samples = RING[2] + np.random.default_rng(0).normal(size=(50, 2)) * SIGMA * 0.5
  res = metrics.mode_coverage(samples, RING, SIGMA)
  assert res["modes_covered"] == 1
  assert res["high_quality_fraction"] == 1.0
  np.testing.assert_allclose(res["reverse_kl"], math.log(8), rtol=1e-12)  # q = (0,..,1,..,0)


def test_samples_far_from_every_mode():
  samples = np.full((10, 2), 10.0)
  res = metrics.mode_coverage(samples, RING, SIGMA)
  assert res["modes_covered"] == 0 and res["high_quality_fraction"] == 0.0
  assert math.isnan(res["reverse_kl"])  # no high-quality samples: q is undefined


def test_threshold_and_hand_computed_kl():
  # Two modes on a line; sigma = 1, threshold 3: points within distance 3 count.
  means = np.array([[0.0, 0.0], [10.0, 0.0]])
  samples = np.array([[0.0, 0.0], [2.9, 0.0], [3.0, 0.0], [3.1, 0.0],  # mode 0: 3 good
                      [10.0, 1.0],                                   # mode 1: 1 good
                      [5.0, 0.0]])                                   # nowhere
  counts = metrics.mode_histogram(samples, means, 1.0)
  np.testing.assert_array_equal(counts, [3, 1])
  res = metrics.mode_coverage(samples, means, 1.0)
  assert res["modes_covered"] == 2
  assert res["high_quality_fraction"] == pytest.approx(4 / 6)
  # KL(q || uniform) = 3/4 log(2 * 3/4) + 1/4 log(2 * 1/4).
  kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
  assert res["reverse_kl"] == pytest.approx(kl, rel=1e-12)
  # A wider threshold takes in the far point (distance 5 from both: the tie goes to mode 0).
  assert metrics.mode_histogram(samples, means, 1.0, threshold=5.0).tolist() == [5, 1]


def test_summary_over_seeds():
  runs = [{"modes_covered": 8, "high_quality_fraction": 0.9, "reverse_kl": 0.01},
          {"modes_covered": 6, "high_quality_fraction": 0.7, "reverse_kl": 0.2},
          {"modes_covered": 7, "high_quality_fraction": 0.8, "reverse_kl": 0.1}]
  summary = metrics.mode_coverage_summary(runs)
  assert summary["num_runs"] == 3
  assert summary["modes_covered"]["mean"] == pytest.approx(7.0)
  assert summary["modes_covered"]["stderr"] == pytest.approx(1.0 / math.sqrt(3))
  assert summary["high_quality_fraction"]["stderr"] == pytest.approx(0.1 / math.sqrt(3))
  assert math.isnan(metrics.mode_coverage_summary(runs[:1])["reverse_kl"]["stderr"])
  with pytest.raises(ValueError, match="`results` must hold at least one"):
    metrics.mode_coverage_summary([])
  with pytest.raises(ValueError, match=r"`results`\[0\] has no 'reverse_kl'"):
    metrics.mode_coverage_summary([{"modes_covered": 1, "high_quality_fraction": 1.0}])


def test_validation_errors_name_the_argument():
  with pytest.raises(ValueError, match=r"`samples` must be \[N, D\], got shape \(4,\)"):
    metrics.mode_coverage(np.zeros(4), RING, SIGMA)
  with pytest.raises(ValueError, match=r"`means` must be \[K, D\] with D = 3"):
    metrics.mode_coverage(np.zeros((4, 3)), RING, SIGMA)
  with pytest.raises(ValueError, match=r"`samples` must hold N >= 1 points"):
    metrics.mode_coverage(np.zeros((0, 2)), RING, SIGMA)
  with pytest.raises(ValueError, match="`stddev` must be > 0, got 0.0"):
    metrics.mode_coverage(RING, RING, 0.0)
  with pytest.raises(ValueError, match="`stddev` must be a positive scalar"):
    metrics.mode_coverage(RING, RING, np.ones(8))
  with pytest.raises(ValueError, match="`threshold` must be > 0"):
    metrics.mode_coverage(RING, RING, SIGMA, threshold=-1.0)


def test_public_names_are_documented():
  for name in metrics.__all__:
    assert getattr(metrics, name).__doc__ or name.isupper(), name
