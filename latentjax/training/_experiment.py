"""From a typed config to the pieces of a run: dataset spec, family, model, initial state.

Model families plug in here through the small interface of ``_families.Family`` (how to
build and initialise the modules, which step trains them); the loop, checkpointing and
evaluation are shared.
"""

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

from latentjax import models
from latentjax.training._config import ConfigError, ExperimentConfig
from latentjax.training._families import Family, get_family
from latentjax.training._state import TrainState

Array = jax.Array


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: a static jit argument
class Experiment:
  """Everything about a run that follows from its config (no data read yet).

  Attributes:
    cfg: the typed config.
    spec: the dataset's ``DatasetSpec`` (input key, shape, classes, splits).
    model: the unbound flax module (for a GAN, ``GANNetworks(generator, discriminator)``).
    loss_fn: ``(params, model_state, batch, keys) -> (loss, (metrics, model_state))`` for
      single-loss families; None for families whose step has several losses (GANs).
    label_key: the batch key the model is conditioned on, or None.
    train_split: the TFDS split trained on.
    eval_split: the TFDS split evaluated on.
    family_impl: the registered ``Family`` of ``cfg.model.family``.
  """

  cfg: ExperimentConfig
  spec: object
  model: object
  loss_fn: Callable | None
  label_key: str | None
  train_split: str
  eval_split: str
  family_impl: Family

  @property
  def family(self) -> str:
    return self.cfg.model.family

  @property
  def is_variational(self) -> bool:
    return isinstance(self.model, models.VAE)


def dataset_spec(name: str):
  """The dataset's spec; raises ValueError listing known names for an unknown one."""
  from latentjax import data  # imports TensorFlow Datasets: only when a run starts

  try:
    return data.get_spec(name)
  except ValueError as e:
    raise ConfigError(f"config.data.name: {e}") from None


def build_experiment(cfg: ExperimentConfig, spec=None) -> Experiment:
  """Resolves the dataset spec and the family, and builds the model (and its loss).

  Raises:
    ValueError: for an unknown dataset or family, a family that does not fit the data (a
      conditional model on unlabelled data), or a conv model on non-image data.
  """
  family = get_family(cfg.model.family)
  spec = dataset_spec(cfg.data.name) if spec is None else spec
  parts = family.build(cfg, spec)
  return Experiment(cfg=cfg, spec=spec, model=parts["model"], loss_fn=parts["loss_fn"],
                    label_key=parts["label_key"],
                    train_split=cfg.data.train_split or spec.train_split,
                    eval_split=cfg.data.eval_split or spec.test_split, family_impl=family)


def example_inputs(exp: Experiment, batch_size: int = 1) -> dict:
  """A zero batch with the dataset's per-example shapes, for initialisation."""
  batch = {exp.spec.input_key: jnp.zeros((batch_size, *exp.spec.input_shape), jnp.float32)}
  if exp.label_key is not None:
    batch[exp.label_key] = jnp.zeros((batch_size,), jnp.int32)
  return batch


def init_state(exp: Experiment, key: Array) -> TrainState:
  """A fresh ``TrainState`` for the experiment (its family decides what it holds)."""
  return exp.family_impl.init_state(exp, key)


def make_step(exp: Experiment, axis_name: str | None = None) -> Callable:
  """The experiment's pure ``step(state, batch, key) -> (state, metrics)``."""
  return exp.family_impl.make_step(exp, axis_name=axis_name)
