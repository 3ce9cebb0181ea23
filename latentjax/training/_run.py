"""Loading a trained run back from its folder, as pure functions over its parameters.

    run = training.load_run("runs/vae")
    z = run.encode(images)                      # [B, D] (posterior means for a VAE)
    x = run.decode(z)                           # [B, H, W, C] means of p(x | z)
    decoder = run.decoder_fn()                  # z [..., D] -> x, for latent_ops
"""

import dataclasses
import json
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from latentjax import models, objectives
from latentjax.training._checkpoint import Checkpointer, abstract_like, checkpoint_dir
from latentjax.training._config import ExperimentConfig
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
    return ml_collections.ConfigDict(json.load(f))


def decode_codes(model, likelihood: str, variables, label: Array | None, z: Array) -> Array:
  """Means of p(x | z) under a model's variables, for one code or a batch.

  The function behind :meth:`Run.decoder_fn`; everything it uses is an argument.

  Args:
    model: the (unbound) Flax model with a ``decode(z, y)`` method.
    likelihood: the objective's likelihood name (``"bernoulli"``, ``"gaussian"``).
    variables: the model's variables (``{"params": ..., **model_state}``).
    label: an int32 scalar label used for every code, or None (unconditional).
    z: [D] or [B, D] codes.

  Returns:
    [...] for z [D], [B, ...] for z [B, D].
  """
  batched = z.ndim == 2
  zb = z if batched else z[None]
  yb = None if label is None else jnp.full((zb.shape[0],), label, jnp.int32)
  x = objectives.likelihood_mean(likelihood, model.apply(variables, zb, yb, method="decode"))
  return x if batched else x[0]


@dataclasses.dataclass(frozen=True)
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

  @property
  def params(self):
    """The parameters used for evaluation: EMA ones when ``eval.use_ema``."""
    return self.state.ema_params if self.exp.cfg.eval.use_ema else self.state.params

  @property
  def variables(self) -> dict:
    return {"params": self.params, **self.state.model_state}

  @property
  def latent_dim(self) -> int:
    return self.exp.cfg.model.latent_dim

  @property
  def conditional(self) -> bool:
    return self.exp.label_key is not None

  def encode(self, x: Array, y: Array | None = None) -> Array:
    """Codes [B, D] of inputs [B, ...] (the posterior mean for a VAE)."""
    out = self.exp.model.apply(self.variables, x, y, method="encode")
    return out[0] if self.exp.is_variational else out

  def encode_posterior(self, x: Array, y: Array | None = None) -> tuple[Array, Array]:
    """``(mean, logvar)`` [B, D] each; VAEs only."""
    if not self.exp.is_variational:
      raise ValueError(f"encode_posterior needs a VAE; this run is a {self.exp.family!r}")
    return self.exp.model.apply(self.variables, x, y, method="encode")

  def decode(self, z: Array, y: Array | None = None) -> Array:
    """Means of p(x | z) [B, ...] for codes z [B, D] (images in [0, 1])."""
    out = self.exp.model.apply(self.variables, z, y, method="decode")
    return objectives.likelihood_mean(self.exp.cfg.objective.likelihood, out)

  def decoder_fn(self, y: Array | None = None) -> jax.tree_util.Partial:
    """A pure ``decoder(z) -> x`` for latent_ops: z [D] -> x [...] or z [B, D] -> [B, ...].

    The decoder is a pytree, ``jax.tree_util.Partial(decode_codes, model, likelihood,
    variables, label)``, holding the run's current variables as leaves: latent ops
    compile it once and reuse the compiled code, and it never changes behind their back.

    Args:
      y: for a conditional model, one integer label used for every code.

    Returns:
      ``decoder(z)``: means of p(x | z) for z [D] (-> [...]) or z [B, D] (-> [B, ...]).
    """
    label = None if y is None else jnp.asarray(y, jnp.int32)
    return jax.tree_util.Partial(decode_codes, self.exp.model,
                                 self.exp.cfg.objective.likelihood, self.variables, label)

  def code_gaussian(self) -> tuple[Array, Array] | None:
    """The Gaussian fitted to training codes of an autoencoder, if evaluation saved one."""
    path = os.path.join(self.workdir, CODE_GAUSSIAN_FILE)
    if not os.path.exists(path):
      return None
    with np.load(path) as f:
      return jnp.asarray(f["mean"]), jnp.asarray(f["cov"])

  def sample_codes(self, key: Array, num_samples: int) -> Array:
    """Codes [N, D] from the prior (VAE) or the fitted code Gaussian (AE)."""
    if self.exp.is_variational:
      return jax.random.normal(key, (num_samples, self.latent_dim))
    fitted = self.code_gaussian()
    if fitted is None:
      raise FileNotFoundError(
          f"{CODE_GAUSSIAN_FILE} not found in {self.workdir}: run evaluation first")
    return models.sample_code_gaussian(key, fitted[0], fitted[1], num_samples)

  def sample(self, key: Array, num_samples: int, y: Array | None = None) -> Array:
    """Decoded samples [N, ...] (means of p(x | z))."""
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
