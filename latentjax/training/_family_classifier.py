"""The ``classifier`` family: the feature networks of the sample-quality metrics.

A classifier of the dataset's classes (``digits``: its 10 digits) or of each of its
ground-truth factors (``sprites``: shape, scale, orientation, x and y position, one head
each), trained by the shared loop with one cross-entropy loss. ``model.latent_dim`` is
the width of its penultimate layer: ``Run.encode`` returns those features, which is what
FID, KID and PRDC compare; its heads' predictions give class coverage and the
Inception-style score (see ``latentjax.metrics.FeatureNetwork``). A classifier has no
decoder, so it has nothing to sample.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import models, objectives
from latentjax.training._config import ConfigError
from latentjax.training._families import register_family
from latentjax.training._family_single import SingleNetworkFamily

Array = jax.Array


def classifier_heads(spec) -> tuple[tuple[str, str, int], ...]:
  """``(head, label key, num_classes)`` per head for a dataset spec.

  Raises:
    ConfigError: for a dataset with neither class labels nor factors.
  """
  if spec.num_classes and spec.label_key:
    return (("label", spec.label_key, spec.num_classes),)
  if spec.factor_names:
    return tuple((f, f"label_{f}", n)
                 for f, n in zip(spec.factor_names, spec.factor_sizes, strict=True))
  raise ConfigError(
      f"config.model.family='classifier' needs a dataset with class labels or factors; "
      f"config.data.name={spec.name!r} has neither")


def _correct(exp, variables, batch):
  logits = exp.model.apply(variables, batch[exp.spec.input_key])
  return {name: jnp.argmax(logits[name], -1) == batch[key]
          for name, key, _ in classifier_heads(exp.spec)}


@functools.cache
def _correct_jitted():  # compiled on first use, not at import
  return jax.jit(_correct, static_argnames=("exp",))


def classifier_accuracy(exp, variables, num_examples: int | None = None) -> dict:
  """``accuracy_<head>`` (fractions) over ``exp.eval_split`` and ``num_examples``."""
  from latentjax.training._evaluate import _pad, eval_batches

  n = exp.cfg.eval.num_examples if num_examples is None else num_examples
  size = exp.cfg.data.eval_batch_size
  sums, count = {}, 0
  for batch in eval_batches(exp, exp.eval_split, n):
    padded, valid = _pad(batch, size)
    out = jax.device_get(_correct_jitted()(exp, variables, padded))
    for k, v in out.items():
      sums[k] = sums.get(k, 0) + int(np.sum(v[:valid]))
    count += valid
  if count == 0:
    raise ValueError(f"evaluation split {exp.eval_split!r} of {exp.cfg.data.name!r} is empty")
  out = {f"accuracy_{k}": v / count for k, v in sums.items()}
  out["num_examples"] = count
  return out


class ClassifierFamily(SingleNetworkFamily):
  """``classifier`` (see the module docstring)."""

  def build(self, cfg, spec) -> dict:
    heads = classifier_heads(spec)
    m = cfg.model
    if m.architecture == "conv":
      if len(spec.input_shape) != 3:
        raise ConfigError(f"config.model.architecture='conv' needs images; "
                          f"{cfg.data.name!r} inputs have shape {spec.input_shape}")
      h, w = spec.input_shape[:2]
      if h % 2 ** len(m.channels) or w % 2 ** len(m.channels):
        raise ConfigError(
            f"config.model.channels={m.channels!r}: {len(m.channels)} stride-2 levels need "
            f"H and W divisible by {2 ** len(m.channels)}, but {cfg.data.name!r} images "
            f"are {h}x{w}")
    model = models.Classifier(
        architecture=m.architecture, hidden_dims=m.hidden_dims, channels=m.channels,
        feature_dim=m.latent_dim, heads=tuple((name, n) for name, _, n in heads),
        conv_impl=m.conv_impl)
    loss_fn = objectives.make_classifier_loss(
        model, input_key=spec.input_key, heads={name: key for name, key, _ in heads})
    return {"model": model, "loss_fn": loss_fn, "label_key": None}

  def init_variables(self, exp, key: Array) -> dict:
    from latentjax.training._experiment import example_inputs

    return exp.model.init(key, example_inputs(exp)[exp.spec.input_key])

  def evaluate_state(self, exp, state, key: Array, num_examples: int | None = None) -> dict:
    del key
    return classifier_accuracy(exp, self.eval_variables(exp, state), num_examples)

  def report(self, run, key: Array, write_images: bool) -> dict:
    del key, write_images
    out = classifier_accuracy(run.exp, run.variables)
    out["heads"] = {name: n for name, _, n in classifier_heads(run.exp.spec)}
    out["feature_dim"] = run.exp.cfg.model.latent_dim
    out["measures"] = "test accuracy of each head (fraction of examples)"
    return out

  def encode(self, run, x: Array, y: Array | None) -> Array:
    """Penultimate features [B, F] (``F = model.latent_dim``)."""
    del y
    return run.exp.model.apply(run.variables, x, method="features")

  def decoding(self, exp):
    raise ValueError(
        "a classifier has no decoder: it maps data to features (Run.encode) and classes; "
        "it is the feature network of latentjax.metrics, not a generative model")

  def sample_codes(self, run, key: Array, num_samples: int) -> Array:
    raise ValueError("a classifier has no latent distribution to sample from")


register_family(ClassifierFamily("classifier"))
