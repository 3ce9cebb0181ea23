"""From a typed config to the pieces of a run: dataset spec, model, loss, initial state.

Model families plug in here through a small adapter (how to initialise the module,
which loss trains it); the loop, checkpointing and evaluation are shared.
"""

import dataclasses
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from latentjax import models, objectives
from latentjax.training._config import ConfigError, ExperimentConfig
from latentjax.training._optim import make_optimizer
from latentjax.training._state import TrainState

Array = jax.Array


@dataclasses.dataclass(frozen=True, eq=False)  # hashed by identity: a static jit argument
class Experiment:
  """Everything about a run that follows from its config (no data read yet).

  Attributes:
    cfg: the typed config.
    spec: the dataset's ``DatasetSpec`` (input key, shape, classes, splits).
    model: the unbound flax module.
    loss_fn: ``(params, model_state, batch, keys) -> (loss, (metrics, model_state))``.
    label_key: the batch key the model is conditioned on, or None.
    train_split: the TFDS split trained on.
    eval_split: the TFDS split evaluated on.
  """

  cfg: ExperimentConfig
  spec: object
  model: nn.Module
  loss_fn: Callable
  label_key: str | None
  train_split: str
  eval_split: str

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
  """Resolves the dataset spec, builds the model and its loss.

  Raises:
    ValueError: for an unknown dataset, a family that does not fit the data (a
      conditional VAE on unlabelled data), or a conv model on non-image data.
  """
  spec = dataset_spec(cfg.data.name) if spec is None else spec
  conditional = cfg.model.family == "cvae"
  if conditional and not spec.num_classes:
    raise ConfigError(
        f"config.model.family='cvae' needs a labelled dataset; config.data.name="
        f"{cfg.data.name!r} has no class label")
  try:
    model = models.build_model(
        cfg.model.family, architecture=cfg.model.architecture,
        latent_dim=cfg.model.latent_dim, hidden_dims=cfg.model.hidden_dims,
        channels=cfg.model.channels, input_shape=spec.input_shape,
        num_classes=spec.num_classes if conditional else 0, conv_impl=cfg.model.conv_impl)
  except ValueError as e:
    raise ConfigError(f"config.model: {e}") from None
  if cfg.model.architecture == "conv":
    levels = len(cfg.model.channels)
    h, w = spec.input_shape[:2]
    if h % 2**levels or w % 2**levels:
      raise ConfigError(
          f"config.model.channels={cfg.model.channels!r}: {levels} stride-2 levels need H "
          f"and W divisible by {2**levels}, but {cfg.data.name!r} images are {h}x{w}")
  label_key = spec.label_key if conditional else None
  obj = cfg.objective
  if obj.binarize and spec.input_key != "image":
    raise ConfigError(
        f"config.objective.binarize=True needs images with intensities in [0, 1]; "
        f"config.data.name={cfg.data.name!r} has {spec.input_key!r} inputs")
  if isinstance(model, models.VAE):
    loss_fn = objectives.make_vae_loss(
        model, beta=obj.beta, likelihood=obj.likelihood, gaussian_scale=obj.gaussian_scale,
        input_key=spec.input_key, label_key=label_key, binarize=obj.binarize)
  else:
    loss_fn = objectives.make_ae_loss(
        model, likelihood=obj.likelihood, gaussian_scale=obj.gaussian_scale,
        input_key=spec.input_key, binarize=obj.binarize)
  return Experiment(cfg=cfg, spec=spec, model=model, loss_fn=loss_fn, label_key=label_key,
                    train_split=cfg.data.train_split or spec.train_split,
                    eval_split=cfg.data.eval_split or spec.test_split)


def example_inputs(exp: Experiment, batch_size: int = 1) -> dict:
  """A zero batch with the dataset's per-example shapes, for initialisation."""
  batch = {exp.spec.input_key: jnp.zeros((batch_size, *exp.spec.input_shape), jnp.float32)}
  if exp.label_key is not None:
    batch[exp.label_key] = jnp.zeros((batch_size,), jnp.int32)
  return batch


def init_variables(exp: Experiment, key: Array) -> dict:
  """Initial flax variables of the model."""
  batch = example_inputs(exp)
  x = batch[exp.spec.input_key]
  y = batch.get(exp.label_key) if exp.label_key else None
  if exp.is_variational:
    noise = jnp.zeros((1, exp.cfg.model.latent_dim), jnp.float32)
    return exp.model.init(key, x, noise, y)
  return exp.model.init(key, x)


def init_state(exp: Experiment, key: Array) -> TrainState:
  """A fresh ``TrainState`` for the experiment (params, optimizer, EMA)."""
  variables = dict(init_variables(exp, key))
  params = variables.pop("params")
  tx = make_optimizer(exp.cfg.optim, exp.cfg.train.num_steps)
  return TrainState.create(params=params, tx=tx, model_state=variables)
