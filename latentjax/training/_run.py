"""Loading a trained run back from its folder, as pure functions over its parameters.

    run = training.load_run("runs/vae")
    z = run.encode(images)                      # [B, D] (posterior means for a VAE)
    x = run.decode(z)                           # [B, H, W, C] means of p(x | z)
    decoder = run.decoder_fn()                  # z [..., D] -> x, for latent_ops
    decoder = run.gaussian_decoder_fn()         # z -> (mean, std), once fitted
"""

import dataclasses
import json
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from latentjax.training._checkpoint import Checkpointer, abstract_like, checkpoint_dir
from latentjax.training._config import ExperimentConfig, upgrade_saved_config
from latentjax.training._experiment import Experiment, build_experiment, init_state
from latentjax.training._keys import INIT_KEY
from latentjax.training._state import TrainState

Array = jax.Array
CODE_GAUSSIAN_FILE = "code_gaussian.npz"


def read_config(workdir: str) -> ml_collections.ConfigDict:
  """The config a run was trained with (``<workdir>/config.json``)."""
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise FileNotFoundError(f"{path} not found: is {workdir!r} a latentjax run folder?")
  with open(path) as f:
    return ml_collections.ConfigDict(upgrade_saved_config(json.load(f)))


def decode_codes(decode, static, variables, label: Array | None, z: Array) -> Array:
  """A run's decoder on one code or a batch; the function behind :meth:`Run.decoder_fn`.

  Everything it uses is an argument, so the decoder is a pytree whose only leaves are
  the variables (see ``Family.decoding``).

  Args:
    decode: a module-level ``decode(static, variables, z [B, D], y [B] or None) -> x``.
    static: its constant part (the unbound module, likelihood name, ...).
    variables: the decoding network's variables (``{"params": ..., **model_state}``).
    label: an int32 scalar label used for every code, or None (unconditional).
    z: [D] or [B, D] codes.

  Returns:
    [...] for z [D], [B, ...] for z [B, D].
  """
  batched = z.ndim == 2
  zb = z if batched else z[None]
  yb = None if label is None else jnp.full((zb.shape[0],), label, jnp.int32)
  x = decode(static, variables, zb, yb)
  return x if batched else x[0]


def _is_concrete(x) -> bool:
  return not isinstance(x, jax.core.Tracer)


def _check_data(spec, x, name: str = "x") -> None:
  """Raises ValueError unless ``x`` is a float batch [B, *spec.input_shape] in range."""
  shape = tuple(spec.input_shape)
  if not hasattr(x, "shape") or not hasattr(x, "dtype"):
    raise ValueError(f"`{name}` must be an array [B, {', '.join(map(str, shape))}], "
                     f"got {type(x).__name__}")
  if tuple(x.shape[1:]) != shape or x.ndim != len(shape) + 1:
    hint = " (a single example: add a batch axis, x[None])" if tuple(x.shape) == shape else ""
    raise ValueError(f"`{name}` must be [B, {', '.join(map(str, shape))}] for dataset "
                     f"{spec.name!r}, got shape {tuple(x.shape)}{hint}")
  if not jnp.issubdtype(x.dtype, jnp.floating):
    scale = " (uint8 pixels: x / 255)" if spec.value_range is not None else ""
    raise ValueError(f"`{name}` must be floating point{scale}, got dtype {x.dtype}")
  if spec.value_range is not None and _is_concrete(x) and x.size:
    lo, hi = spec.value_range
    x_min, x_max = float(jnp.min(x)), float(jnp.max(x))
    if x_min < lo - 1e-3 or x_max > hi + 1e-3:
      raise ValueError(f"`{name}` values must lie in [{lo:g}, {hi:g}] for dataset "
                       f"{spec.name!r}, got [{x_min:.4g}, {x_max:.4g}]")


