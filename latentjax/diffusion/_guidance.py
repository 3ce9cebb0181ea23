"""Classifier-free guidance (Ho & Salimans, 2021) and label binding for conditional models.

A conditional model ``eps_cond_fn(x_t [B, ...], t [B], labels [B, ...]) -> eps`` trained
with label dropout (labels replaced by a ``null_label``) is guided by
``eps~ = (1 + w) eps(x, c) - w eps(x, null)``. :func:`guided_eps_fn` returns the guided
model with the same conditional signature; :func:`bind_labels` fixes the labels and gives
the ``eps_fn(x_t, t)`` that the samplers take::

    guided = diffusion.guided_eps_fn(eps_cond_fn, guidance_scale=3.0, null_label=10)
    eps_fn = diffusion.bind_labels(guided, labels)                 # labels: [B]
    x0 = diffusion.ddim_sample(s, eps_fn, x_T, num_steps=50)

Both return ``jax.tree_util.Partial`` objects whose arrays (labels, the guidance scale,
the model's parameters when ``eps_cond_fn`` holds them as leaves) are pytree leaves, so a
sampler compiled once reuses its code for new labels, scales and parameters.
"""

import jax
import jax.numpy as jnp

from latentjax.diffusion import _checks as c
from latentjax.diffusion._forward import per_example

_COND_SIGNATURE = "eps_cond_fn(x_t [B, ...], t [B] int32, labels [B, ...]) -> eps [B, ...]"


def _guided(eps_cond_fn, guidance_scale, null_label, x_t, t, labels):
  labels = jnp.asarray(labels)
  batch = x_t.shape[0]
  if labels.ndim < 1 or labels.shape[0] != batch:
    raise ValueError(f"`labels` must be [B, ...] with B = {batch} (the batch of `x_t`), got "
                     f"shape {labels.shape}")
  null = jnp.broadcast_to(jnp.asarray(null_label, labels.dtype), labels.shape)
  t = jnp.broadcast_to(jnp.asarray(t), (batch,))
  # One call on the doubled batch: conditional first, unconditional second.
  both = eps_cond_fn(jnp.concatenate([x_t, x_t]), jnp.concatenate([t, t]),
                     jnp.concatenate([labels, null]))
  eps_cond, eps_null = both[:batch], both[batch:]
  w = per_example(jnp.asarray(guidance_scale), eps_cond)
  return eps_cond + w * (eps_cond - eps_null)


def guided_eps_fn(eps_cond_fn, guidance_scale, null_label):
  """Classifier-free guidance: ``eps~(x, t, c) = (1 + w) eps(x, t, c) - w eps(x, t, null)``.

  The conditional and unconditional predictions come from one call of ``eps_cond_fn`` on
  the doubled batch ``[x; x]`` with labels ``[c; null]``. ``w = 0`` is the conditional
  model; ``w = -1`` the unconditional one.

  Args:
    eps_cond_fn: ``eps_cond_fn(x_t [B, ...], t [B] int32, labels [B, ...]) -> [B, ...]``.
    guidance_scale: ``w``, a float scalar or a [B] array (one scale per example).
    null_label: the "no label" value the model was trained with (an int class index, or
      an array of the shape of one example's label, e.g. a zero one-hot vector).

  Returns:
    ``guided(x_t, t, labels) -> eps~`` with the signature of ``eps_cond_fn``; pass it to
    :func:`bind_labels` for the samplers.

  Raises:
    TypeError: if ``eps_cond_fn`` is not callable.
    ValueError: if ``guidance_scale`` is not finite or not a scalar / [B] array, or, when
      called, if ``labels`` has a batch size other than that of ``x_t``.

  Example:
    >>> guided = guided_eps_fn(functools.partial(unet.apply, params), 2.0, null_label=10)
    >>> x0 = ddim_sample(s, bind_labels(guided, labels), x_T, 50)
  """
  c.check_callable("eps_cond_fn", eps_cond_fn, _COND_SIGNATURE)
  w = jnp.asarray(guidance_scale)
  if w.ndim > 1 or not jnp.issubdtype(w.dtype, jnp.number):
    raise ValueError(f"`guidance_scale` must be a float scalar or [B], got shape {w.shape}")
  if not isinstance(w, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(w))):
    raise ValueError(f"`guidance_scale` must be finite, got {guidance_scale!r}")
  w = w.astype(jnp.float32) if not jnp.issubdtype(w.dtype, jnp.floating) else w
  return jax.tree_util.Partial(_guided, eps_cond_fn, w, jnp.asarray(null_label))


def _bound(eps_cond_fn, labels, x_t, t):
  return eps_cond_fn(x_t, t, labels)


def bind_labels(eps_cond_fn, labels):
  """Fixes the labels of a conditional model: ``eps_fn(x_t, t) = eps_cond_fn(x_t, t, labels)``.

  Args:
    eps_cond_fn: ``eps_cond_fn(x_t [B, ...], t [B] int32, labels [B, ...]) -> [B, ...]``,
      e.g. the result of :func:`guided_eps_fn`.
    labels: [B, ...] the conditioning of the batch to be sampled.

  Returns:
    ``eps_fn(x_t, t) -> eps``, a ``jax.tree_util.Partial`` with ``labels`` as a leaf.

  Raises:
    TypeError: if ``eps_cond_fn`` is not callable.
    ValueError: if ``labels`` is a scalar.

  Example:
    >>> x0 = ddim_sample(s, bind_labels(cond_fn, jnp.arange(8) % 10), x_T, 50)
  """
  c.check_callable("eps_cond_fn", eps_cond_fn, _COND_SIGNATURE)
  labels = jnp.asarray(labels)
  if labels.ndim < 1:
    raise ValueError(f"`labels` must be [B, ...], got shape {labels.shape}")
  return jax.tree_util.Partial(_bound, eps_cond_fn, labels)
