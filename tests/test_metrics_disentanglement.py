"""Disentanglement metrics on synthetic codes whose answers are known in closed form."""

import math

import numpy as np
import pytest

from latentjax import metrics

SIZES = (4, 5, 3)
PERM = [2, 0, 1]
SCALE = np.array([-2.0, 0.5, 7.0])
SHIFT = np.array([1.0, -3.0, 0.2])


def _grid(sizes=SIZES) -> np.ndarray:
  mesh = np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij")
  return np.stack([m.reshape(-1) for m in mesh], axis=1)


def _copy(factors) -> np.ndarray:
  """A permuted, scaled (one sign flipped) and shifted copy of the factors."""
  return np.asarray(factors, np.float64)[:, PERM] * SCALE[None, :] + SHIFT[None, :]


def _sampler(sizes=SIZES) -> metrics.GridSampler:
  """Observations are the factor vectors themselves, as [N, 1, 1, F] images."""
  return metrics.GridSampler(sizes, lambda f: f.reshape(len(f), 1, 1, -1).astype(np.float32))


def _identity(x):
  """The factors back from the images: permuted, scaled, shifted when F = 3."""
  f = np.asarray(x).reshape(len(x), -1)
  return _copy(f) if f.shape[1] == 3 else f * 2.0 - 1.0


def _noise_encoder(seed, k=4):
  rng = np.random.default_rng(seed)
  return lambda x: rng.normal(size=(len(x), k))


# --- discretisation, mutual information, entropy ----------------------------------------


def test_discretize_matches_np_histogram_including_the_maximum():
  rng = np.random.default_rng(0)
  codes = np.concatenate([rng.normal(size=(300, 2)),
                          np.linspace(0.0, 1.0, 300)[:, None]], axis=1)  # values on edges
  for num_bins in (1, 7, 20):
    d = metrics.discretize(codes, num_bins)
    assert d.dtype == np.int64 and d.min() >= 0 and d.max() == num_bins - 1
    for k in range(codes.shape[1]):
      counts, edges = np.histogram(codes[:, k], num_bins)
      np.testing.assert_array_equal(np.bincount(d[:, k], minlength=num_bins), counts)
      assert d[np.argmax(codes[:, k]), k] == num_bins - 1
      inside = (codes[:, k] >= edges[d[:, k]]) & (codes[:, k] <= edges[d[:, k] + 1])
      assert np.all(inside)


def test_discretize_constant_code_falls_in_one_bin():
  d = metrics.discretize(np.full((10, 1), 3.5), 20)
  assert np.unique(d).shape == (1,)
  np.testing.assert_array_equal(np.bincount(d[:, 0], minlength=20),
                                np.histogram(np.full(10, 3.5), 20)[0])


def test_mutual_info_hand_computed_2x2():
  codes = np.array([[0], [1], [1], [1]])
  factors = np.array([[5], [5], [9], [9]])  # any integer values
  # p(c, f): (0, 5) 1/4, (1, 5) 1/4, (1, 9) 1/2; p(c) = (1/4, 3/4), p(f) = (1/2, 1/2).
  expected = (0.25 * math.log(0.25 / 0.125) + 0.25 * math.log(0.25 / 0.375)
              + 0.5 * math.log(0.5 / 0.375))
  mi = metrics.discrete_mutual_info(codes, factors)
  assert mi.shape == (1, 1)
  assert mi[0, 0] == pytest.approx(expected, rel=1e-12)
  np.testing.assert_allclose(metrics.discrete_entropy(np.array([[5, 1], [5, 1], [9, 1], [9, 1]])),
                             [math.log(2), 0.0], atol=1e-15)
  # A variable with itself: I = H.
  f = np.random.default_rng(1).integers(6, size=(200, 1))
  assert metrics.discrete_mutual_info(f, f)[0, 0] == pytest.approx(
      metrics.discrete_entropy(f)[0], rel=1e-12)


# --- MIG ------------------------------------------------------------------------------


