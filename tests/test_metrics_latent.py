"""Latent-space metrics and likelihood bounds against closed forms on tiny models."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import metrics

RNG = np.random.RandomState(0)
W = jnp.asarray(RNG.randn(5, 3), jnp.float32)  # a linear decoder R^3 -> R^5


def _normal_codes(k, n):
  return jax.random.normal(k, (n, 3))


def _blobs(n_per=20, spread=0.3, seed=0):
  rng = np.random.RandomState(seed)
  centres = np.array([[0, 0], [10, 0], [0, 10]], np.float32)
  labels = np.repeat(np.arange(3), n_per)
  return centres[labels] + spread * rng.randn(3 * n_per, 2).astype(np.float32), labels


# Perceptual path length.


def test_ppl_is_zero_for_a_constant_decoder(key):
  res = metrics.perceptual_path_length(key, lambda z: jnp.ones((z.shape[0], 4, 4)), None,
                                       _normal_codes, num_samples=50, batch_size=25)
  assert res["ppl_mean"] == 0.0 and res["ppl_std"] == 0.0 and res["ppl_median"] == 0.0


def test_ppl_of_a_linear_decoder_with_lerp_is_the_squared_decoded_difference(key):
  # Features 2 x scale every sample by 4.
  res = metrics.perceptual_path_length(
      key, lambda z: z @ W.T, lambda x: 2.0 * x, _normal_codes, num_samples=7, batch_size=3,
      epsilon=1e-2, method="lerp", lower_percentile=0.0, upper_percentile=100.0)
  # The documented key use: batch i splits fold_in(key, i) into z0's, z1's and t's keys.
  d = []
  for i in range(3):
    k0, k1, _ = jax.random.split(jax.random.fold_in(key, i), 3)
    diff = (_normal_codes(k1, 3) - _normal_codes(k0, 3)) @ W.T
    d.append(4.0 * np.sum(np.asarray(diff, np.float64) ** 2, axis=1))
  d = np.concatenate(d)[:7]
  assert res["num_kept"] == 7
  np.testing.assert_allclose(res["ppl_mean"], d.mean(), rtol=1e-4)
  np.testing.assert_allclose(res["ppl_median"], np.median(d), rtol=1e-4)
  np.testing.assert_allclose(res["ppl_std"], d.std(), rtol=1e-3)


def test_ppl_slerp_percentile_filter_drops_the_extremes(key):
  # With 100 distinct samples the 1st and 99th percentiles drop exactly the two extremes.
  res = metrics.perceptual_path_length(key, lambda z: jnp.tanh(z @ W.T), None, _normal_codes,
                                       num_samples=100, batch_size=50)
  assert res["num_kept"] == 98 and 0 < res["ppl_median"] and res["ppl_std"] > 0


def test_ppl_rejects_bad_options(key):
  dec = lambda z: z
  with pytest.raises(ValueError, match="`method`"):
    metrics.perceptual_path_length(key, dec, None, _normal_codes, method="linear")
  with pytest.raises(ValueError, match="`lower_percentile`"):
    metrics.perceptual_path_length(key, dec, None, _normal_codes, lower_percentile=50,
                                   upper_percentile=10)
  with pytest.raises(ValueError, match="`epsilon`"):
    metrics.perceptual_path_length(key, dec, None, _normal_codes, epsilon=0.0)
  with pytest.raises(ValueError, match="`codes_fn`"):
    metrics.perceptual_path_length(key, dec, None, lambda k, n: jnp.zeros((n,)),
                                   num_samples=4)
  with pytest.raises(ValueError, match="non-finite"):
    metrics.perceptual_path_length(key, lambda z: jnp.log(z - 100.0), None, _normal_codes,
                                   num_samples=4)


# Linear probe.


def test_linear_probe_is_perfect_on_separable_codes_and_chance_on_random_ones():
  codes, labels = _blobs(n_per=40)
  perm = np.random.RandomState(1).permutation(len(labels))
  codes, labels = codes[perm], labels[perm]
  assert metrics.linear_probe_accuracy(codes[:60], labels[:60], codes[60:],
                                       labels[60:]) == 1.0
  rng = np.random.RandomState(2)
  z, y = rng.randn(1200, 4), rng.randint(0, 3, 1200)
  acc = metrics.linear_probe_accuracy(z[:600], y[:600], z[600:], y[600:])
  assert abs(acc - 1 / 3) < 0.08


def test_linear_probe_rejects_bad_input():
  z, y = np.zeros((10, 2)), np.arange(10) % 2
  with pytest.raises(ValueError, match=r"`train_labels` must be \[N\] = \[10\]"):
    metrics.linear_probe_accuracy(z, y[:9], z, y)
  with pytest.raises(ValueError, match="`test_codes` must be finite"):
    metrics.linear_probe_accuracy(z, y, np.full((3, 2), np.nan), y[:3])
  with pytest.raises(ValueError, match=r"`train_codes` must be \[N, D\]"):
    metrics.linear_probe_accuracy(z[:, 0], y, z, y)
  with pytest.raises(ValueError, match="`test_codes` must have D = 2"):
    metrics.linear_probe_accuracy(z, y, np.zeros((10, 3)), y)
  with pytest.raises(ValueError, match="at least 2 classes"):
    metrics.linear_probe_accuracy(z, np.zeros(10), z, y)


# Clusters.


def test_cluster_scores_are_one_on_separated_blobs(key):
  codes, labels = _blobs()
  res = metrics.cluster_scores(key, codes, labels)
  assert res == {"nmi": pytest.approx(1.0), "ari": pytest.approx(1.0), "num_clusters": 3}
  names = np.array(["a", "b", "c"])[labels]
  res = metrics.cluster_scores(key, codes, names, num_restarts=3)
  assert res["ari"] == pytest.approx(1.0) and res["num_clusters"] == 3
  # Two clusters for three classes: one merge, NMI strictly between 0 and 1.
  res = metrics.cluster_scores(key, codes, labels, 2)
  assert res["num_clusters"] == 2 and 0.3 < res["nmi"] < 1.0 and res["ari"] < 1.0


def test_cluster_scores_reject_bad_input(key):
  codes, labels = _blobs()
  with pytest.raises(ValueError, match=r"`labels` must be \[N\] = \[60\]"):
    metrics.cluster_scores(key, codes, labels[:5])
  with pytest.raises(ValueError, match="`codes` must be finite"):
    metrics.cluster_scores(key, np.where(codes > 9, np.nan, codes), labels)
  with pytest.raises(ValueError, match=r"`codes` must be \[N, D\]"):
    metrics.cluster_scores(key, codes[:, 0], labels)
  with pytest.raises(ValueError, match="`num_clusters` must be in"):
    metrics.cluster_scores(key, codes, labels, 61)
  with pytest.raises(ValueError, match="`num_restarts`"):
    metrics.cluster_scores(key, codes, labels, num_restarts=0)


# Geodesic length ratio.


def test_geodesic_ratio_of_a_linear_decoder_is_one(key):
  z0, z1 = jax.random.normal(key, (2, 4, 3))
  decoder = jax.tree_util.Partial(jnp.matmul, W)  # cacheable: both lengths compile once
  res = metrics.geodesic_length_ratio(decoder, z0, z1, num_points=8, num_steps=30)
  assert res["ratio_mean"] == pytest.approx(1.0, abs=1e-4)
  assert res["ratio_median"] == pytest.approx(1.0, abs=1e-4)
  straight = np.linalg.norm(np.asarray((z1 - z0) @ W.T), axis=1).mean()
  assert res["straight_length_mean"] == pytest.approx(straight, rel=1e-4)
  assert res["geodesic_length_mean"] == pytest.approx(straight, rel=1e-4)
  with pytest.raises(ValueError, match=r"`z0` must be \[B, D\]"):
    metrics.geodesic_length_ratio(decoder, z0[0], z1[0])
  with pytest.raises(ValueError, match="`z1` must have the shape of `z0`"):
    metrics.geodesic_length_ratio(decoder, z0, z1[:2])


# Likelihood bounds on a linear-Gaussian VAE: p(z) = N(0, I), p(x | z) = N(W z, s^2 I),
# so p(x) = N(0, W W^T + s^2 I) and q*(z | x) = N(M^-1 W^T x, s^2 M^-1), M = W^T W + s^2 I.

S = 0.5
Q = np.linalg.qr(np.random.RandomState(3).randn(4, 2))[0]
W_LG = jnp.asarray(Q * np.array([2.0, 0.7]), jnp.float32)  # orthogonal columns: M diagonal
M_DIAG = np.diag(np.asarray(W_LG.T @ W_LG)) + S**2


def _log_px(x):
  cov = np.asarray(W_LG @ W_LG.T, np.float64) + S**2 * np.eye(4)
  _, logdet = np.linalg.slogdet(cov)
  maha = np.einsum("bi,ij,bj->b", x, np.linalg.inv(cov), x)
  return -0.5 * (maha + logdet + 4 * math.log(2 * math.pi))


def _encoder(mean_scale, var_scale):
  def encode(x):
    mean = mean_scale * (x @ W_LG) / jnp.asarray(M_DIAG, jnp.float32)[None, :]
    logvar = jnp.log(var_scale * S**2 / jnp.asarray(M_DIAG, jnp.float32))
    return mean, jnp.broadcast_to(logvar[None, :], mean.shape)
  return encode


def _data(n=64):
  rng = np.random.RandomState(4)
  z = rng.randn(n, 2)
  return (z @ np.asarray(W_LG, np.float64).T + S * rng.randn(n, 4)).astype(np.float32)


def _bounds(encode, batches, key, **kw):
  return metrics.likelihood_bounds(encode, lambda z: z @ W_LG.T, batches, key,
                                   likelihood="gaussian", gaussian_scale=S, **kw)


def test_exact_posterior_makes_every_bound_log_px_with_padding(key):
  x = _data()
  res = _bounds(_encoder(1.0, 1.0), [x[:40], {"image": x[40:]}], key)  # 24 rows padded
  want = _log_px(x.astype(np.float64)).mean()
  assert res["num_examples"] == 64 and res["input_dims"] == 4
  for name in ("iwae_1", "iwae_10", "iwae_100"):  # constant importance weights: exact
    assert res[f"{name}_nats"] == pytest.approx(want, abs=1e-4)
    assert res[f"{name}_bits_per_dim"] == pytest.approx(-want / (4 * math.log(2)), abs=1e-4)
  # The ELBO's reconstruction term is still a one-sample estimate: exact in expectation.
  assert res["elbo_nats"] == pytest.approx(want, abs=0.5)


def test_iwae_bounds_increase_in_k_towards_log_px(key):
  x = _data(256)
  res = _bounds(_encoder(0.7, 2.0), [x[:100], x[100:200], x[200:]], key,
                num_samples=(100, 10, 1), input_dims=8)
  log_px = _log_px(x.astype(np.float64)).mean()
  elbo, k1, k10, k100 = (res[f"{n}_nats"] for n in ("elbo", "iwae_1", "iwae_10", "iwae_100"))
  assert k1 + 0.1 < k10 < k100 < log_px + 0.01
  assert elbo + 0.1 < k10 and abs(elbo - k1) < 0.2  # the same expectation
  assert log_px - k100 < 0.25 * (log_px - k10)  # the gap closes as k grows
  assert res["iwae_100_bits_per_dim"] == pytest.approx(-k100 / (8 * math.log(2)))
  # Common random numbers: IWAE-k's sample keys are a prefix of IWAE-100's.
  np.testing.assert_array_equal(jax.random.split(key, 10), jax.random.split(key, 100)[:10])


def test_conditional_bounds_pass_the_labels(key):
  # A label-shifted linear-Gaussian model: x - y is the unconditional model's data.
  x, y = _data(16), np.linspace(-1.0, 1.0, 16).astype(np.float32)
  enc = _encoder(1.0, 1.0)
  res = metrics.likelihood_bounds(
      lambda x_, y_: enc(x_ - y_[:, None]), lambda z, y_: z @ W_LG.T + y_[:, None],
      [{"image": x[:10] + y[:10, None], "label": y[:10]},
       {"image": x[10:] + y[10:, None], "label": y[10:]}], key, num_samples=(1, 4),
      likelihood="gaussian", gaussian_scale=S, label_key="label")
  assert res["iwae_4_nats"] == pytest.approx(_log_px(x.astype(np.float64)).mean(), abs=1e-4)
  with pytest.raises(ValueError, match="no 'label' entry"):
    _bounds(enc, [x], key, label_key="label")


def test_likelihood_bounds_reject_bad_input(key):
  enc = _encoder(1.0, 1.0)
  x = _data(8)
  with pytest.raises(ValueError, match="at least one batch"):
    _bounds(enc, [], key)
  with pytest.raises(ValueError, match=r"`batches`\[0\] must be \[B, ...\]"):
    _bounds(enc, [x[:, 0]], key)
  with pytest.raises(ValueError, match=r"`batches`\[0\] holds 1 NaN"):
    _bounds(enc, [np.where(np.arange(4) == 2, np.nan, x)[:1], x], key)
  with pytest.raises(ValueError, match=r"`batches`\[1\] must have data shape \(4,\)"):
    _bounds(enc, [x, x[:, :3]], key)
  with pytest.raises(ValueError, match="no 'image' entry \\(`input_key`\\)"):
    _bounds(enc, [{"x": x}], key)
  with pytest.raises(ValueError, match="`num_samples`"):
    _bounds(enc, [x], key, num_samples=(0, 10))
  with pytest.raises(ValueError, match="`likelihood`"):
    metrics.likelihood_bounds(enc, lambda z: z, [x], key, likelihood="poisson")
