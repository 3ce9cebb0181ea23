"""Cross-entropy of a classifier with named heads (the feature networks of the metrics).

    loss_fn = objectives.make_classifier_loss(net, input_key="image",
                                              heads={"label": "label"})
    loss, (metrics, _) = loss_fn(params, {}, batch, keys)   # metrics: loss, accuracy_label
"""

from collections.abc import Callable, Mapping

import chex
import jax
import jax.numpy as jnp
import optax

Array = jax.Array


def make_classifier_loss(model, *, input_key: str, heads: Mapping[str, str]) -> Callable:
  """The summed softmax cross-entropy of every head, averaged over the batch.

  Args:
    model: a flax module whose ``apply(variables, x)`` returns ``{head: logits [B, C]}``.
    input_key: the batch key of the inputs [B, ...].
    heads: ``{head name: batch key of its int32 labels [B]}``.

  Returns:
    ``loss_fn(params, model_state, batch, keys) -> (loss, (metrics, model_state))``;
    metrics: ``loss`` and ``accuracy_<head>`` per head (fractions), ``xent_<head>`` (nats).

  Raises:
    ValueError: when ``heads`` is empty.
  """
  if not heads:
    raise ValueError("`heads` must map at least one head to a label key")
  heads = dict(heads)

  def loss_fn(params, model_state, batch, keys):
    x = batch[input_key]
    chex.assert_shape(keys, (x.shape[0], *keys.shape[1:]))
    logits = model.apply({"params": params, **model_state}, x)
    metrics, total = {}, jnp.zeros((), jnp.float32)
    for name, label_key in heads.items():
      y = batch[label_key]
      xent = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits[name], y))
      total = total + xent
      metrics[f"xent_{name}"] = xent
      metrics[f"accuracy_{name}"] = jnp.mean(jnp.argmax(logits[name], -1) == y)
    metrics["loss"] = total
    return total, (metrics, model_state)

  return loss_fn