def test_mig_is_one_for_a_permuted_scaled_shifted_copy():
  factors = np.repeat(_grid(), 2, axis=0)
  assert metrics.mig(_copy(factors), factors) == pytest.approx(1.0, abs=1e-6)
  # A constant factor is skipped, a constant extra code carries no information.
  with_const = np.concatenate([factors, np.zeros((len(factors), 1), int)], axis=1)
  codes = np.concatenate([_copy(factors), np.full((len(factors), 1), 2.0)], axis=1)
  assert metrics.mig(codes, with_const) == pytest.approx(1.0, abs=1e-6)


def test_mig_of_independent_codes_is_near_zero():
  rng = np.random.default_rng(0)
  factors = rng.integers(0, SIZES, size=(2000, 3))
  assert 0.0 <= metrics.mig(rng.normal(size=(2000, 4)), factors) < 0.02


def test_mig_of_a_code_shared_by_two_factors_halves():
  # One code equal to factor 0, the other a duplicate: gap 0 for factor 0.
  factors = _grid((4, 4))
  codes = np.stack([factors[:, 0], factors[:, 0] * 2.0, factors[:, 1]], axis=1)
  assert metrics.mig(codes, factors) == pytest.approx(0.5, abs=1e-6)
  assert metrics.mig(factors[:, :1] * 1.0, factors[:, :1]) == pytest.approx(1.0)  # K = 1


# --- SAP ------------------------------------------------------------------------------


def test_sap_copy_and_independent_codes():
  rng = np.random.default_rng(0)
  binary, binary_test = rng.integers(2, size=(400, 3)), rng.integers(2, size=(200, 3))
  # Each code predicts its factor perfectly, the others are at chance (1/2).
  assert metrics.sap(binary * 1.0, binary, binary_test * 1.0, binary_test) == pytest.approx(
      0.5, abs=0.07)
  train, test = rng.integers(0, SIZES, size=(400, 3)), rng.integers(0, SIZES, size=(200, 3))
  chance_gap = np.mean([1 - 1 / s for s in SIZES])  # balanced accuracy 1 vs 1 / V
  thr = metrics.sap(_copy(train), train, _copy(test), test, classifier="threshold")
  assert thr == pytest.approx(chance_gap, abs=0.06)
  noise = metrics.sap(rng.normal(size=(400, 3)), train, rng.normal(size=(200, 3)), test)
  assert 0.0 <= noise < 0.1
  assert metrics.sap(_copy(train), train, _copy(test), test,
                     continuous_factors=True) == pytest.approx(1.0, abs=0.02)  # R^2 1 vs ~0


# --- DCI ------------------------------------------------------------------------------


def test_dci_from_importance_closed_forms():
  assert metrics.dci_from_importance(np.eye(3)[PERM]) == {"disentanglement": 1.0,
                                                          "completeness": 1.0}
  uniform = metrics.dci_from_importance(np.ones((4, 3)))
  assert uniform["disentanglement"] == pytest.approx(0.0, abs=1e-12)
  assert uniform["completeness"] == pytest.approx(0.0, abs=1e-12)
  # Two codes, both only for factor 0: disentangled, but factor 0 is split in two.
  both = metrics.dci_from_importance(np.array([[1.0, 0.0], [1.0, 0.0]]))
  assert both["disentanglement"] == pytest.approx(1.0)
  assert both["completeness"] == pytest.approx(0.0, abs=1e-12)
  assert metrics.dci_from_importance(np.zeros((2, 2))) == {"disentanglement": 0.0,
                                                           "completeness": 0.0}


def test_dci_gbt_copy_high_rotation_low():
  rng = np.random.default_rng(0)
  train, test = rng.integers(0, SIZES, size=(150, 3)), rng.integers(0, SIZES, size=(60, 3))
  res = metrics.dci(_copy(train), train, _copy(test), test)
  assert tuple(res) == metrics.DCI_KEYS
  assert res["disentanglement"] > 0.9 and res["completeness"] > 0.9
  assert res["informativeness_test"] == pytest.approx(1.0)
  q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
  rot = lambda f: (f - np.array([1.5, 2.0, 1.0])[None, :]) @ q
  res = metrics.dci(rot(train), train, rot(test), test)
  assert res["disentanglement"] < 0.5 and res["completeness"] < 0.5


