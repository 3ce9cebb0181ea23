"""Likelihood bounds of a VAE over a data set: ELBO and IWAE-k, in nats and bits per dim.

    res = metrics.likelihood_bounds(encode, decode, batches, key, num_samples=(1, 10, 100))
    res["iwae_100_nats"], res["iwae_100_bits_per_dim"], res["elbo_nats"]

The bounds are `objectives.iwae_bound` (Burda et al., 2016) and `objectives.elbo_bound`
(analytic KL, one sample), averaged over every example of the data. For each data point
log p(x) >= IWAE-k, and the expected IWAE-k is non-decreasing in k (Burda et al.,
Theorem 1). All k use common random numbers: one key per batch, and the sample keys of
IWAE-k are ``jax.random.split(key, k)``, whose first j keys are those of IWAE-j under
JAX's default (partitionable) threefry. IWAE-10 thus reuses IWAE-1's sample and adds
nine, so differences between k measure the bound's gap, not independent noise; a single
estimate may still dip below a smaller k's, only the expectation is ordered. The ELBO
uses the same first sample as IWAE-1 with the KL term in closed form.
"""

import math
from collections.abc import Callable, Iterable, Mapping

import jax
import numpy as np

from latentjax import objectives


def _check_num_samples(num_samples) -> tuple[int, ...]:
  values = (num_samples,) if isinstance(num_samples, (int, np.integer)) else num_samples
  try:
    values = tuple(values)
  except TypeError:
    raise ValueError(f"`num_samples` must be ints >= 1, got {num_samples!r}") from None
  if not values or any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1
                       for k in values):
    raise ValueError(f"`num_samples` must be a non-empty sequence of ints >= 1, got "
                     f"{num_samples!r}")
  return tuple(sorted({int(k) for k in values}))


def _entry(batch, name: str, arg: str, index: int):
  if not isinstance(batch, Mapping) or name not in batch:
    keys = sorted(batch) if isinstance(batch, Mapping) else type(batch).__name__
    raise ValueError(f"`batches`[{index}] has no {name!r} entry (`{arg}`); got {keys}")
  return batch[name]


def _inputs(batch, input_key: str, index: int) -> np.ndarray:
  if isinstance(batch, Mapping):
    batch = _entry(batch, input_key, "input_key", index)
  x = np.asarray(batch)
  if x.ndim < 2 or x.shape[0] < 1:
    raise ValueError(f"`batches`[{index}] must be [B, ...] inputs with B >= 1 and at least "
                     f"one data axis, got shape {x.shape}")
  if not np.issubdtype(x.dtype, np.number):
    raise ValueError(f"`batches`[{index}] must be numeric, got dtype {x.dtype}")
  if not np.all(np.isfinite(x)):
    raise ValueError(f"`batches`[{index}] holds {int(np.sum(~np.isfinite(x)))} NaN/inf values")
  return x


def _pad(x: np.ndarray, size: int) -> np.ndarray:
  """Pads the batch axis to ``size`` by repeating the last row (the extra rows are dropped)."""
  if x.shape[0] == size:
    return x
  return np.concatenate([x, np.repeat(x[-1:], size - x.shape[0], axis=0)])