def _check_codes(z, latent_dim: int) -> None:
  """Raises ValueError unless ``z`` is a float batch of codes [B, latent_dim]."""
  if not hasattr(z, "shape") or not hasattr(z, "dtype"):
    raise ValueError(f"`z` must be an array [B, {latent_dim}], got {type(z).__name__}")
  if z.ndim != 2 or z.shape[1] != latent_dim:
    hint = " (a single code: z[None])" if z.shape == (latent_dim,) else ""
    raise ValueError(f"`z` must be [B, {latent_dim}] (this run's codes have "
                     f"{latent_dim} dimensions), got shape {tuple(z.shape)}{hint}")
  if not jnp.issubdtype(z.dtype, jnp.floating):
    raise ValueError(f"`z` must be floating point, got dtype {z.dtype}")


def _check_labels(y, batch: int) -> None:
  """Raises ValueError unless ``y`` is None or int class ids [batch]."""
  if y is None:
    return
  y = jnp.asarray(y)
  if y.shape != (batch,) or not jnp.issubdtype(y.dtype, jnp.integer):
    raise ValueError(f"`y` must be int class ids [{batch}], got shape {tuple(y.shape)} "
                     f"dtype {y.dtype}")


@dataclasses.dataclass(frozen=True, repr=False)
class Run:
  """A trained run: config, model and parameters, with encode/decode helpers.

  Attributes:
    workdir: the run folder.
    config: the ConfigDict it was trained with.
    exp: the ``Experiment`` (typed config, dataset spec, model).
    state: the restored ``TrainState`` (single host copy).
    step: the checkpoint's step.
  """

  workdir: str
  config: ml_collections.ConfigDict
  exp: Experiment
  state: TrainState
  step: int

  def __repr__(self) -> str:
    """A one-line summary: ``Run('runs/x', family='vae', step=8, latent_dim=2)``."""
    return (f"Run({self.workdir!r}, family={self.exp.family!r}, step={self.step}, "
            f"latent_dim={self.latent_dim})")

  @property
  def family(self) -> str:
    """The family's name, ``config.model.family`` (``"vae"``, ``"gan"``, ...)."""
    return self.exp.family

  @property
  def family_impl(self):
    """The run's registered ``Family``, which encodes, decodes and evaluates it."""
    return self.exp.family_impl

  @property
  def variables(self) -> dict:
    """Variables of the network that maps codes to data (the generator of a GAN);
    EMA parameters when ``eval.use_ema``."""
    return self.family_impl.eval_variables(self.exp, self.state)

  @property
  def params(self):
    """The parameters used for evaluation (of the generator, for a GAN)."""
    return self.variables["params"]

  @property
  def latent_dim(self) -> int:
    """D, the size of the codes (a diffusion model's: the flattened noise image)."""
    return self.family_impl.latent_dim(self.exp)

  @property
  def conditional(self) -> bool:
    return self.exp.label_key is not None

  def encode(self, x: Array, y: Array | None = None) -> Array:
    """Codes [B, D] of inputs [B, ...] (the posterior mean for a VAE).

    Args:
      x: [B, *input_shape] float data: images in [0, 1] (not uint8 0-255), points in
        data units.
      y: [B] int labels for a conditional run; None otherwise.

    Raises:
      ValueError: for a family without an encoder (GANs), or an ``x`` / ``y`` that does
        not fit the run (shape, dtype, value range), naming the argument.
    """
    _check_data(self.exp.spec, x)
    _check_labels(y, x.shape[0])
    return self.family_impl.encode(self, x, y)

  def encode_posterior(self, x: Array, y: Array | None = None) -> tuple[Array, Array]:
    """``(mean, logvar)`` [B, D] each; VAEs only (checks as :meth:`encode`)."""
    if not self.exp.is_variational:
      raise ValueError(f"encode_posterior needs a VAE; this run is a {self.exp.family!r}")
    _check_data(self.exp.spec, x)
    _check_labels(y, x.shape[0])
    return self.exp.model.apply(self.variables, x, y, method="encode")

  def decode(self, z: Array, y: Array | None = None) -> Array:
    """Data [B, ...] for codes z [B, D]: means of p(x | z), or a generator's samples
    (images in [0, 1], points in data units).

    Raises:
      ValueError: for a ``z`` that is not float [B, latent_dim], or a ``y`` that does not
        fit the run.
    """
    _check_codes(z, self.latent_dim)
    _check_labels(y, z.shape[0])
    return self.family_impl.decode(self, z, y)

  def decoder_fn(self, y: Array | None = None) -> jax.tree_util.Partial:
    """A pure ``decoder(z) -> x`` for latent_ops: z [D] -> x [...] or z [B, D] -> [B, ...].

    The decoder is a pytree, ``jax.tree_util.Partial(decode_codes, decode, static,
    variables, label)`` (``decode, static`` from the family's ``decoding``), holding the
    run's current variables as leaves: latent ops compile it once and reuse the compiled
    code, and it never changes behind their back.

    Args:
      y: for a conditional model, one integer label used for every code.

    Returns:
      ``decoder(z)``: data for z [D] (-> [...]) or z [B, D] (-> [B, ...]).
    """
    label = None if y is None else jnp.asarray(y, jnp.int32)
    decode, static = self.family_impl.decoding(self.exp)
    return jax.tree_util.Partial(decode_codes, decode, static, self.variables, label)

  def decoder_variance(self):
    """The ``latent_ops.RBFVariance`` fitted to this checkpoint (``fit_decoder_variance``).

    Raises:
      ValueError: for a family without one, when none is saved, or when it was fitted on
        another checkpoint step.
    """
    from latentjax.training._variance import run_variance

    return run_variance(self)

  def gaussian_decoder_fn(self) -> jax.tree_util.Partial:
    """The stochastic decoder ``z -> (mean, std)`` of the run's saved decoder variance.

    ``latent_ops.gaussian_decoder(self.decoder_fn(), self.decoder_variance())``: every
    geometric latent op given it works in the expected metric
    (``latent_ops.expected_metric``).

    Raises:
      ValueError: as :meth:`decoder_variance`.
    """
    from latentjax import latent_ops

    return latent_ops.gaussian_decoder(self.decoder_fn(), self.decoder_variance())

  def code_gaussian(self) -> tuple[Array, Array] | None:
    """The Gaussian fitted to training codes of an autoencoder, if evaluation saved one."""
    path = os.path.join(self.workdir, CODE_GAUSSIAN_FILE)
    if not os.path.exists(path):
      return None
    with np.load(path) as f:
      return jnp.asarray(f["mean"]), jnp.asarray(f["cov"])

  def sample_codes(self, key: Array, num_samples: int) -> Array:
    """Codes [N, D]: the prior (VAE, GAN) or the fitted code Gaussian (AE)."""
    return self.family_impl.sample_codes(self, key, num_samples)

  def sample(self, key: Array, num_samples: int, y: Array | None = None) -> Array:
    """Decoded samples [N, ...]."""
    return self.decode(self.sample_codes(key, num_samples), y)