def test_dci_logistic_importance():
  rng = np.random.default_rng(1)
  train, test = rng.integers(0, SIZES, size=(300, 3)), rng.integers(0, SIZES, size=(100, 3))
  res = metrics.dci(_copy(train), train, _copy(test), test, importance="logistic")
  assert res["disentanglement"] > 0.85 and res["completeness"] > 0.85


# --- samplers and intervention scores ---------------------------------------------------


def test_sprites_sampler_renders_the_chosen_factors():
  from latentjax.data._sprites_render import render_sprites_from_labels, sprites_factor_labels
  sampler = metrics.sprites_sampler("32_lite", resolution=8)
  assert sampler.factor_sizes == (3, 6, 10, 8, 8)
  assert isinstance(sampler, metrics.FactorSampler)
  factors = np.array([[0, 5, 9, 7, 0], [2, 0, 1, 3, 4]])
  images = sampler.observations(factors)
  assert images.shape == (2, 8, 8, 1) and images.dtype == np.float32
  labels = sprites_factor_labels("32_lite")
  expected = render_sprites_from_labels(
      *[labels[k][factors[:, j]] for j, k in enumerate(labels)], resolution=8)
  np.testing.assert_array_equal(images, expected)


def test_array_sampler_looks_up_the_grid():
  grid = _grid((2, 3))[::-1]  # any row order
  images = (grid[:, 0] * 10 + grid[:, 1]).astype(np.uint8).reshape(-1, 1, 1, 1)
  sampler = metrics.array_sampler(images, grid * 3 + 1)  # labels need not start at 0
  assert sampler.factor_sizes == (2, 3)
  out = sampler.observations(np.array([[1, 2], [0, 1]]))
  assert out.dtype == np.float32 and out[:, 0, 0, 0].tolist() == [12.0, 1.0]
  with pytest.raises(ValueError, match="exactly once"):
    metrics.array_sampler(images[:5], grid[:5])
  with pytest.raises(ValueError, match="exactly once"):
    metrics.array_sampler(images, np.concatenate([grid[:5], grid[:1]]))
  with pytest.raises(ValueError, match="factor_labels"):
    metrics.array_sampler(images, grid[:4])


def test_sample_codes_and_factors_in_equal_batches():
  sizes_seen = []

  def encode(x):
    sizes_seen.append(len(x))
    return np.asarray(x).reshape(len(x), -1)

  codes, factors = metrics.sample_codes_and_factors(encode, _sampler(), 10, seed=3,
                                                    batch_size=4)
  assert sizes_seen == [4, 4, 4] and factors.shape == (10, 3)
  np.testing.assert_array_equal(codes, factors)
  assert np.all((factors >= 0) & (factors < np.array(SIZES)[None, :]))
  again, _ = metrics.sample_codes_and_factors(encode, _sampler(), 10, seed=3)
  np.testing.assert_array_equal(again, codes)


def test_betavae_score_perfect_and_random_encoders():
  res = metrics.betavae_score(_identity, _sampler(), 0, num_train=300, num_eval=300)
  assert res == {"train_accuracy": 1.0, "eval_accuracy": 1.0}
  res = metrics.betavae_score(_noise_encoder(1), _sampler(), 0, num_train=300, num_eval=900)
  assert abs(res["eval_accuracy"] - 1 / 3) < 0.08