def likelihood_bounds(encode: Callable, decode: Callable, batches: Iterable, key: jax.Array,
                      *, num_samples=(1, 10, 100), likelihood: str = "bernoulli",
                      gaussian_scale: float = 1.0, input_dims: int | None = None,
                      input_key: str = "image", label_key: str | None = None) -> dict:
  """ELBO and IWAE-k bounds on log p(x), averaged over all examples of ``batches``.

  One compiled function evaluates every bound of a batch; batches are padded (repeating
  their last row) to the largest size seen so far, so a smaller last batch reuses the
  compiled code, and only the valid rows are counted. Batch ``i`` uses
  ``fold_in(key, i)``; see the module docstring for the common random numbers. Sums are
  accumulated in float64 on the host.

  Args:
    encode: x [B, ...] -> (mean [B, D], logvar [B, D]) of q(z | x); traceable. With
      ``label_key``, ``encode(x, y)``.
    decode: z [B, D] -> likelihood parameters [B, ...] (logits or means); traceable. With
      ``label_key``, ``decode(z, y)``.
    batches: an iterable of [B, ...] input arrays, or of dicts holding them under
      ``input_key`` (other entries are ignored). Iterated once.
    key: PRNG key.
    num_samples: the k of the IWAE-k bounds, ints >= 1 (k = 1 is the one-sample ELBO
      with a Monte Carlo KL); duplicates are dropped.
    likelihood: "bernoulli", "continuous_bernoulli" or "gaussian".
    gaussian_scale: the Gaussian likelihood's standard deviation, > 0.
    input_dims: dimensions per example for bits/dim; None is the product of the
      inputs' non-batch axes.
    input_key: the entry holding the inputs in dict batches.
    label_key: for a conditional model, the entry holding the labels y [B] that
      ``encode`` and ``decode`` also take (batches must then be dicts); None otherwise.

  Returns:
    A dict with ``"iwae_{k}_nats"`` and ``"iwae_{k}_bits_per_dim"`` for each k,
    ``"elbo_nats"`` and ``"elbo_bits_per_dim"`` (analytic KL, one sample),
    ``"num_examples"`` and ``"input_dims"``. Nats are per example (higher is better);
    bits per dim are ``-nats / (input_dims * ln 2)`` (lower is better).

  Raises:
    ValueError: no batches, a malformed batch (rank < 2, NaN/inf, missing key, data axes
      differing between batches, labels of another length), bad ``num_samples``,
      ``likelihood``, ``gaussian_scale`` or ``input_dims``.

  Example:
    >>> enc = lambda x: model.apply(v, x, method="encode")
    >>> dec = lambda z: model.apply(v, z, method="decode")
    >>> likelihood_bounds(enc, dec, [x_test[:100], x_test[100:]], key)["iwae_100_nats"]
  """
  ks = _check_num_samples(num_samples)
  if likelihood not in objectives.LIKELIHOODS:
    raise ValueError(f"`likelihood` must be one of {objectives.LIKELIHOODS}, got "
                     f"{likelihood!r}")
  if not (np.isscalar(gaussian_scale) and float(gaussian_scale) > 0):
    raise ValueError(f"`gaussian_scale` must be a float > 0, got {gaussian_scale!r}")
  if input_dims is not None and (isinstance(input_dims, bool) or not isinstance(
      input_dims, (int, np.integer)) or input_dims < 1):
    raise ValueError(f"`input_dims` must be an int >= 1 or None, got {input_dims!r}")
  kw = dict(likelihood=likelihood, gaussian_scale=float(gaussian_scale))

  @jax.jit
  def bounds(x, y, k):
    enc, dec = encode, decode
    if label_key is not None:
      enc, dec = (lambda x_: encode(x_, y)), (lambda z: decode(z, y))
    out = {f"iwae_{n}": objectives.iwae_bound(enc, dec, x, k, num_samples=n, **kw)
           for n in ks}
    out["elbo"] = objectives.elbo_bound(enc, dec, x, k, num_samples=1, **kw)
    return out

  sums: dict[str, float] = {}
  count, size, data_shape = 0, 0, None
  for i, batch in enumerate(batches):
    x = _inputs(batch, input_key, i)
    if data_shape is None:
      data_shape = x.shape[1:]
    elif x.shape[1:] != data_shape:
      raise ValueError(f"`batches`[{i}] must have data shape {data_shape} (as batch 0), got "
                       f"shape {x.shape}")
    y = None
    if label_key is not None:
      y = np.asarray(_entry(batch, label_key, "label_key", i))
      if y.shape[:1] != x.shape[:1]:
        raise ValueError(f"`batches`[{i}][{label_key!r}] must have B = {x.shape[0]} rows, got "
                         f"shape {y.shape}")
    valid = x.shape[0]
    size = max(size, valid)
    y = None if y is None else _pad(y, size)
    out = jax.device_get(bounds(_pad(x, size), y, jax.random.fold_in(key, i)))
    for name, value in out.items():
      sums[name] = sums.get(name, 0.0) + float(np.sum(np.asarray(value)[:valid], dtype=np.float64))
    count += valid
  if count == 0:
    raise ValueError("`batches` must hold at least one batch, got none")
  dims = int(np.prod(data_shape)) if input_dims is None else int(input_dims)
  result: dict = {"num_examples": count, "input_dims": dims}
  for name in ["elbo"] + [f"iwae_{n}" for n in ks]:
    nats = sums[name] / count
    result[f"{name}_nats"] = nats
    result[f"{name}_bits_per_dim"] = -nats / (dims * math.log(2.0))
  return result
