"""A decoder variance that knows where the data is, and the expected metric it induces.

A deterministic decoder's pull-back metric ``J_mu^T J_mu`` is small wherever the decoded
mean stops changing, which is often far from any data: there geodesics take short cuts
through regions the model has never seen. Arvanitidis, Hansen & Hauberg ("Latent Space
Oddity", 2018) make the decoder stochastic, ``x = mu(z) + sigma(z) * eps``, with a
variance that is small near the training codes and grows towards a large value away from
them. The metric then becomes the *expected* one,

    E[J^T J] = J_mu^T J_mu + J_sigma^T J_sigma,

large where ``sigma`` changes, i.e. where the codes end, so geodesics follow the data.

The variance here is theirs: an RBF network for the precision (inverse variance)

    beta(z) = sum_k w_k exp(-lambda_k ||z - c_k||^2) + 1 / max_variance,
    sigma^2(z) = min_variance + 1 / beta(z),

with centres ``c_k`` from k-means of the codes, bandwidths from the clusters' spread
(``lambda_k = 0.5 / (a * spread_k)^2``, ``a`` = ``bandwidth_scale``), and non-negative
output weights ``w_k`` (one per centre and output dimension) fitted by maximum Gaussian
likelihood of the residuals ``x - mu(z)`` with the mean fixed. Far from every centre
``sigma^2`` tends to ``min_variance + max_variance``::

    var = lo.fit_rbf_variance(key, codes, images - decode(codes), num_centers=32)
    decoder = lo.gaussian_decoder(mean_decoder, var)     # z -> (mean, std)
    G = lo.expected_metric(decoder, z)                   # [D, D]
    curve = lo.geodesic_from_graph(decoder, z0, z1, codes)   # follows the data

Every geometric op of ``latent_ops`` (``pullback_metric``, ``magnification_factor``,
``curve_length``, ``curve_energy``, ``geodesic``, ``geodesic_distance_matrix``,
``knn_graph``, ...) counts all output leaves of a decoder, so given a ``(mean, std)``
decoder they work in the expected metric: one solver for both metrics.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latentjax.latent_ops import _validation as v
from latentjax.latent_ops._cluster import kmeans_fit, sq_dists
from latentjax.latent_ops._geometry import pullback_metric


@jax.tree_util.register_pytree_node_class
class RBFVariance:
  """The fitted variance network: a pytree of arrays, the output shape static.

  Attributes:
    centers: [K, D] RBF centres (k-means centres of the codes).
    bandwidths: [K] ``lambda_k`` of ``exp(-lambda_k ||z - c_k||^2)``.
    weights: [K, O] non-negative precision weights, O the flattened output size.
    min_variance: [] the variance floor (the variance as the precision grows).
    max_variance: [] the variance far from every centre, less ``min_variance``.
    out_shape: the decoder's output shape (static), ``prod(out_shape) == O``.
  """

  def __init__(self, centers, bandwidths, weights, min_variance, max_variance, out_shape):
    self.centers = centers
    self.bandwidths = bandwidths
    self.weights = weights
    self.min_variance = min_variance
    self.max_variance = max_variance
    self.out_shape = tuple(int(s) for s in out_shape)

  def tree_flatten(self):
    return ((self.centers, self.bandwidths, self.weights, self.min_variance,
             self.max_variance), self.out_shape)

  @classmethod
  def tree_unflatten(cls, out_shape, children):
    return cls(*children, out_shape)

  @property
  def num_centers(self) -> int:
    return self.centers.shape[0]

  def arrays(self) -> dict[str, np.ndarray]:
    """The arrays as NumPy, for saving (``np.savez``); see :meth:`from_arrays`."""
    out = {name: np.asarray(getattr(self, name)) for name in
           ("centers", "bandwidths", "weights", "min_variance", "max_variance")}
    out["out_shape"] = np.asarray(self.out_shape, np.int64)
    return out

  @classmethod
  def from_arrays(cls, arrays) -> RBFVariance:
    """Rebuilds a variance from :meth:`arrays` (e.g. an opened ``.npz``)."""
    get = lambda k: jnp.asarray(np.asarray(arrays[k]), jnp.float32)
    return cls(get("centers"), get("bandwidths"), get("weights"), get("min_variance"),
               get("max_variance"), tuple(np.asarray(arrays["out_shape"]).tolist()))


def _features(centers, bandwidths, z):
  """[B, K] RBF features of codes [B, D]."""
  return jnp.exp(-bandwidths[None, :] * sq_dists(z, centers))


def _variance_flat(variance: RBFVariance, z):
  """[B, O] variances of codes [B, D] (unchecked)."""
  beta = _features(variance.centers, variance.bandwidths, z) @ variance.weights
  return variance.min_variance + 1.0 / (beta + 1.0 / variance.max_variance)


def rbf_variance(variance: RBFVariance, z):
  """The fitted variance ``sigma^2(z)`` at one code or a batch.

  Args:
    variance: an :class:`RBFVariance` (from :func:`fit_rbf_variance`).
    z: [D] or [B, D] codes.

  Returns:
    [*out_shape] (or [B, *out_shape]) variances in ``(min_variance, min_variance +
    max_variance]``.

  Raises:
    ValueError: ``z`` of the wrong rank or latent size.

  Example:
    >>> lo.rbf_variance(var, jnp.zeros(2))      # large if no code is near 0
  """
  if not isinstance(variance, RBFVariance):
    raise ValueError(f"`variance` must be an RBFVariance, got {type(variance).__name__}")
  z = v.as_float(z)
  v.check_code("z", z)
  v.check_latent_size("z", z, variance.centers.shape[-1], "variance.centers")
  out = _variance_flat(variance, z.reshape((-1, z.shape[-1])))
  return out.reshape(z.shape[:-1] + variance.out_shape)


def _mean_and_std(mean_decoder, variance, z):
  mean = mean_decoder(z)
  batch = z.shape[:-1]
  var = _variance_flat(variance, z.reshape((-1, z.shape[-1])))
  return mean, jnp.sqrt(var).reshape(batch + variance.out_shape).astype(mean.dtype)


def gaussian_decoder(mean_decoder, variance: RBFVariance) -> jax.tree_util.Partial:
  """The stochastic decoder ``z -> (mean, std)`` of a mean decoder and a fitted variance.

  A pytree (``jax.tree_util.Partial``) whose leaves are the mean decoder's arrays and the
  variance's, so latent ops compile it once and reuse the code (see ``_decoder``).

  Args:
    mean_decoder: callable mapping one code ``[D]`` to an array of ``variance.out_shape``
      (or ``[B, D]`` to ``[B, *out_shape]`` if it supports batches).
    variance: an :class:`RBFVariance`.

  Returns:
    ``decoder(z) -> (mean, std)``, both of the mean's shape.

  Raises:
    ValueError: if ``variance`` is not an :class:`RBFVariance`.

  Example:
    >>> decoder = lo.gaussian_decoder(run.decoder_fn(), var)
    >>> mean, std = decoder(z)
  """
  if not isinstance(variance, RBFVariance):
    raise ValueError(f"`variance` must be an RBFVariance, got {type(variance).__name__}")
  if not callable(mean_decoder):
    raise ValueError(f"`mean_decoder` must be callable, got {mean_decoder!r}")
  return jax.tree_util.Partial(_mean_and_std, mean_decoder, variance)


def check_mean_std_decoder(decoder, z) -> None:
  """Raises ``ValueError`` unless ``decoder(z[0])`` is a pair ``(mean, std)`` of one shape.

  Only shapes are evaluated (``jax.eval_shape``); nothing is computed.
  """
  if not callable(decoder):
    raise ValueError(f"`decoder` must be callable, got {decoder!r}")
  one = jax.ShapeDtypeStruct(z.shape[-1:], z.dtype)
  out = jax.eval_shape(decoder, one)
  if not (isinstance(out, (tuple, list)) and len(out) == 2
          and all(hasattr(o, "shape") for o in out)):
    raise ValueError(
        "`decoder` must return a pair (mean, std) of arrays for the expected metric, "
        f"got {jax.tree_util.tree_structure(out)}; make one with "
        "latent_ops.gaussian_decoder(mean_decoder, variance)")
  if out[0].shape != out[1].shape:
    raise ValueError(
        f"`decoder` must return (mean, std) of one shape, got {out[0].shape} and "
        f"{out[1].shape}")


def expected_metric(decoder, z):
  """Expected metric ``E[J^T J] = J_mu^T J_mu + J_sigma^T J_sigma`` of a Gaussian decoder.

  For ``x = mu(z) + sigma(z) * eps`` with ``eps ~ N(0, I)`` (Arvanitidis et al., 2018).
  It is :func:`pullback_metric` of the ``(mean, std)`` decoder: with a constant ``std``
  it reduces to the mean's pull-back metric.

  Args:
    decoder: callable mapping one code ``[D]`` to ``(mean, std)``, two arrays of one
      shape (e.g. :func:`gaussian_decoder`).
    z: [D] or [B, D] codes.

  Returns:
    [D, D] (or [B, D, D]) symmetric positive semi-definite metric tensors.

  Raises:
    ValueError: if ``decoder`` does not return ``(mean, std)`` or ``z`` is not [D]/[B, D].

  Example:
    >>> G = lo.expected_metric(lo.gaussian_decoder(mean_decoder, var), z)
  """
  z = v.as_float(z)
  v.check_code("z", z)
  check_mean_std_decoder(decoder, z)
  return pullback_metric(decoder, z)


def _positive(name: str, value) -> float:
  if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
    raise ValueError(f"`{name}` must be a positive number, got {value!r}")
  value = float(value)
  if not (np.isfinite(value) and value > 0):
    raise ValueError(f"`{name}` must be a finite number > 0, got {value}")
  return value


def cluster_bandwidths(codes, centers, assignments, bandwidth_scale: float) -> np.ndarray:
  """[K] ``lambda_k = 0.5 / (a * spread_k)^2``, spread the mean member distance to c_k.

  A cluster with zero spread (one member, or coinciding codes) takes the median spread
  of the others (1 if all are zero). NumPy, float64.
  """
  z, c, a = (np.asarray(x, np.float64) for x in (codes, centers, assignments))
  a = a.astype(np.int64)
  k = c.shape[0]
  dist = np.linalg.norm(z - c[a], axis=1)
  counts = np.bincount(a, minlength=k)
  spread = np.bincount(a, weights=dist, minlength=k) / np.maximum(counts, 1)
  positive = spread[spread > 0]
  fill = float(np.median(positive)) if positive.size else 1.0
  spread = np.where(spread > 0, spread, fill)
  return 0.5 / np.square(bandwidth_scale * spread)


@functools.partial(jax.jit, static_argnames=("num_steps",))
def _fit_weights(features, sq_residuals, theta0, min_variance, max_variance, num_steps,
                 learning_rate):
  """Adam on the Gaussian negative log-likelihood; weights = softplus(theta)."""
  opt = optax.adam(learning_rate)

  def nll(theta):
    beta = features @ jax.nn.softplus(theta) + 1.0 / max_variance  # [N, O]
    var = min_variance + 1.0 / beta
    return 0.5 * jnp.mean(sq_residuals / var + jnp.log(var))

  def step(carry, _):
    theta, state = carry
    loss, grad = jax.value_and_grad(nll)(theta)
    updates, state = opt.update(grad, state, theta)
    return (optax.apply_updates(theta, updates), state), loss

  (theta, _), history = jax.lax.scan(step, (theta0, opt.init(theta0)), None,
                                     length=num_steps)
  return jax.nn.softplus(theta), history, nll(theta)


def fit_rbf_variance(key, codes, residuals, num_centers: int, *,
                     bandwidth_scale: float = 1.0, max_variance: float | None = None,
                     min_variance: float = 1e-6, num_steps: int = 500,
                     learning_rate: float = 0.05, kmeans_iters: int = 100) -> RBFVariance:
  """Fits the RBF precision network of Arvanitidis et al. (2018) to a decoder's residuals.

  Centres: k-means (``latent_ops.kmeans_fit``) of the codes. Bandwidths:
  :func:`cluster_bandwidths`. Weights: non-negative (softplus of free parameters), one
  per centre and output dimension, fitted by full-batch Adam on the Gaussian negative
  log-likelihood ``0.5 * mean(r^2 / sigma^2 + log sigma^2)`` of the residuals, starting
  from weights that give every output its mean squared residual at the codes. Near the
  codes the variance then matches the residuals; away from all of them it rises to
  ``min_variance + max_variance``, monotonically along any ray that starts beyond every
  centre (each RBF feature decreases there).

  Args:
    key: PRNG key of the k-means seeding.
    codes: [N, D] codes of training data (a VAE's posterior means).
    residuals: [N, ...] data minus the decoded means at those codes (``x - mu(z)``); the
      trailing shape is the decoder's output shape.
    num_centers: K, RBF centres, ``1 <= K <= N``.
    bandwidth_scale: ``a`` in ``lambda_k = 0.5 / (a * spread_k)^2``, > 0; larger gives
      wider, smoother bumps.
    max_variance: the variance far from the data (above ``min_variance``), > 0. Default:
      100 times the mean squared residual.
    min_variance: the variance floor, > 0.
    num_steps: Adam steps (>= 0).
    learning_rate: Adam's step size on the weights' softplus parameters, > 0.
    kmeans_iters: Lloyd iterations of the centre fit (>= 0).

  Returns:
    An :class:`RBFVariance`; ``rbf_variance(var, z)`` evaluates it.

  Raises:
    ValueError: wrong ranks or mismatched N, non-finite inputs, ``num_centers`` outside
      ``[1, N]``, a non-positive ``min_variance``, ``max_variance``, ``bandwidth_scale``
      or ``learning_rate``.

  Example:
    >>> var = lo.fit_rbf_variance(key, codes, x - decode(codes), num_centers=32)
  """
  codes = v.as_float(codes)
  v.check_rank("codes", codes, (2,), "[N, D]")
  n = codes.shape[0]
  residuals = v.as_float(residuals)
  v.check_min_rank("residuals", residuals, 2, "[N, ...]")
  if residuals.shape[0] != n:
    raise ValueError(f"`residuals` must be [N, ...] with N = {n} (the first axis of "
                     f"`codes`), got shape {residuals.shape}")
  num_centers = v.check_int("num_centers", num_centers, minimum=1, maximum=n)
  bandwidth_scale = _positive("bandwidth_scale", bandwidth_scale)
  min_variance = _positive("min_variance", min_variance)
  learning_rate = _positive("learning_rate", learning_rate)
  num_steps = v.check_int("num_steps", num_steps, minimum=0)
  kmeans_iters = v.check_int("kmeans_iters", kmeans_iters, minimum=0)
  for name, x in (("codes", codes), ("residuals", residuals)):
    if not bool(jnp.all(jnp.isfinite(x))):
      raise ValueError(f"`{name}` must be finite, got {int(jnp.sum(~jnp.isfinite(x)))} "
                       "NaN/inf values")
  sq = jnp.square(residuals.reshape(n, -1)).astype(jnp.float32)  # [N, O]
  if max_variance is None:
    max_variance = max(100.0 * float(jnp.mean(sq)), 10.0 * min_variance)
  max_variance = _positive("max_variance", max_variance)

  fit = kmeans_fit(key, codes, num_centers, kmeans_iters)
  bw = cluster_bandwidths(codes, fit.centroids, fit.assignments, bandwidth_scale)
  centers = fit.centroids.astype(jnp.float32)
  bandwidths = jnp.asarray(bw, jnp.float32)
  features = _features(centers, bandwidths, codes.astype(jnp.float32))  # [N, K]
  # Start: every output's precision at the codes = 1 / its mean squared residual.
  target = 1.0 / jnp.maximum(jnp.mean(sq, axis=0) - min_variance, min_variance)  # [O]
  w0 = target[None, :] / jnp.maximum(jnp.mean(jnp.sum(features, axis=1)), 1e-12)
  theta0 = jnp.broadcast_to(w0 + jnp.log(-jnp.expm1(-w0)), (num_centers, sq.shape[1]))
  theta0 = jnp.where(w0 > 20.0, w0, theta0)  # inverse softplus, stable for large w0
  weights, _, _ = _fit_weights(features, sq, theta0, jnp.float32(min_variance),
                                   jnp.float32(max_variance), num_steps=num_steps,
                                   learning_rate=jnp.float32(learning_rate))
  return RBFVariance(centers, bandwidths, weights, jnp.float32(min_variance),
                     jnp.float32(max_variance), residuals.shape[1:])
