"""Semantic directions in latent space: unsupervised, supervised and closed-form.

* ``pca_directions`` / ``pca``: principal directions of a set of codes, ordered by
  explained variance (GANSpace, Harkonen et al. 2020, applied to latent codes).
* ``supervised_direction``: the unit normal of a logistic-regression boundary between
  codes with and without an attribute, trained with optax in one compiled loop
  (InterFaceGAN, Shen et al. 2020), with its training accuracy.
* ``sefa_directions``: closed-form factorisation of a generator's first linear layer
  (SeFa, Shen & Zhou 2021).

Rows are unit vectors with a deterministic sign (largest-magnitude entry positive, for
PCA and SeFa) so results are reproducible::

    dirs = lo.pca_directions(codes, k=5)                        # [5, D]
    smile, acc = lo.supervised_direction(codes, labels == 1)    # [D], accuracy in [0, 1]
    dirs = lo.sefa_directions(params["Dense_0"]["kernel"], 5)   # kernel [D, H]
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from latentjax.latent_ops import _validation as v


class PCAResult(NamedTuple):
  """Principal components of codes.

  Attributes:
    directions: [k, D] unit rows ordered by explained variance (descending).
    explained_variance: [k] variance of the codes along each direction (``N - 1`` norm).
    explained_variance_ratio: [k] fraction of the total variance.
    mean: [D] mean code.
  """

  directions: jax.Array
  explained_variance: jax.Array
  explained_variance_ratio: jax.Array
  mean: jax.Array


def _fix_signs(rows):
  """Flips each row so that its largest-magnitude entry is positive."""
  idx = jnp.argmax(jnp.abs(rows), axis=-1)
  signs = jnp.sign(jnp.take_along_axis(rows, idx[:, None], axis=-1))
  return rows * jnp.where(signs == 0, 1.0, signs)


@functools.partial(jax.jit, static_argnames=("k",))
def _pca(z, *, k):
  mean = jnp.mean(z, axis=0)
  _, s, vt = jnp.linalg.svd(z - mean[None], full_matrices=False)
  var = s * s / (z.shape[0] - 1)
  total = jnp.sum(var)
  ratio = var / jnp.where(total > 0, total, 1.0)
  return PCAResult(_fix_signs(vt[:k]), var[:k], ratio[:k], mean)


def pca(z, k: int) -> PCAResult:
  """Principal component analysis of codes (SVD of the centred codes).

  Args:
    z: [N, D] codes, N >= 2.
    k: number of components (static), ``1 <= k <= min(N, D)``.

  Returns:
    A :class:`PCAResult`.

  Raises:
    ValueError: wrong rank, N < 2, or ``k`` out of range.

  Example:
    >>> res = lo.pca(codes, 3); res.explained_variance_ratio.sum()
  """
  z = v.as_float(z)
  v.check_rank("z", z, (2,), "[N, D]")
  if z.shape[0] < 2:
    raise ValueError(f"`z` must have at least 2 codes, got shape {z.shape}")
  k = v.check_int("k", k, minimum=1, maximum=min(z.shape))
  return _pca(z, k=k)


def pca_directions(z, k: int):
  """Top-``k`` principal directions of codes: [k, D] unit rows by explained variance.

  Args:
    z: [N, D] codes, N >= 2.
    k: number of directions (static), ``1 <= k <= min(N, D)``.

  Returns:
    [k, D] orthonormal rows, first the direction of largest variance.

  Raises:
    ValueError: wrong rank, N < 2, or ``k`` out of range.

  Example:
    >>> grid = lo.traverse(z, lo.pca_directions(codes, 1)[0], jnp.linspace(-2, 2, 5))
  """
  return pca(z, k).directions


def pca_explained_variance(z, k: int):
  """Variance of the codes along each of the top-``k`` principal directions: [k]."""
  return pca(z, k).explained_variance


@functools.partial(jax.jit, static_argnames=("num_steps",))
def _logistic(z, labels, learning_rate, l2, *, num_steps):
  mean, std = jnp.mean(z, axis=0), jnp.std(z, axis=0)
  std = jnp.where(std > 0, std, 1.0)
  x = (z - mean[None]) / std[None]
  y = jnp.where(labels, 1.0, -1.0).astype(z.dtype)
  opt = optax.adam(learning_rate)

  def loss(params):
    w, b = params
    margins = y * (x @ w + b)
    return jnp.mean(jax.nn.softplus(-margins)) + 0.5 * l2 * jnp.sum(w * w)

  def step(carry, _):
    params, state = carry
    grads = jax.grad(loss)(params)
    updates, state = opt.update(grads, state, params)
    return (optax.apply_updates(params, updates), state), None

  params = (jnp.zeros((z.shape[1],), z.dtype), jnp.zeros((), z.dtype))
  (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), None, length=num_steps)
  w, b = params
  wrong = jnp.sum(((x @ w + b) > 0) != labels).astype(z.dtype)
  accuracy = 1.0 - wrong / z.shape[0]  # exactly 1.0 when all are right
  normal = w / std  # the boundary w.(z - mean)/std + b = 0 in the original coordinates
  norm = jnp.linalg.norm(normal)
  return normal / jnp.where(norm > 0, norm, 1.0), accuracy


def supervised_direction(z, has_attribute, *, num_steps: int = 500,
                         learning_rate: float = 0.05, l2: float = 1e-3):
  """Unit normal of a linear classifier separating codes by an attribute (InterFaceGAN).

  Fits L2-regularised logistic regression on standardised codes with Adam, as one
  compiled ``lax.scan``; the normal is mapped back to the original latent coordinates.

  Args:
    z: [N, D] codes.
    has_attribute: [N] boolean labels.
    num_steps: optimiser steps (static).
    learning_rate: Adam learning rate.
    l2: weight of the ``0.5 * l2 * ||w||^2`` penalty (on standardised features).

  Returns:
    ``(direction, accuracy)``: [D] unit normal pointing towards ``has_attribute`` codes,
    and the classifier's training accuracy in [0, 1].

  Raises:
    ValueError: wrong shapes.
    TypeError: if ``has_attribute`` is not boolean.

  Example:
    >>> smile, acc = lo.supervised_direction(codes, attrs[:, 31] == 1)
    >>> edited = lo.move_along(codes, smile, 3.0)
  """
  z = v.as_float(z)
  v.check_rank("z", z, (2,), "[N, D]")
  v.check_bool_mask("has_attribute", has_attribute, z.shape[0], "z")
  num_steps = v.check_int("num_steps", num_steps, minimum=1)
  return _logistic(z, jnp.asarray(has_attribute), jnp.asarray(learning_rate, z.dtype),
                   jnp.asarray(l2, z.dtype), num_steps=num_steps)


@functools.partial(jax.jit, static_argnames=("k",))
def _sefa(kernel, *, k):
  gram = kernel @ kernel.T  # [D, D] = A^T A for the [H, D] weight A = kernel.T
  _, vecs = jnp.linalg.eigh(gram)  # ascending eigenvalues, eigenvectors in columns
  return _fix_signs(vecs[:, ::-1][:, :k].T)


def sefa_directions(kernel, k: int):
  """Closed-form semantic directions of a first linear layer (SeFa).

  The directions ``n`` that change the layer's output most, ``max ||A n||`` over unit
  ``n``, are the top eigenvectors of ``A^T A``. With a Flax ``Dense`` kernel of shape
  ``[D, H]`` (``y = z @ kernel + b``), ``A = kernel.T`` and ``A^T A = kernel @ kernel.T``;
  for a PyTorch-style ``[H, D]`` weight pass ``weight.T``.

  Args:
    kernel: [D, H] first-layer kernel as ``flax.linen.Dense`` stores it.
    k: number of directions (static), ``1 <= k <= D``.

  Returns:
    [k, D] orthonormal rows, ordered by eigenvalue (descending).

  Raises:
    ValueError: wrong rank or ``k`` out of range.

  Example:
    >>> dirs = lo.sefa_directions(params["params"]["Dense_0"]["kernel"], 5)
  """
  kernel = v.as_float(kernel)
  v.check_rank("kernel", kernel, (2,), "[D, H] (flax Dense layout)")
  k = v.check_int("k", k, minimum=1, maximum=kernel.shape[0])
  return _sefa(kernel, k=k)
