"""Model families: what each kind of model plugs into the one shared training loop.

The loop, its sharded / pmap compilation, orbax checkpoints, exact resume, the NaN stop,
the config check and logging are shared by every family. A family supplies only what
differs between kinds of model, through the small interface of :class:`Family`:

  ==================  ==================================================================
  ``check_config``    the family's own config rules, before data or devices (raises
                      ``ConfigError``); ``check_devices``: the batch split its step needs
  ``build``           typed config + dataset spec -> the modules (and a loss, if any);
                      checks that the family fits the data (raises ``ConfigError``)
  ``init_state``      -> the initial ``TrainState`` (one checkpointable pytree)
  ``make_step``       -> a pure ``step(state, batch, key) -> (state, metrics)``; with
                      ``axis_name`` it averages over that pmap axis
  ``evaluate_state``  -> evaluation metrics of a state (during training and at the end)
  ``report``          -> the figures of ``metrics.json`` and the images of a run folder
  run helpers         ``eval_variables`` (what ``z -> x`` runs on), ``decoding`` (the
                      ``z -> x`` function), ``decode`` (it applied, compiled),
                      ``encode``, ``sample_codes``: what ``load_run`` offers
  ==================  ==================================================================

Families are registered by ``config.model.family`` name::

    family = get_family("gan")         # ValueError listing the registered names if unknown
    step = family.make_step(exp, axis_name=None)
"""

import abc
import functools
from collections.abc import Callable

import jax

from latentjax.training._config import ConfigError, fail_key

Array = jax.Array


@functools.cache
def compiled_decode(decode: Callable) -> Callable:
  """``decode(static, variables, z, y)`` compiled with ``static`` a compile-time constant."""
  return jax.jit(decode, static_argnums=0)


class Family(abc.ABC):
  """The interface a model family implements (methods are called with the Experiment).

  Attributes:
    name: the ``config.model.family`` value.
    conditional: whether the family is conditioned on the dataset's class label.
    has_encoder: whether runs of this family map data to codes (``Run.encode``).
    latent_geometry: whether metrics that differentiate decoding (geodesics, path
      length) apply; False where decoding is a whole sampling chain (diffusion).
  """

  name: str = ""
  conditional: bool = False
  has_encoder: bool = True
  latent_geometry: bool = True  # whether Jacobian-based latent metrics of decoding apply

  def __init__(self, name: str, conditional: bool = False):
    self.name = name
    self.conditional = conditional

  def progress_metrics(self, exp) -> tuple[str, ...]:
    """The step metrics the progress bar shows, in order (those the step reports)."""
    del exp
    return ("loss",)

  def check_config(self, cfg) -> None:
    """Raises ConfigError naming a key when the typed config does not suit this family.

    Called by the config check, before any data or device is touched; the keys every
    family shares are checked there already. By default a family takes no guidance.
    """
    if cfg.eval.guidance_scale:
      fail_key("eval.guidance_scale", cfg.eval.guidance_scale,
               f"needs a conditional model (config.model.family='cdiffusion'), not "
               f"{self.name!r}")

  def check_devices(self, cfg, num_devices: int) -> None:
    """Raises ConfigError when the batch cannot be split as this family's step needs."""
    del cfg, num_devices

  def check_labels(self, cfg, spec) -> None:
    """Raises ConfigError when a conditional family is given a dataset without labels."""
    if self.conditional and not spec.num_classes:
      raise ConfigError(
          f"config.model.family={self.name!r} needs a labelled dataset; config.data.name="
          f"{cfg.data.name!r} has no class label")

  @abc.abstractmethod
  def build(self, cfg, spec) -> dict:
    """Builds the modules; returns ``{"model": module, "loss_fn": callable or None}``.

    Raises:
      ConfigError: naming the config key when the family does not fit the data.
    """
    ...

  @abc.abstractmethod
  def init_state(self, exp, key: Array):
    """A fresh ``TrainState`` at step 0."""
    ...

  @abc.abstractmethod
  def make_step(self, exp, axis_name: str | None = None) -> Callable:
    """The pure step ``step(state, batch, key) -> (state, metrics)``.

    Args:
      exp: the Experiment.
      axis_name: the pmap axis to average gradients, metrics and statistics over.
    """
    ...

  @abc.abstractmethod
  def evaluate_state(self, exp, state, key: Array, num_examples: int | None = None) -> dict:
    """Evaluation metrics of a single-copy state: floats, plus ``num_examples`` (the
    split's examples read) and ``num_samples`` (samples generated) where there are any."""
    ...

  @abc.abstractmethod
  def report(self, run, key: Array, write_images: bool) -> dict:
    """Figures for ``metrics.json``; writes the run's images when ``write_images``."""
    ...

  @abc.abstractmethod
  def eval_variables(self, exp, state) -> dict:
    """The flax variables of the network that maps codes to data (EMA per eval.use_ema)."""
    ...

  def latent_dim(self, exp) -> int:
    """D, the size of the codes ``decoding`` maps to data."""
    return exp.cfg.model.latent_dim

  def encode(self, run, x: Array, y: Array | None) -> Array:
    """Codes [B, D] of data [B, ...]."""
    raise ValueError(
        f"encode needs a model with an encoder; config.model.family={self.name!r} has none "
        f"(invert the generator instead: latentjax.latent_ops.invert(run.decoder_fn(), x))")

  @abc.abstractmethod
  def decoding(self, exp) -> tuple[Callable, tuple]:
    """How codes become data: ``(decode, static)`` with ``decode(static, variables, z, y)``.

    ``decode`` is a module-level function and ``static`` a tuple of constants (unbound
    modules, names), so ``Run.decoder_fn`` is a pytree whose only leaves are the
    variables and latent ops reuse its compiled code across runs of the same shapes.
    ``z`` is [B, D], ``y`` [B] labels or None; the result is data [B, ...] in the
    dataset's range.
    """
    ...

  def decode(self, run, z: Array, y: Array | None) -> Array:
    """``Run.decode``: data [B, ...] of codes z [B, D] (checked there), by default
    `decoding` compiled as one program per run and batch shape."""
    decode, static = self.decoding(run.exp)
    return compiled_decode(decode)(static, run.variables, z, y)

  @abc.abstractmethod
  def sample_codes(self, run, key: Array, num_samples: int) -> Array:
    """Codes [N, D] to decode into samples."""
    ...


_FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
  """Adds a family instance to the registry under ``family.name``.

  Raises:
    ValueError: when the name is already registered.
  """
  if family.name in _FAMILIES:
    raise ValueError(f"training family {family.name!r} is already registered")
  _FAMILIES[family.name] = family
  return family


def registered_families() -> tuple[str, ...]:
  """The names ``config.model.family`` accepts, sorted."""
  _load_builtin()
  return tuple(sorted(_FAMILIES))


def get_family(name: str) -> Family:
  """The registered family called ``name``.

  Raises:
    ConfigError: ``config.model.family: Unknown model family 'gna'; registered: ae, ...``.
  """
  _load_builtin()
  if name not in _FAMILIES:
    raise ConfigError(f"config.model.family: Unknown model family {name!r}; registered: "
                      f"{', '.join(registered_families())}")
  return _FAMILIES[name]


def _load_builtin() -> None:
  # The built-in families register themselves on import (late: they import the models).
  from latentjax.training import (  # noqa: F401
      _family_classifier,
      _family_diffusion,
      _family_gan,
      _family_noise_encoder,
      _family_vae,
  )
