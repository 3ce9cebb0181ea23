"""The one boundary where an untyped ``ml_collections.ConfigDict`` becomes typed.

Every knob a run uses is declared in the config file; ``ExperimentConfig.from_config``
checks that each section has exactly the expected keys, that values have the right
type and range, and raises ``ValueError`` naming the key and the value otherwise —
before any data is read or anything is compiled::

    cfg = ExperimentConfig.from_config(get_config("smoke"))
    cfg.objective.beta
"""

import dataclasses
import math
import typing
from typing import Any

PARALLEL_MODES = ("sharded", "pmap")
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")


class ConfigError(ValueError):
  """A config key is missing, unknown, of the wrong type or out of range."""


@dataclasses.dataclass(frozen=True)
class DataConfig:
  name: str
  data_dir: str  # "" means TFDS's default (~/tensorflow_datasets or $TFDS_DATA_DIR)
  download: bool
  batch_size: int  # global batch, split over devices and processes
  eval_batch_size: int
  shuffle_buffer_size: int  # 0: the whole split when it is small enough
  train_split: str  # "" means the dataset's own train split
  eval_split: str  # "" means the dataset's own test split


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  family: str
  architecture: str
  latent_dim: int
  hidden_dims: tuple[int, ...]
  channels: tuple[int, ...]
  conv_impl: str  # auto | xla | fast (models.resolve_conv_impl)
  d_hidden_dims: tuple[int, ...]  # GAN discriminator (mlp)
  d_channels: tuple[int, ...]  # GAN discriminator (conv)
  spectral_norm: bool  # GAN discriminator
  d_batch_norm: bool  # GAN discriminator (conv)
  unet_channels: int  # diffusion U-Net: base channels
  unet_mult: tuple[int, ...]  # diffusion U-Net: channel multiplier per resolution level
  num_res_blocks: int  # diffusion U-Net: residual blocks per level (down path)
  attn_resolutions: tuple[int, ...]  # diffusion U-Net: sizes with self-attention
  dropout: float  # diffusion U-Net
  norm_groups: int  # diffusion U-Net: GroupNorm groups (divides every level's channels)
  latent_run: str  # latent diffusion: the ae / vae run; noise_encoder: the diffusion run


@dataclasses.dataclass(frozen=True)
class ObjectiveConfig:
  likelihood: str
  gaussian_scale: float
  beta: float
  binarize: bool  # dynamic binarisation of [0, 1] inputs (a Bernoulli likelihood's data)
  gan_loss: str
  n_critic: int  # discriminator updates per generator update
  gp_weight: float
  r1_weight: float
  num_timesteps: int  # diffusion: T
  noise_schedule: str  # diffusion: linear | cosine
  prediction: str  # diffusion: eps | v
  p_uncond: float  # conditional diffusion: probability of training with the null label


@dataclasses.dataclass(frozen=True)
class OptimConfig:
  name: str
  learning_rate: float
  d_learning_rate: float  # GAN discriminator; 0: learning_rate
  b1: float
  b2: float
  weight_decay: float
  grad_clip_norm: float  # 0: no clipping
  warmup_steps: int
  schedule: str


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  num_steps: int
  parallel: str
  num_devices: int  # 0: all devices
  log_every_steps: int
  checkpoint_every_steps: int
  keep_checkpoints: int
  eval_every_steps: int  # 0: evaluate only at the end
  ema_decay: float
  progress_bar: bool
  compute_dtype: str  # float32 | bfloat16: the networks' arithmetic in training steps


@dataclasses.dataclass(frozen=True)
class EvalConfig:
  num_examples: int  # 0: the whole evaluation split
  num_elbo_samples: int
  num_iwae_samples: int
  use_ema: bool
  num_sample_images: int
  num_quality_samples: int  # images on each side of FID / KID / PRDC, PPL paths
  num_disentanglement_points: int  # training points of MIG / SAP / DCI (test: half)
  num_intervention_points: int  # training points of the beta-VAE / FactorVAE scores
  quality_every_steps: int  # 0: sample-quality metrics only in experiments/evaluate.py
  num_geodesic_pairs: int  # test-code pairs of the geodesic length ratio (0: none)
  num_geodesic_steps: int  # optimiser steps of each of those geodesics
  feature_network: str  # "": the cached classifier of the dataset (metrics.feature_network_dir)
  sampler: str  # diffusion: ddim | ddpm | dpm_solver
  sampling_steps: int  # diffusion: steps of the sampler (and of DDIM inversion)
  ddim_eta: float  # diffusion: DDIM's eta (0: deterministic)
  guidance_scale: float  # conditional diffusion: classifier-free guidance weight w


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
  seed: int
  data: DataConfig
  model: ModelConfig
  objective: ObjectiveConfig
  optim: OptimConfig
  train: TrainConfig
  eval: EvalConfig

  @classmethod
  def from_config(cls, config) -> "ExperimentConfig":
    """Validates a ConfigDict (or nested mapping) and returns the typed config.

    Raises:
      ValueError: for a missing or unknown key, a wrong type or a value out of range;
        the message names the key (e.g. ``config.objective.beta``) and the value.
    """
    raw = _to_dict(config)
    _check_keys(raw, [f.name for f in dataclasses.fields(cls)], "config")
    sections = {}
    for f in dataclasses.fields(cls):
      if f.name == "seed":
        continue
      sections[f.name] = _build(f.type, raw[f.name], f"config.{f.name}")
    out = cls(seed=_coerce(int, raw["seed"], "config.seed"), **sections)
    _validate(out)
    return out


