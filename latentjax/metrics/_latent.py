"""Quality of a latent space: path length, linear separability, clusters, geodesic detours.

    res = metrics.perceptual_path_length(key, decoder, None, codes_fn)   # res["ppl_mean"]
    acc = metrics.linear_probe_accuracy(z_train, y_train, z_test, y_test)
    res = metrics.cluster_scores(key, codes, labels)                     # res["nmi"], res["ari"]
    res = metrics.geodesic_length_ratio(decoder_one, z0, z1)             # res["ratio_mean"]

Perceptual path length follows Karras et al. (2019, StyleGAN); the probe is multinomial
logistic regression (scikit-learn) on standardised codes; clusters are
`latent_ops.kmeans` scored by normalized mutual information and the adjusted Rand index
(Hubert & Arabie, 1985); geodesics are `latent_ops.geodesic`. Results are Python floats.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo
from latentjax.metrics._features import as_matrix

PPL_METHODS = ("lerp", "slerp")


def _labels_for(name: str, labels, n: int, codes_name: str) -> np.ndarray:
  y = np.asarray(labels)
  if y.shape != (n,):
    raise ValueError(f"`{name}` must be [N] = [{n}] (the first axis of `{codes_name}`), "
                     f"got shape {y.shape}")
  if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
    raise ValueError(f"`{name}` must not hold NaN/inf, got {int(np.sum(~np.isfinite(y)))}")
  return y


def _positive_int(name: str, value, minimum: int = 1) -> int:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
    raise ValueError(f"`{name}` must be an int >= {minimum}, got {value!r}")
  return int(value)


def perceptual_path_length(key: jax.Array, decoder, feature_fn, codes_fn, *,
                           num_samples: int = 10_000, epsilon: float = 1e-4,
                           method: str = "slerp", batch_size: int = 100,
                           lower_percentile: float = 1.0, upper_percentile: float = 99.0,
                           jit: bool = True) -> dict:
  """Perceptual path length of a generator (Karras et al., 2019).

  For pairs z0, z1 drawn by ``codes_fn`` and t ~ U(0, 1), each sample is
  ``||f(G(c(t))) - f(G(c(t + epsilon)))||^2 / epsilon^2`` with ``c`` the ``method``
  interpolation from z0 to z1 (`latent_ops.lerp` or `latent_ops.slerp`), G the decoder
  and f the features (flattened). Samples outside the ``[lower, upper]`` percentiles are
  dropped, as in the paper, and the rest summarised. For a linear decoder ``z -> W z``,
  identity features and lerp every sample is ``||W (z1 - z0)||^2``. Batch ``i`` (of
  ``min(batch_size, num_samples)`` samples) splits ``fold_in(key, i)`` into three keys:
  z0's, z1's and t's; the last batch is computed whole and truncated.

  Args:
    key: PRNG key.
    decoder: callable z [B, D] -> images [B, ...] (a whole batch per call; the 2B codes
      c(t), c(t + epsilon) go through one call).
    feature_fn: callable images [B, ...] -> features [B, ...], e.g. a perceptual
      embedding; None uses the images themselves.
    codes_fn: callable (key, n) -> [n, D] codes, e.g. the prior's sampler.
    num_samples: number of (z0, z1, t) samples, >= 1.
    epsilon: the finite-difference step in t, > 0.
    method: "slerp" (the paper's choice for Gaussian z) or "lerp".
    batch_size: samples per compiled step, >= 1.
    lower_percentile: samples below this percentile are dropped (0 keeps all).
    upper_percentile: samples above this percentile are dropped (100 keeps all).
    jit: compile the step (decoder, feature_fn and codes_fn must then be traceable).

  Returns:
    ``{"ppl_mean", "ppl_std", "ppl_median": float, "num_kept": int}``.

  Raises:
    ValueError: bad option values, ``codes_fn`` not returning [n, D], the decoder or
      features not keeping the batch axis, or non-finite distances.

  Example:
    >>> codes_fn = lambda k, n: jax.random.normal(k, (n, 8))
    >>> perceptual_path_length(key, lambda z: z @ W.T, None, codes_fn, method="lerp")
  """
  num_samples = _positive_int("num_samples", num_samples)
  batch_size = _positive_int("batch_size", batch_size)
  if method not in PPL_METHODS:
    raise ValueError(f"`method` must be one of {PPL_METHODS}, got {method!r}")
  if not (np.isscalar(epsilon) and float(epsilon) > 0 and math.isfinite(float(epsilon))):
    raise ValueError(f"`epsilon` must be a finite float > 0, got {epsilon!r}")
  lo_p, hi_p = float(lower_percentile), float(upper_percentile)
  if not 0.0 <= lo_p < hi_p <= 100.0:
    raise ValueError("`lower_percentile` and `upper_percentile` must satisfy "
                     f"0 <= lower < upper <= 100, got {lower_percentile!r}, {upper_percentile!r}")
  interp = lo.lerp if method == "lerp" else lo.slerp
  n = min(batch_size, num_samples)
  eps = float(epsilon)

  def step(k):
    k0, k1, kt = jax.random.split(k, 3)
    z0, z1 = jnp.asarray(codes_fn(k0, n)), jnp.asarray(codes_fn(k1, n))
    if z0.ndim != 2 or z0.shape[0] != n or z1.shape != z0.shape:
      raise ValueError(f"`codes_fn`(key, {n}) must return [{n}, D] codes, got shape "
                       f"{z0.shape}")
    t = jax.random.uniform(kt, (n, 1), z0.dtype)
    za, zb = interp(z0, z1, t), interp(z0, z1, t + eps)
    x = decoder(jnp.concatenate([za, zb], axis=0))
    f = x if feature_fn is None else feature_fn(x)
    f = jnp.asarray(f)
    if f.ndim < 1 or f.shape[0] != 2 * n:
      raise ValueError(f"`decoder` and `feature_fn` must keep the batch axis ({2 * n}), got "
                       f"features of shape {f.shape}")
    f = f.reshape(2 * n, -1)
    f = f.astype(jnp.promote_types(f.dtype, jnp.float32))
    diff = f[:n] - f[n:]
    return jnp.sum(diff * diff, axis=1) / (eps * eps)

  fn = jax.jit(step) if jit else step
  num_batches = -(-num_samples // n)
  dist = np.concatenate([np.asarray(fn(jax.random.fold_in(key, i)), np.float64)
                         for i in range(num_batches)])[:num_samples]
  if not np.all(np.isfinite(dist)):
    raise ValueError(f"`decoder`/`feature_fn` gave {int(np.sum(~np.isfinite(dist)))} "
                     "non-finite path-length samples")
  lo_v, hi_v = np.percentile(dist, lo_p), np.percentile(dist, hi_p)
  kept = dist[(dist >= lo_v) & (dist <= hi_v)]
  return {"ppl_mean": float(np.mean(kept)), "ppl_std": float(np.std(kept)),
          "ppl_median": float(np.median(kept)), "num_kept": int(kept.size)}


def linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels, *,
                          l2: float = 1e-4, max_iter: int = 1000) -> float:
  """Test accuracy of a multinomial logistic-regression probe on the codes.

  Codes are standardised with the training codes' per-dimension mean and standard
  deviation (constant dimensions are only centred). The probe minimises the mean
  cross-entropy plus ``l2 / 2 * ||W||^2`` (scikit-learn's L-BFGS, ``C = 1 / (l2 N)``).

  Args:
    train_codes: [N, D] codes to fit on.
    train_labels: [N] class labels (at least 2 classes).
    test_codes: [M, D] codes to score.
    test_labels: [M] class labels (classes unseen in training count as errors).
    l2: weight penalty > 0 (per example).
    max_iter: L-BFGS iterations.

  Returns:
    The fraction of test codes whose predicted class is their label.

  Raises:
    ValueError: wrong ranks, mismatched lengths or latent sizes, NaN/inf codes, fewer
      than 2 training codes or classes, ``l2 <= 0``.

  Example:
    >>> linear_probe_accuracy(z[:800], y[:800], z[800:], y[800:])   # 0.93
  """
  from sklearn.linear_model import LogisticRegression

  x_tr = as_matrix("train_codes", train_codes)
  x_te = as_matrix("test_codes", test_codes, "[M, D]")
  y_tr = _labels_for("train_labels", train_labels, x_tr.shape[0], "train_codes")
  y_te = _labels_for("test_labels", test_labels, x_te.shape[0], "test_codes")
  if x_te.shape[1] != x_tr.shape[1]:
    raise ValueError(f"`test_codes` must have D = {x_tr.shape[1]} (as `train_codes`), got "
                     f"shape {x_te.shape}")
  if x_tr.shape[0] < 2 or x_te.shape[0] < 1:
    raise ValueError(f"need >= 2 `train_codes` and >= 1 `test_codes`, got shapes "
                     f"{x_tr.shape}, {x_te.shape}")
  if np.unique(y_tr).size < 2:
    raise ValueError(f"`train_labels` must hold at least 2 classes, got {np.unique(y_tr)}")
  if not (np.isscalar(l2) and float(l2) > 0):
    raise ValueError(f"`l2` must be a float > 0, got {l2!r}")
  mean, std = x_tr.mean(0), x_tr.std(0)
  std = np.where(std > 0, std, 1.0)
  probe = LogisticRegression(C=1.0 / (float(l2) * x_tr.shape[0]),
                             max_iter=_positive_int("max_iter", max_iter))
  probe.fit((x_tr - mean) / std, y_tr)
  return float(np.mean(probe.predict((x_te - mean) / std) == y_te))


def kmeans_partition(key: jax.Array, codes, labels=None, num_clusters: int | None = None, *,
                     num_restarts: int = 1, num_iters: int = 100):
  """k-means of the codes (best of restarts) and its scores against the labels.

  The shared implementation of :func:`cluster_scores` and the explore report's clusters.
  Restart 0 uses ``key`` itself (so one restart is exactly ``latent_ops.kmeans(key, ...)``),
  restart i > 0 ``fold_in(key, i)``; the partition of lowest inertia is kept.

  Args:
    key: PRNG key of the k-means++ seeding.
    codes: [N, D] codes.
    labels: optional [N] labels.
    num_clusters: K in [1, N]; None takes the number of distinct labels.
    num_restarts: k-means runs, >= 1.
    num_iters: Lloyd iterations per run.

  Returns:
    ``(fit, scores)``: the ``latent_ops.KMeansResult`` and ``{"nmi", "ari": float}``
    (empty without labels).

  Raises:
    ValueError: as :func:`cluster_scores`.
  """
  from sklearn import metrics

  z = as_matrix("codes", codes)
  y = None if labels is None else _labels_for("labels", labels, z.shape[0], "codes")
  if num_clusters is None:
    if y is None:
      raise ValueError("`num_clusters` must be given when `labels` is None")
    num_clusters = int(np.unique(y).size)
  if (isinstance(num_clusters, bool) or not isinstance(num_clusters, (int, np.integer))
      or not 1 <= num_clusters <= z.shape[0]):
    raise ValueError(f"`num_clusters` must be in [1, N={z.shape[0]}], got {num_clusters!r}")
  num_restarts = _positive_int("num_restarts", num_restarts)
  zj = jnp.asarray(z, jnp.float32)
  best = None
  for r in range(num_restarts):
    fit = lo.kmeans_fit(key if r == 0 else jax.random.fold_in(key, r), zj, int(num_clusters),
                        num_iters)
    if best is None or float(fit.inertia) < float(best.inertia):
      best = fit
  scores = {}
  if y is not None:
    assignments = np.asarray(best.assignments)
    scores = {"nmi": float(metrics.normalized_mutual_info_score(y, assignments)),
              "ari": float(metrics.adjusted_rand_score(y, assignments))}
  return best, scores


def cluster_scores(key: jax.Array, codes, labels, num_clusters: int | None = None, *,
                   num_restarts: int = 1, num_iters: int = 100) -> dict:
  """How well k-means on the codes recovers the labels: NMI and adjusted Rand index.

  k-means is `latent_ops.kmeans_fit`, the best (lowest inertia) of ``num_restarts`` runs.
  NMI (arithmetic normalisation) and ARI are 1 for a partition equal to the labels up to
  renaming; ARI is 0 in expectation for a random one.

  Args:
    key: PRNG key of the k-means++ seeding.
    codes: [N, D] codes.
    labels: [N] labels (ints or strings).
    num_clusters: K in [1, N]; None (default) is the number of distinct labels.
    num_restarts: k-means runs, >= 1.
    num_iters: Lloyd iterations per run.

  Returns:
    ``{"nmi": float, "ari": float, "num_clusters": int}``.

  Raises:
    ValueError: ``codes`` not [N, D] or not finite, ``labels`` not [N], K out of range,
      ``num_restarts < 1``.

  Example:
    >>> cluster_scores(jax.random.PRNGKey(0), codes, labels)["nmi"]   # 0.72
  """
  if labels is None:
    raise ValueError("`labels` must be an [N] array, got None")
  fit, scores = kmeans_partition(key, codes, labels, num_clusters,
                                 num_restarts=num_restarts, num_iters=num_iters)
  return {**scores, "num_clusters": int(fit.centroids.shape[0])}


def geodesic_length_ratio(decoder, z0, z1, *, num_points: int = 16, num_steps: int = 200,
                          subdivisions: int = 4) -> dict:
  """Decoded length of geodesics over that of straight lines between the same codes.

  Both curves have ``num_points`` points and are measured by `latent_ops.curve_length`
  with ``subdivisions`` pieces per segment: the straight line is
  `latent_ops.interpolate(z0, z1, num_points)`, the geodesic `latent_ops.geodesic`. The
  solver never returns a curve longer than its straight line, so ratios are <= 1 up to
  rounding; values well below 1 mean the decoder's geometry bends shortest paths away
  from straight lines. Pairs with a zero straight length (equal decoded endpoints along
  the line) count as ratio 1.

  Args:
    decoder: callable mapping ONE code [D] to an array or pytree (the `latent_ops`
      convention; wrap a batch decoder as ``lambda z: dec(z[None])[0]``).
    z0: [B, D] start codes.
    z1: [B, D] end codes.
    num_points: points per curve, >= 2.
    num_steps: geodesic optimiser steps.
    subdivisions: latent pieces per segment when measuring, >= 1.

  Returns:
    ``{"ratio_mean", "ratio_median", "straight_length_mean", "geodesic_length_mean"}``
    floats.

  Raises:
    ValueError: ``z0``/``z1`` not [B, D] of one shape, not finite, or bad option values.

  Example:
    >>> geodesic_length_ratio(lambda z: jnp.tanh(W @ z), z0, z1)["ratio_mean"]   # 0.97
  """
  a = as_matrix("z0", z0, "[B, D]")
  b = as_matrix("z1", z1, "[B, D]")
  if b.shape != a.shape:
    raise ValueError(f"`z1` must have the shape of `z0` {a.shape}, got shape {b.shape}")
  num_points = _positive_int("num_points", num_points, 2)
  subdivisions = _positive_int("subdivisions", subdivisions)
  a, b = jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)
  line = lo.interpolate(a, b, num_points)
  curve = lo.geodesic(decoder, a, b, num_points, num_steps, subdivisions=subdivisions)
  straight = np.asarray(lo.curve_length(decoder, line, subdivisions), np.float64)
  geodesic = np.asarray(lo.curve_length(decoder, curve, subdivisions), np.float64)
  ratio = np.where(straight > 0, geodesic / np.where(straight > 0, straight, 1.0), 1.0)
  return {"ratio_mean": float(np.mean(ratio)), "ratio_median": float(np.median(ratio)),
          "straight_length_mean": float(np.mean(straight)),
          "geodesic_length_mean": float(np.mean(geodesic))}
