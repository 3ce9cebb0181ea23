"""Sample-quality metrics: Frechet distance / FID, KID, PRDC, Inception Score, class coverage."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from latentjax import metrics
from latentjax.metrics import _frechet


def _rng(seed=0):
  return np.random.default_rng(seed)


def _orthogonal(d, seed=0):
  q, _ = np.linalg.qr(_rng(seed).normal(size=(d, d)))
  return q


def _spd(d, seed):
  a = _rng(seed).normal(size=(d, d))
  return a @ a.T / d + 0.5 * np.eye(d)


# --------------------------------------------------------------------------- Frechet


def test_frechet_distance_of_diagonal_and_commuting_gaussians_is_the_closed_form():
  d = 6
  rng = _rng(1)
  mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
  a, b = rng.uniform(0.1, 3.0, size=d), rng.uniform(0.1, 3.0, size=d)
  expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
  assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(
      expected, rel=1e-12)
  q = _orthogonal(d)  # the same eigenvectors: the covariances commute
  s1, s2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
  assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-10)
  assert metrics.frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)) == (
      pytest.approx(4.0, rel=1e-12))


def test_frechet_distance_of_non_commuting_covariances_matches_sqrtm():
  d = 5
  mu1, mu2 = _rng(2).normal(size=d), _rng(3).normal(size=d)
  s1, s2 = _spd(d, 4), _spd(d, 5)
  assert not np.allclose(s1 @ s2, s2 @ s1)
  root = scipy.linalg.sqrtm(s1 @ s2)
  expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root).real
  got = metrics.frechet_distance(mu1, s1, mu2, s2)
  assert got == pytest.approx(expected, rel=1e-9)
  assert metrics.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(got, rel=1e-10)  # symmetric


def test_frechet_distance_is_zero_for_identical_gaussians():
  s = _spd(7, 6)
  mu = _rng(7).normal(size=7)
  assert metrics.frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-10)


def test_rank_deficient_covariances_give_a_finite_real_non_negative_distance():
  # 4 samples in 16 dimensions: covariances of rank 3; and an all-zero covariance.
  x, y = _rng(8).normal(size=(4, 16)), _rng(9).normal(size=(4, 16)) + 0.5
  fid = metrics.fid_from_features(x, y)
  assert isinstance(fid, float) and math.isfinite(fid) and fid > 0
  # the square root of a rank-3 product: BLAS kernels of other CPUs round it to ~1e-9
  assert metrics.fid_from_features(y, x) == pytest.approx(fid, rel=1e-8)
  assert metrics.fid_from_features(x, x) == pytest.approx(0.0, abs=1e-9)
  mu, sigma = metrics.feature_statistics(x)
  zero = np.zeros((16, 16))
  # N(mu, S) to the point mass at mu: tr(S).
  assert metrics.frechet_distance(mu, sigma, mu, zero) == pytest.approx(np.trace(sigma))
  assert metrics.frechet_distance(mu, zero, mu, zero) == 0.0


def test_feature_statistics_are_the_mean_and_unbiased_covariance(monkeypatch):
  x = _rng(10).normal(size=(11, 3)).astype(np.float32) + 5.0
  monkeypatch.setattr(_frechet, "_STATS_CHUNK", 4)  # several chunks of rows
  mu, sigma = metrics.feature_statistics(x)
  assert mu.dtype == np.float64 and sigma.dtype == np.float64
  np.testing.assert_allclose(mu, x.astype(np.float64).mean(axis=0), rtol=1e-12)
  np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-10)
  mu, sigma = metrics.feature_statistics([[0.0, 1.0], [2.0, 3.0]])
  np.testing.assert_array_equal(mu, [1.0, 2.0])
  np.testing.assert_array_equal(sigma, [[2.0, 2.0], [2.0, 2.0]])


def test_frechet_distance_jax_matches_numpy_in_float64_and_float32():
  d = 6
  mu1, mu2 = _rng(11).normal(size=d), _rng(12).normal(size=d)
  s1, s2 = _spd(d, 13), _spd(d, 14)
  singular = s2.copy()
  singular[:, -1] = singular[-1, :] = 0.0
  fd_jax = jax.jit(metrics.frechet_distance_jax)
  with jax.enable_x64(True):
    got = fd_jax(mu1, s1, mu2, s2)
    assert got.dtype == jnp.float64
    assert float(got) == pytest.approx(metrics.frechet_distance(mu1, s1, mu2, s2), rel=1e-10)
    # A zero eigenvalue: its square root turns round-off of 1e-16 into 1e-8.
    assert float(fd_jax(mu1, s1, mu2, singular)) == pytest.approx(
        metrics.frechet_distance(mu1, s1, mu2, singular), abs=1e-7)
  expected = metrics.frechet_distance(mu1, s1, mu2, singular)
  got32 = fd_jax(*(np.float32(a) for a in (mu1, s1, mu2, singular)))
  assert got32.dtype == jnp.float32
  assert float(got32) == pytest.approx(expected, rel=1e-4, abs=1e-3)


@pytest.mark.parametrize("args, message", [
    ((np.zeros((2, 1)), np.eye(2), np.zeros(2), np.eye(2)), "`mu1` must be a \\[D\\]"),
    ((np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)), "`sigma1` must be \\[D, D\\]"),
    ((np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)), "`mu2` must be \\[D\\] with D = 2"),
    ((np.zeros(2), np.eye(2), np.zeros(2), np.ones(2)), "`sigma2` must be \\[D, D\\]"),
    ((np.zeros(2), np.eye(2), np.zeros(2), np.full((2, 2), np.nan)), "`sigma2` holds NaN"),
    ((np.array([0.0, np.inf]), np.eye(2), np.zeros(2), np.eye(2)), "`mu1` holds NaN"),
])
def test_frechet_distance_rejects_bad_shapes_and_values(args, message):
  with pytest.raises(ValueError, match=message):
    metrics.frechet_distance(*args)
  if "NaN" not in message:
    with pytest.raises(ValueError, match=message):
      metrics.frechet_distance_jax(*args)


def test_feature_checks_name_the_argument():
  x = np.zeros((5, 3))
  with pytest.raises(ValueError, match="`features` must be \\[N, D\\] \\(rank 2\\)"):
    metrics.feature_statistics(np.zeros(5))
  with pytest.raises(ValueError, match="`features` must hold N >= 2"):
    metrics.feature_statistics(np.zeros((1, 3)))
  with pytest.raises(ValueError, match="`real_features` holds 3 NaN"):
    metrics.fid_from_features(np.where(np.eye(5, 3) > 0, np.nan, 0.0), x)
  with pytest.raises(ValueError, match="`fake_features` must be \\[M, D\\] with D = 3"):
    metrics.fid_from_features(x, np.zeros((5, 4)))


# --------------------------------------------------------------------------- KID


def _mmd2_unbiased(x, y):
  d = x.shape[1]
  k = lambda a, b: (a @ b.T / d + 1) ** 3
  m = len(x)
  off = lambda g: (g.sum() - np.trace(g)) / (m * (m - 1))
  return off(k(x, x)) + off(k(y, y)) - 2 * k(x, y).mean()


def test_kid_of_whole_sets_is_the_unbiased_mmd2_with_the_cubic_kernel():
  x, y = _rng(20).normal(size=(40, 5)), _rng(21).normal(size=(50, 5)) + 0.3
  res = metrics.kid(x[:40], y[:40], num_subsets=1, subset_size=1000)  # capped at 40
  assert res["kid_mean"] == pytest.approx(_mmd2_unbiased(x, y[:40]), rel=1e-4)
  assert res["kid_std"] == 0.0


def test_kid_is_near_zero_for_one_distribution_and_positive_for_a_shift():
  x, y = _rng(22).normal(size=(300, 8)), _rng(23).normal(size=(300, 8))
  same = metrics.kid(x, y, num_subsets=20, subset_size=100, seed=1)
  shifted = metrics.kid(x, y + 1.0, num_subsets=20, subset_size=100, seed=1)
  assert abs(same["kid_mean"]) < 0.05
  assert shifted["kid_mean"] > 1.0
  assert shifted["kid_mean"] > 10 * abs(same["kid_mean"]) + 5 * shifted["kid_std"] / 20**0.5
  assert metrics.kid(x, y, num_subsets=20, subset_size=100, seed=1) == same  # seeded


def test_normalised_kid_is_scale_free_where_the_raw_cubic_kernel_breaks_down():
  # Non-negative features of RMS ~6, like a small classifier's penultimate layer.
  x = np.abs(_rng(24).normal(4.0, 4.0, size=(300, 64)))
  y = np.abs(_rng(25).normal(4.0, 4.0, size=(300, 64)))
  raw = metrics.kid(x, y, num_subsets=5, subset_size=150)
  assert abs(raw["kid_mean"]) > 1.0  # the raw estimate drowns in its variance
  same = metrics.kid(x, y, num_subsets=5, subset_size=150, normalize=True)
  assert abs(same["kid_mean"]) < 0.05
  shifted = metrics.kid(x, y + 2.0, num_subsets=5, subset_size=150, normalize=True)
  assert shifted["kid_mean"] > 0.1
  scaled = metrics.kid(10 * x, 10 * (y + 2.0), num_subsets=5, subset_size=150, normalize=True)
  assert scaled["kid_mean"] == pytest.approx(shifted["kid_mean"], rel=1e-3)


def test_kid_rejects_bad_arguments():
  x = np.zeros((5, 3))
  with pytest.raises(ValueError, match="`subset_size` must be >= 2, got 1"):
    metrics.kid(x, x, subset_size=1)
  with pytest.raises(ValueError, match="`num_subsets` must be >= 1, got 0"):
    metrics.kid(x, x, num_subsets=0)
  with pytest.raises(ValueError, match="`fake_features` must be \\[M, D\\] with D = 3"):
    metrics.kid(x, np.zeros((5, 2)))
  with pytest.raises(ValueError, match="`real_features` must hold N >= 2"):
    metrics.kid(x[:1], x)
  with pytest.raises(ValueError, match="`normalize` must be a bool"):
    metrics.kid(x, x, normalize="yes")


# --------------------------------------------------------------------------- PRDC


def _prdc_reference(real, fake, k):
  """Brute force on full distance matrices, float64."""
  sq = lambda a, b: np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1)
  r_real = np.sort(sq(real, real) + np.diag(np.full(len(real), np.inf)), axis=1)[:, k - 1]
  r_fake = np.sort(sq(fake, fake) + np.diag(np.full(len(fake), np.inf)), axis=1)[:, k - 1]
  cross = sq(real, fake)  # [N, M]
  in_real = cross < r_real[:, None]
  in_fake = cross < r_fake[None, :]
  return {"precision": in_real.any(axis=0).mean(), "recall": in_fake.any(axis=1).mean(),
          "density": in_real.sum() / (k * len(fake)), "coverage": in_real.any(axis=1).mean()}


def test_prdc_on_hand_made_points():
  # Real 0, 1, 2, 3 (k = 1 radii: 1 each); fake 0.5, 0.75 (radii 0.25) and 10 (radius 9.25).
  real = np.array([[0.0], [1.0], [2.0], [3.0]])
  fake = np.array([[0.5], [0.75], [10.0]])
  # 0.5 and 0.75 each lie in the balls of 0 and 1; 10 in none. Real 1 is at exactly
  # 0.25 from fake 0.75 (not inside: strict); reals 1, 2, 3 lie in the ball of 10.
  expected = {"precision": 2 / 3, "recall": 3 / 4, "density": 4 / 3, "coverage": 2 / 4}
  for chunk_size in (1, 2, 1024):
    assert metrics.prdc(real, fake, 1, chunk_size=chunk_size) == pytest.approx(expected)
  # k = 2 (radii 2, 1, 1, 2): fakes 1.5 and 1.75 lie in all four balls; 5 is at exactly
  # the radius 2 of real 3 (not inside: strict); 9.5 is far. Fake radii (k = 2) of at
  # least 3.25 put every real point in the ball of 1.5.
  fake = np.array([[1.5], [1.75], [5.0], [9.5]])
  res = metrics.prdc(real, fake, 2, chunk_size=3)
  assert res == pytest.approx({"precision": 0.5, "recall": 1.0, "density": 1.0,
                               "coverage": 1.0})
  assert res == pytest.approx(_prdc_reference(real, fake, 2))


@pytest.mark.parametrize("k", [1, 3])
def test_prdc_in_chunks_equals_the_unchunked_reference(k):
  # Small integer coordinates: every distance is exact in float32, ties included.
  rng = _rng(30)
  real = rng.integers(-3, 4, size=(23, 3)).astype(np.float32)
  fake = rng.integers(-2, 5, size=(17, 3)).astype(np.float32)
  whole = metrics.prdc(real, fake, k, chunk_size=100)
  assert whole == pytest.approx(_prdc_reference(real, fake, k), abs=0)
  for chunk_size in (1, 4, 7):
    assert metrics.prdc(real, fake, k, chunk_size=chunk_size) == whole


def test_prdc_of_identical_sets_has_full_precision_recall_and_coverage():
  x = _rng(31).normal(size=(60, 4))
  res = metrics.prdc(x, x, 5, chunk_size=16)
  assert (res["precision"], res["recall"], res["coverage"]) == (1.0, 1.0, 1.0)
  assert res["density"] == pytest.approx(_prdc_reference(x, x, 5)["density"])


def test_prdc_rejects_bad_arguments():
  x = np.zeros((4, 2))
  with pytest.raises(ValueError, match="`nearest_k` must be below .* nearest_k=4 .*"
                                       "`real_features` of shape \\(4, 2\\)"):
    metrics.prdc(x, np.zeros((9, 2)), 4)
  with pytest.raises(ValueError, match="nearest_k=3 with `fake_features` of shape \\(3, 2\\)"):
    metrics.prdc(x, np.zeros((3, 2)), 3)
  with pytest.raises(ValueError, match="`nearest_k` must be >= 1, got 0"):
    metrics.prdc(x, x, 0)
  with pytest.raises(ValueError, match="`nearest_k` must be an integer"):
    metrics.prdc(x, x, 1.5)
  with pytest.raises(ValueError, match="`chunk_size` must be >= 1"):
    metrics.prdc(x, x, 1, chunk_size=0)
  with pytest.raises(ValueError, match="`fake_features` must be \\[M, D\\] with D = 2"):
    metrics.prdc(x, np.zeros((4, 3)), 1)
  with pytest.raises(ValueError, match="`fake_features` holds 1 NaN"):
    metrics.prdc(x, np.array([[0.0, 1.0], [np.nan, 0.0]]), 1)
  with pytest.raises(ValueError, match="`real_features` must be \\[N, D\\] \\(rank 2\\)"):
    metrics.prdc(np.zeros(4), x, 1)


# --------------------------------------------------------------------------- classifier


def test_inception_score_closed_forms():
  constant = np.tile([0.2, 0.3, 0.5], (20, 1))
  assert metrics.inception_score(constant, num_splits=4) == pytest.approx(
      {"is_mean": 1.0, "is_std": 0.0})
  confident = np.eye(5)[np.arange(50) % 5]  # one-hot, uniform over 5 classes per split
  res = metrics.inception_score(confident, num_splits=10)
  assert res["is_mean"] == pytest.approx(5.0, rel=1e-12) and res["is_std"] < 1e-12
  # Two samples [1, 0] and [0.5, 0.5]: p(y) = [0.75, 0.25].
  kl = (math.log(1 / 0.75) + 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)) / 2
  two = np.array([[1.0, 0.0], [0.5, 0.5]])
  assert metrics.inception_score(two, num_splits=1)["is_mean"] == pytest.approx(math.exp(kl))
  # Splits of 3, 2 and 2 rows (none dropped): scores 3, 2, 2.
  seven = np.eye(3)[[0, 1, 2, 0, 1, 1, 2]]
  res = metrics.inception_score(seven, num_splits=3)
  assert res["is_mean"] == pytest.approx(7 / 3)
  assert res["is_std"] == pytest.approx(np.std([3.0, 2.0, 2.0]))


def test_inception_score_rejects_bad_arguments():
  p = np.full((4, 2), 0.5)
  with pytest.raises(ValueError, match="`num_splits` must be at most .* N = 4"):
    metrics.inception_score(p, num_splits=5)
  with pytest.raises(ValueError, match="`num_splits` must be >= 1"):
    metrics.inception_score(p, num_splits=0)
  with pytest.raises(ValueError, match="row 1 sums to 1.5"):
    metrics.inception_score(np.array([[0.5, 0.5], [1.0, 0.5]]), num_splits=1)
  with pytest.raises(ValueError, match="`probs` must be non-negative"):
    metrics.inception_score(np.array([[1.5, -0.5]]), num_splits=1)
  with pytest.raises(ValueError, match="`probs` holds NaN"):
    metrics.inception_score(np.array([[np.nan, 1.0]]), num_splits=1)
  with pytest.raises(ValueError, match="`probs` must be \\[N, C\\]"):
    metrics.inception_score(np.full(4, 0.25), num_splits=1)


def test_class_coverage_on_hand_made_labels():
  assert metrics.class_coverage(np.array([0, 0, 1, 1]), 4) == pytest.approx(
      {"classes_covered": 2, "class_coverage": 0.5, "class_kl": math.log(2)})
  res = metrics.class_coverage(np.array([3, 3, 3]), 4)
  assert res["classes_covered"] == 1 and res["class_kl"] == pytest.approx(math.log(4))
  assert metrics.class_coverage(np.arange(8) % 4, 4)["class_kl"] == pytest.approx(0.0)
  ref = np.array([0, 0, 0, 1])
  # Unsmoothed reference [0.75, 0.25, 0, 0]; generated [0.5, 0.5, 0, 0].
  plain = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
  res = metrics.class_coverage(np.array([0, 1]), 4, ref, pseudo_count=0.0)
  assert res["class_kl"] == pytest.approx(plain)
  # Add-one smoothing: reference counts [4, 2, 1, 1] / 8.
  smooth = 0.5 * math.log(0.5 / 0.5) + 0.5 * math.log(0.5 / 0.25)
  assert metrics.class_coverage(np.array([0, 1]), 4, ref)["class_kl"] == pytest.approx(smooth)
  # A generated class the reference lacks: inf without smoothing, finite with it.
  assert metrics.class_coverage(np.array([2]), 4, ref, pseudo_count=0.0)["class_kl"] == math.inf
  assert metrics.class_coverage(np.array([2]), 4, ref)["class_kl"] == pytest.approx(math.log(8))


def test_class_coverage_rejects_bad_arguments():
  with pytest.raises(ValueError, match="`predicted_labels` must lie in \\[0, num_classes = 3\\)"):
    metrics.class_coverage(np.array([0, 3]), 3)
  with pytest.raises(ValueError, match="`predicted_labels` must hold integer"):
    metrics.class_coverage(np.array([0.0, 1.0]), 3)
  with pytest.raises(ValueError, match="`predicted_labels` must be \\[N\\]"):
    metrics.class_coverage(np.zeros((2, 2), int), 3)
  with pytest.raises(ValueError, match="`predicted_labels` must hold N >= 1"):
    metrics.class_coverage(np.zeros(0, int), 3)
  with pytest.raises(ValueError, match="`reference_labels` must lie in"):
    metrics.class_coverage(np.array([0]), 3, np.array([-1]))
  with pytest.raises(ValueError, match="`num_classes` must be >= 1"):
    metrics.class_coverage(np.array([0]), 0)
  with pytest.raises(ValueError, match="`pseudo_count` must be a finite number >= 0"):
    metrics.class_coverage(np.array([0]), 3, np.array([0]), pseudo_count=-1.0)


# --------------------------------------------------------------------------- combined


def test_sample_quality_combines_the_metrics_under_flat_keys():
  x, y = _rng(40).normal(size=(50, 4)), _rng(41).normal(size=(40, 4)) + 0.5
  res = metrics.sample_quality(x, y, nearest_k=3, kid_subsets=3, kid_subset_size=20, seed=2)
  assert tuple(res) == metrics.SAMPLE_QUALITY_KEYS
  assert res["fid"] == metrics.fid_from_features(x, y)
  kid = metrics.kid(x, y, num_subsets=3, subset_size=20, seed=2)
  assert (res["kid_mean"], res["kid_std"]) == (kid["kid_mean"], kid["kid_std"])
  assert {k: res[k] for k in metrics.PRDC_KEYS} == metrics.prdc(x, y, 3)
  with pytest.raises(ValueError, match="`nearest_k` must be below"):
    metrics.sample_quality(x, y, nearest_k=40)
  with pytest.raises(ValueError, match="`kid_subset_size` must be >= 2"):
    metrics.sample_quality(x, y, kid_subset_size=1)