# Keys added after runs were already being saved, with the value that reproduces what
# those runs did. A saved config.json that lacks them is read with these values (and
# only then), so older run folders still load, evaluate and are checked on resume.
ADDED_KEYS = {
    "objective.binarize": False,
    "model.conv_impl": "xla",
    "model.d_hidden_dims": [128, 128],
    "model.d_channels": [32, 64],
    "model.spectral_norm": False,
    "model.d_batch_norm": False,
    "objective.gan_loss": "non_saturating",
    "objective.n_critic": 1,
    "objective.gp_weight": 0.0,
    "objective.r1_weight": 0.0,
    "optim.d_learning_rate": 0.0,
    "eval.num_quality_samples": 5000,
    "eval.num_disentanglement_points": 10000,
    "eval.num_intervention_points": 2000,
    "eval.quality_every_steps": 0,
    "eval.num_geodesic_pairs": 8,
    "eval.num_geodesic_steps": 200,
    "eval.feature_network": "",
    "model.unet_channels": 32,
    "model.unet_mult": [1, 2],
    "model.num_res_blocks": 1,
    "model.attn_resolutions": [],
    "model.dropout": 0.0,
    "model.norm_groups": 32,
    "model.latent_run": "",
    "objective.num_timesteps": 1000,
    "objective.noise_schedule": "linear",
    "objective.prediction": "eps",
    "objective.p_uncond": 0.1,
    "eval.sampler": "ddim",
    "eval.sampling_steps": 50,
    "eval.ddim_eta": 0.0,
    "eval.guidance_scale": 0.0,
    "train.compute_dtype": "float32",
}


def upgrade_saved_config(raw: dict) -> dict:
  """A saved config (plain dict) with every key of `ADDED_KEYS` it lacks filled in."""
  out = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
  for dotted, value in ADDED_KEYS.items():
    section, key = dotted.split(".")
    if isinstance(out.get(section), dict) and key not in out[section]:
      out[section][key] = value
  return out


def _to_dict(config) -> dict:
  if hasattr(config, "to_dict"):
    return config.to_dict()
  return dict(config)


def _check_keys(raw: dict, expected: list[str], where: str) -> None:
  if not isinstance(raw, dict):
    raise ConfigError(f"`{where}` must be a section of keys, got {raw!r}")
  missing = sorted(set(expected) - set(raw))
  unknown = sorted(set(raw) - set(expected))
  if missing:
    raise ConfigError(f"{where} is missing key(s): {', '.join(missing)}")
  if unknown:
    raise ConfigError(
        f"{where} has unknown key(s): {', '.join(unknown)}; expected: {', '.join(expected)}")


def _coerce(tp, value, name):
  origin = typing.get_origin(tp)
  if origin is tuple:
    if not isinstance(value, (list, tuple)):
      raise ConfigError(f"{name} must be a tuple of ints, got {value!r}")
    return tuple(_coerce(int, v, f"{name}[{i}]") for i, v in enumerate(value))
  if tp is bool:
    if not isinstance(value, bool):
      raise ConfigError(f"{name} must be a bool, got {value!r}")
    return value
  if tp is int:
    if isinstance(value, bool) or not isinstance(value, int):
      raise ConfigError(f"{name} must be an int, got {value!r}")
    return value
  if tp is float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
      raise ConfigError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
      raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return float(value)
  if tp is str:
    if value is None:
      return ""
    if not isinstance(value, str):
      raise ConfigError(f"{name} must be a string, got {value!r}")
    return value
  raise TypeError(f"unsupported config field type {tp} for {name}")


def _build(tp, raw: Any, where: str):
  hints = typing.get_type_hints(tp)
  names = [f.name for f in dataclasses.fields(tp)]
  _check_keys(raw, names, where)
  return tp(**{n: _coerce(hints[n], raw[n], f"{where}.{n}") for n in names})


def fail_key(key: str, value, requirement: str):
  """Raises ``ConfigError("config.<key> <requirement>, got <value>")``."""
  raise ConfigError(f"config.{key} {requirement}, got {value!r}")



