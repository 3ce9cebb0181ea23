"""Training: state, step factories, jit/pmap compilation, checkpoints, the loop.

    from latentjax import training
    metrics = training.train_and_evaluate(config, workdir="runs/vae")
    run = training.load_run("runs/vae")

Data flows config -> data -> step function -> state -> checkpoint. A step is a pure
``step(state, batch, key) -> (state, metrics)`` built by ``make_train_step`` and
compiled by ``compile_train_step`` for ``config.train.parallel`` = "sharded" (jit over a
device mesh, the default) or "pmap".
"""

from latentjax.training._checkpoint import Checkpointer, CheckpointError, checkpoint_dir
from latentjax.training._config import (
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
from latentjax.training._evaluate import evaluate, evaluate_params
from latentjax.training._experiment import Experiment, build_experiment, init_state
from latentjax.training._logging import MetricWriter, read_metrics
from latentjax.training._loop import NonFiniteLossError, check_data, has_checkpoint, train
from latentjax.training._optim import make_optimizer
from latentjax.training._parallel import CompiledStep, compile_train_step
from latentjax.training._resume import check_resume, config_differences
from latentjax.training._run import Run, load_run, read_config
from latentjax.training._state import TrainState
from latentjax.training._steps import ema_decay_at, example_keys, make_train_step


def train_and_evaluate(config, workdir: str, *, allow_config_change: bool = False) -> dict:
  """Trains (resuming if possible), then evaluates; returns the evaluation metrics.

  Writes into ``workdir``: ``config.json``, ``checkpoints/``, ``metrics.jsonl``,
  ``tensorboard/``, ``metrics.json``, ``samples.png``, ``reconstructions.png``.
  ``allow_config_change`` as in `train`.
  """
  train(config, workdir, allow_config_change=allow_config_change)
  return evaluate(workdir)


__all__ = [
    "PARALLEL_MODES",
    "CheckpointError",
    "Checkpointer",
    "CompiledStep",
    "ConfigError",
    "DataConfig",
    "EvalConfig",
    "Experiment",
    "ExperimentConfig",
    "MetricWriter",
    "ModelConfig",
    "NonFiniteLossError",
    "ObjectiveConfig",
    "OptimConfig",
    "Run",
    "TrainConfig",
    "TrainState",
    "build_experiment",
    "check_data",
    "check_resume",
    "config_differences",
    "check_devices",
    "checkpoint_dir",
    "compile_train_step",
    "evaluate",
    "evaluate_params",
    "ema_decay_at",
    "example_keys",
    "has_checkpoint",
    "init_state",
    "load_run",
    "make_optimizer",
    "make_train_step",
    "read_config",
    "read_metrics",
    "train",
    "train_and_evaluate",
]