def load_run(workdir: str, step: int | None = None) -> Run:
  """Restores a run's latest intact (or the given) checkpoint onto the first local device.

  Opens the checkpoints read-only: a run may be read while it trains. A damaged latest
  checkpoint is named in a warning and the newest intact one is used.

  Raises:
    FileNotFoundError: without config.json or a checkpoint.
    CheckpointError: when no checkpoint can be restored.
  """
  config = read_config(workdir)
  cfg = ExperimentConfig.from_config(config)
  exp = build_experiment(cfg)
  base_key = jax.random.PRNGKey(cfg.seed)
  template = jax.eval_shape(lambda: init_state(exp, jax.random.fold_in(base_key, INIT_KEY)))
  device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
  if not os.path.isdir(checkpoint_dir(workdir)):
    raise FileNotFoundError(f"no checkpoint in {workdir}: train the run first")
  ckpt = Checkpointer(workdir, read_only=True)  # never cleans up what a writer is writing
  try:
    if ckpt.latest_step() is None:
      raise FileNotFoundError(f"no checkpoint in {workdir}: train the run first")
    target = abstract_like(template.arrays(), device)
    if step is None:
      arrays, meta = ckpt.restore_intact(target)
    else:
      if step not in ckpt.all_steps():
        raise FileNotFoundError(
            f"no checkpoint of step {step} in {checkpoint_dir(workdir)}; steps: "
            f"{', '.join(map(str, ckpt.all_steps()))}")
      arrays, meta = ckpt.restore(target, step=step)
  finally:
    ckpt.close()
  state = template.with_arrays(arrays)
  return Run(workdir=workdir, config=config, exp=exp, state=state, step=int(meta["step"]))