def _positive(key, value):
  if value <= 0:
    fail_key(key, value, "must be positive")


def _non_negative(key, value):
  if value < 0:
    fail_key(key, value, "must be >= 0")


def _one_of(key, value, allowed):
  if value not in allowed:
    fail_key(key, value, f"must be one of {', '.join(map(repr, allowed))}")


def _validate(cfg: ExperimentConfig) -> None:
  """Range checks that need no data and no devices."""
  # Late imports keep this module free of heavy dependencies.
  from latentjax.models import ARCHITECTURES, COMPUTE_DTYPES, CONV_IMPLS
  from latentjax.objectives import LIKELIHOODS
  from latentjax.training._families import get_family, registered_families

  _positive("data.batch_size", cfg.data.batch_size)
  _positive("data.eval_batch_size", cfg.data.eval_batch_size)
  _non_negative("data.shuffle_buffer_size", cfg.data.shuffle_buffer_size)
  if not cfg.data.name:
    fail_key("data.name", cfg.data.name, "must name a dataset")
  _one_of("model.family", cfg.model.family, registered_families())
  _one_of("model.architecture", cfg.model.architecture, ARCHITECTURES)
  _positive("model.latent_dim", cfg.model.latent_dim)
  _one_of("model.conv_impl", cfg.model.conv_impl, CONV_IMPLS)
  for i, h in enumerate(cfg.model.hidden_dims):
    _positive(f"model.hidden_dims[{i}]", h)
  for i, c in enumerate(cfg.model.channels):
    _positive(f"model.channels[{i}]", c)
  if cfg.model.architecture == "mlp" and not cfg.model.hidden_dims:
    fail_key("model.hidden_dims", cfg.model.hidden_dims, "must list at least one width for 'mlp'")
  if cfg.model.architecture == "conv" and not cfg.model.channels:
    fail_key("model.channels", cfg.model.channels, "must list at least one width for 'conv'")
  _one_of("objective.likelihood", cfg.objective.likelihood, LIKELIHOODS)
  _positive("objective.gaussian_scale", cfg.objective.gaussian_scale)
  if cfg.objective.binarize and cfg.objective.likelihood != "bernoulli":
    raise ConfigError(
        f"config.objective.binarize=True needs config.objective.likelihood='bernoulli' "
        f"(binarised data are binary), got {cfg.objective.likelihood!r}")
  _non_negative("objective.beta", cfg.objective.beta)
  _validate_gan(cfg)
  _validate_diffusion(cfg)
  get_family(cfg.model.family).check_config(cfg)  # what only this family's keys must meet
  _one_of("optim.name", cfg.optim.name, OPTIMIZERS)
  _positive("optim.learning_rate", cfg.optim.learning_rate)
  for k in ("b1", "b2"):
    v = getattr(cfg.optim, k)
    if not 0.0 <= v < 1.0:
      fail_key(f"optim.{k}", v, "must be in [0, 1)")
  _non_negative("optim.weight_decay", cfg.optim.weight_decay)
  _non_negative("optim.grad_clip_norm", cfg.optim.grad_clip_norm)
  _non_negative("optim.warmup_steps", cfg.optim.warmup_steps)
  _one_of("optim.schedule", cfg.optim.schedule, SCHEDULES)
  _positive("train.num_steps", cfg.train.num_steps)
  _one_of("train.parallel", cfg.train.parallel, PARALLEL_MODES)
  _non_negative("train.num_devices", cfg.train.num_devices)
  _positive("train.log_every_steps", cfg.train.log_every_steps)
  _positive("train.checkpoint_every_steps", cfg.train.checkpoint_every_steps)
  _positive("train.keep_checkpoints", cfg.train.keep_checkpoints)
  _non_negative("train.eval_every_steps", cfg.train.eval_every_steps)
  if not 0.0 <= cfg.train.ema_decay < 1.0:
    fail_key("train.ema_decay", cfg.train.ema_decay, "must be in [0, 1)")
  _one_of("train.compute_dtype", cfg.train.compute_dtype, COMPUTE_DTYPES)
  _non_negative("eval.num_examples", cfg.eval.num_examples)
  _positive("eval.num_elbo_samples", cfg.eval.num_elbo_samples)
  _positive("eval.num_iwae_samples", cfg.eval.num_iwae_samples)
  _positive("eval.num_sample_images", cfg.eval.num_sample_images)
  if cfg.eval.num_quality_samples < 2:
    fail_key("eval.num_quality_samples", cfg.eval.num_quality_samples, "must be >= 2")
  if cfg.eval.num_disentanglement_points < 4:
    fail_key("eval.num_disentanglement_points", cfg.eval.num_disentanglement_points,
             "must be >= 4")
  if cfg.eval.num_intervention_points < 4:
    fail_key("eval.num_intervention_points", cfg.eval.num_intervention_points, "must be >= 4")
  _non_negative("eval.quality_every_steps", cfg.eval.quality_every_steps)
  _non_negative("eval.num_geodesic_pairs", cfg.eval.num_geodesic_pairs)
  _positive("eval.num_geodesic_steps", cfg.eval.num_geodesic_steps)


