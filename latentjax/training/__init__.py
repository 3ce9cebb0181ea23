"""Training: state, step factories, jit/pmap compilation, checkpoints, the loop.

    from latentjax import training
    metrics = training.train_and_evaluate(config, workdir="runs/vae")
    run = training.load_run("runs/vae")

Data flows config -> data -> step function -> state -> checkpoint. A step is a pure
``step(state, batch, key) -> (state, metrics)`` supplied by the run's model family
(``get_family(config.model.family)``: ae, vae, cvae, gan, cgan, diffusion,
cdiffusion, noise_encoder, classifier) and compiled by
``compile_step`` for ``config.train.parallel`` = "sharded" (jit over a device mesh, the
default) or "pmap"; every family goes through the same loop. One training at a time
owns a workdir (``<workdir>/train.lock``; a second one raises ``WorkdirInUseError``).
"""

from latentjax.training._checkpoint import (
  Checkpointer,
  CheckpointError,
  CheckpointSpaceError,
  checkpoint_dir,
)
from latentjax.training._config import (
  ADDED_KEYS,
  PARALLEL_MODES,
  ConfigError,
  DataConfig,
  EvalConfig,
  ExperimentConfig,
  ModelConfig,
  ObjectiveConfig,
  OptimConfig,
  TrainConfig,
  check_devices,
)
from latentjax.training._distributed import (
  DistributedError,
  barrier,
  check_distributed_args,
  initialize_distributed,
  is_peer_failure,
  peer_failure_message,
  sum_over_processes,
)
from latentjax.training._evaluate import evaluate
from latentjax.training._experiment import Experiment, build_experiment, init_state, make_step
from latentjax.training._families import Family, get_family, register_family, registered_families
from latentjax.training._family_gan import GANNetworks, make_gan_step, make_gan_updates
from latentjax.training._family_vae import evaluate_params
from latentjax.training._feature_network import feature_network, load_feature_network
from latentjax.training._host_memory import keep_freed_host_memory
from latentjax.training._lock import LOCK_FILE, WorkdirInUseError
from latentjax.training._logging import MetricWriter, read_metrics
from latentjax.training._loop import NonFiniteLossError, check_data, has_checkpoint, train
from latentjax.training._optim import make_optimizer
from latentjax.training._parallel import (
  CompiledStep,
  compile_step,
  compile_train_step,
  step_compiler_options,
)
from latentjax.training._profile import check_profile_steps, parse_profile_steps
from latentjax.training._quality import quality_metrics
from latentjax.training._resume import check_resume, config_differences
from latentjax.training._run import Run, load_run, read_config
from latentjax.training._state import TrainState
from latentjax.training._steps import ema_decay_at, example_keys, make_train_step
from latentjax.training._variance import VARIANCE_FILE, fit_decoder_variance, load_variance


def train_and_evaluate(config, workdir: str, *, allow_config_change: bool = False,
                       profile_steps: tuple[int, int] | None = None) -> dict:
  """Trains (resuming if possible), then evaluates; returns the evaluation metrics.

  Writes into ``workdir``: ``config.json``, ``checkpoints/``, ``metrics.jsonl``,
  ``tensorboard/``, ``metrics.json``, ``samples.png`` and, for families with an
  encoder, ``reconstructions.png``.
  ``allow_config_change`` and ``profile_steps`` as in `train`.
  """
  train(config, workdir, allow_config_change=allow_config_change, profile_steps=profile_steps)
  return evaluate(workdir)


__all__ = [
    "ADDED_KEYS",
    "LOCK_FILE",
    "VARIANCE_FILE",
    "PARALLEL_MODES",
    "CheckpointError",
    "CheckpointSpaceError",
    "Checkpointer",
    "CompiledStep",
    "ConfigError",
    "DistributedError",
    "DataConfig",
    "EvalConfig",
    "Experiment",
    "ExperimentConfig",
    "Family",
    "GANNetworks",
    "MetricWriter",
    "ModelConfig",
    "NonFiniteLossError",
    "ObjectiveConfig",
    "OptimConfig",
    "Run",
    "TrainConfig",
    "TrainState",
    "WorkdirInUseError",
    "barrier",
    "build_experiment",
    "check_data",
    "check_distributed_args",
    "check_profile_steps",
    "check_resume",
    "config_differences",
    "check_devices",
    "checkpoint_dir",
    "compile_step",
    "compile_train_step",
    "evaluate",
    "evaluate_params",
    "feature_network",
    "fit_decoder_variance",
    "ema_decay_at",
    "example_keys",
    "get_family",
    "has_checkpoint",
    "keep_freed_host_memory",
    "init_state",
    "initialize_distributed",
    "is_peer_failure",
    "load_feature_network",
    "load_run",
    "load_variance",
    "make_gan_step",
    "make_gan_updates",
    "make_optimizer",
    "make_step",
    "make_train_step",
    "peer_failure_message",
    "parse_profile_steps",
    "quality_metrics",
    "read_config",
    "read_metrics",
    "register_family",
    "registered_families",
    "step_compiler_options",
    "sum_over_processes",
    "train",
    "train_and_evaluate",
]