def test_factorvae_score_perfect_random_and_pruned():
  rng = np.random.default_rng(2)
  with_noise = lambda x: np.concatenate([_identity(x), 0.01 * rng.normal(size=(len(x), 2))],
                                        axis=1)
  kw = {"num_train": 200, "num_eval": 200, "num_variance_estimate": 500}
  res = metrics.factorvae_score(with_noise, _sampler(), 0, **kw)
  assert res == {"train_accuracy": 1.0, "eval_accuracy": 1.0, "num_active_dims": 3}
  assert metrics.factorvae_score(with_noise, _sampler(), 0, prune_std=0.0,
                                 **kw)["num_active_dims"] == 5
  res = metrics.factorvae_score(_noise_encoder(3), _sampler(), 0, num_train=300, num_eval=900,
                                num_variance_estimate=500)
  assert abs(res["eval_accuracy"] - 1 / 3) < 0.08 and res["num_active_dims"] == 4
  tiny = lambda x: 0.001 * rng.normal(size=(len(x), 3))
  assert metrics.factorvae_score(tiny, _sampler(), 0, **kw) == {
      "train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}


def test_disentanglement_scores_of_a_perfect_encoder():
  res = metrics.disentanglement_scores(_identity, _sampler((3, 3)), 0, num_train=120,
                                       num_test=60, num_variance_estimate=100, batch_size=16,
                                       dci_importance="logistic", sap_classifier="threshold")
  assert tuple(res) == metrics.SCORE_KEYS
  assert res["mig"] > 0.9 and res["sap"] > 0.5 and res["dci_disentanglement"] > 0.8
  assert res["betavae_eval_accuracy"] == 1.0 and res["factorvae_eval_accuracy"] == 1.0
  assert res["factorvae_num_active_dims"] == 2


# --- errors ---------------------------------------------------------------------------


def test_value_errors_name_the_argument():
  f = _grid()
  c = _copy(f)
  cases = [
      (lambda: metrics.mig(c[:-1], f), r"`codes` and `factors`.*same length"),
      (lambda: metrics.mig(np.where(np.eye(60, 3) > 0, np.nan, c), f), "`codes` must be finite"),
      (lambda: metrics.mig(c[:, 0], f), r"`codes` must be \[N, K\]"),
      (lambda: metrics.mig(c, f[:, 0]), r"`factors` must be \[N, F\]"),
      (lambda: metrics.mig(c[:1], f[:1]), "N >= 2"),
      (lambda: metrics.mig(c, f, num_bins=0), "`num_bins`"),
      (lambda: metrics.mig(c, f * 0.5), "`factors` must hold integer"),
      (lambda: metrics.mig(c, np.zeros_like(f)), "more than one value"),
      (lambda: metrics.discretize(c, 0), "`num_bins`"),
      (lambda: metrics.discretize(np.full((2, 1), np.inf)), "`codes` must be finite"),
      (lambda: metrics.discrete_mutual_info(f[:3], f), "same number of rows"),
      (lambda: metrics.sap(c[:, :1], f, c[:, :1], f), "K >= 2"),
      (lambda: metrics.sap(c, f, c[:, :2], f), "`test_codes` must have as many columns"),
      (lambda: metrics.sap(c, f, c, f[:, :2]), "`test_factors` must have as many columns"),
      (lambda: metrics.sap(c, f, c, f, classifier="svc"), "`classifier`"),
      (lambda: metrics.dci(c, f, c, f, importance="lasso"), "`importance`"),
      (lambda: metrics.dci(c, f, c[:-1], f), "`test_codes` and `test_factors`"),
      (lambda: metrics.dci_from_importance(-np.eye(2)), "`importance_matrix`"),
      (lambda: metrics.betavae_score(_identity, object(), 0), "`sampler`"),
      (lambda: metrics.betavae_score(_identity, _sampler(), 0, num_train=0), "`num_train`"),
      (lambda: metrics.factorvae_score(_identity, _sampler(), 0, batch_size=1), "`batch_size`"),
      (lambda: metrics.factorvae_score(_identity, _sampler(), 0, prune_std=-1.0), "`prune_std`"),
      (lambda: metrics.sample_codes_and_factors(lambda x: np.zeros(len(x)), _sampler(), 4, 0),
       "`representation_fn`"),
      (lambda: metrics.sample_codes_and_factors(lambda x: np.full((len(x), 1), np.nan),
                                                _sampler(), 4, 0), "`representation_fn`"),
      (lambda: _sampler().observations(np.array([[0, 5, 0]])), r"`factors`\[:, 1\]"),
      (lambda: metrics.GridSampler((2, 0), lambda f: f), "`factor_sizes`"),
      (lambda: metrics.sprites_sampler("48"), "Unknown sprites config"),
      (lambda: metrics.sprites_sampler(resolution=0), "`resolution`"),
  ]
  for call, pattern in cases:
    with pytest.raises(ValueError, match=pattern):
      call()