def _validate_gan(cfg: ExperimentConfig) -> None:
  """The GAN keys (checked for every family, so a typo never waits for a GAN run)."""
  from latentjax.objectives import GAN_LOSSES

  _one_of("objective.gan_loss", cfg.objective.gan_loss, tuple(sorted(GAN_LOSSES)))
  if cfg.objective.n_critic < 1:
    fail_key("objective.n_critic", cfg.objective.n_critic, "must be >= 1")
  _non_negative("objective.gp_weight", cfg.objective.gp_weight)
  _non_negative("objective.r1_weight", cfg.objective.r1_weight)
  _non_negative("optim.d_learning_rate", cfg.optim.d_learning_rate)
  for i, h in enumerate(cfg.model.d_hidden_dims):
    _positive(f"model.d_hidden_dims[{i}]", h)
  for i, c in enumerate(cfg.model.d_channels):
    _positive(f"model.d_channels[{i}]", c)


NOISE_SCHEDULES = ("linear", "cosine")
PREDICTIONS = ("eps", "v")
SAMPLERS = ("ddim", "ddpm", "dpm_solver")


def _validate_diffusion(cfg: ExperimentConfig) -> None:
  """The diffusion keys (checked for every family, as the GAN keys)."""
  m, o, e = cfg.model, cfg.objective, cfg.eval
  _positive("model.unet_channels", m.unet_channels)
  if not m.unet_mult:
    fail_key("model.unet_mult", m.unet_mult, "must list at least one multiplier")
  for i, v in enumerate(m.unet_mult):
    _positive(f"model.unet_mult[{i}]", v)
  _positive("model.num_res_blocks", m.num_res_blocks)
  for i, v in enumerate(m.attn_resolutions):
    _positive(f"model.attn_resolutions[{i}]", v)
  if not 0.0 <= m.dropout < 1.0:
    fail_key("model.dropout", m.dropout, "must be in [0, 1)")
  _positive("model.norm_groups", m.norm_groups)
  if o.num_timesteps < 2:
    fail_key("objective.num_timesteps", o.num_timesteps, "must be >= 2")
  _one_of("objective.noise_schedule", o.noise_schedule, NOISE_SCHEDULES)
  _one_of("objective.prediction", o.prediction, PREDICTIONS)
  if not 0.0 <= o.p_uncond < 1.0:
    fail_key("objective.p_uncond", o.p_uncond, "must be in [0, 1)")
  _one_of("eval.sampler", e.sampler, SAMPLERS)
  if not 1 <= e.sampling_steps <= o.num_timesteps:
    fail_key("eval.sampling_steps", e.sampling_steps,
             f"must be in [1, config.objective.num_timesteps={o.num_timesteps}]")
  _non_negative("eval.ddim_eta", e.ddim_eta)
  _non_negative("eval.guidance_scale", e.guidance_scale)


def check_unet_groups(cfg: ExperimentConfig) -> None:
  """``model.norm_groups`` divides the channels of every U-Net level (families with one)."""
  m = cfg.model
  for i, mult in enumerate(m.unet_mult):
    if (m.unet_channels * mult) % m.norm_groups:
      fail_key("model.norm_groups", m.norm_groups,
               f"must divide every level's channels (config.model.unet_channels * "
               f"unet_mult[{i}] = {m.unet_channels * mult})")


def check_devices(cfg: ExperimentConfig, device_count: int, process_count: int) -> int:
  """Resolves ``train.num_devices`` and checks the batch divides over devices and processes.

  Returns:
    The number of devices the run uses.

  Raises:
    ValueError: naming ``config.train.num_devices`` or ``config.data.batch_size``.
  """
  from latentjax.training._families import get_family

  n = cfg.train.num_devices or device_count
  if n > device_count:
    fail_key("train.num_devices", cfg.train.num_devices,
             f"must be at most the {device_count} available device(s)")
  if process_count > 1 and n != device_count:
    fail_key("train.num_devices", cfg.train.num_devices,
             "must be 0 (all devices) in a multi-process run")
  if cfg.data.batch_size % n:
    fail_key("data.batch_size", cfg.data.batch_size,
             f"must be divisible by the device count {n}")
  get_family(cfg.model.family).check_devices(cfg, n)
  if cfg.data.batch_size % process_count:
    fail_key("data.batch_size", cfg.data.batch_size,
             f"must be divisible by the process count {process_count}")
  return n


