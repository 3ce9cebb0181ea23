"""Builds the optax transformation a config describes."""

import optax

from latentjax.training._config import OptimConfig


def learning_rate_schedule(cfg: OptimConfig, num_steps: int) -> optax.Schedule:
  """Linear warm-up over ``warmup_steps``, then constant or cosine decay to zero.

  A warm-up as long as the run (or longer, e.g. a full config shrunk by ``:smoke``) is cut
  to ``num_steps``; the cosine then gets one decay step, since optax needs at least one.
  """
  warmup = min(cfg.warmup_steps, num_steps)
  if cfg.schedule == "cosine":
    return optax.warmup_cosine_decay_schedule(
        0.0 if warmup else cfg.learning_rate, cfg.learning_rate, warmup,
        max(num_steps, warmup + 1))
  if warmup:
    return optax.join_schedules(
        [optax.linear_schedule(0.0, cfg.learning_rate, warmup),
         optax.constant_schedule(cfg.learning_rate)], [warmup])
  return optax.constant_schedule(cfg.learning_rate)


def make_optimizer(cfg: OptimConfig, num_steps: int) -> optax.GradientTransformation:
  """The optimizer of ``config.optim``, with optional global-norm clipping first."""
  lr = learning_rate_schedule(cfg, num_steps)
  if cfg.name == "adam":
    tx = optax.adam(lr, b1=cfg.b1, b2=cfg.b2)
  elif cfg.name == "adamw":
    tx = optax.adamw(lr, b1=cfg.b1, b2=cfg.b2, weight_decay=cfg.weight_decay)
  elif cfg.name == "sgd":
    tx = optax.sgd(lr, momentum=cfg.b1 or None)
  else:
    raise ValueError(f"Unknown optimizer {cfg.name!r}; registered: adam, adamw, sgd")
  if cfg.grad_clip_norm > 0:
    tx = optax.chain(optax.clip_by_global_norm(cfg.grad_clip_norm), tx)
  return tx
