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


def _per_training_step(schedule: optax.Schedule, updates_per_step: int) -> optax.Schedule:
  """``schedule`` read at the training step of an optimizer's ``count``-th update."""
  return lambda count: schedule(count // updates_per_step)


def make_optimizer(cfg: OptimConfig, num_steps: int,
                   updates_per_step: int = 1) -> optax.GradientTransformation:
  """The optimizer of ``config.optim``, with optional global-norm clipping first.

  Args:
    cfg: the optimizer's config.
    num_steps: the run's training steps (``learning_rate_schedule``'s length).
    updates_per_step: how many times the optimizer is applied in one training step (a
      GAN's discriminator: ``objective.n_critic``). The schedule is one of training
      steps, so it is read at ``count // updates_per_step``: every update of training
      step k (counting from 0) uses the schedule's rate at k, the rate that an optimizer
      applied once per step uses in that step.

  Raises:
    ValueError: for an unknown ``cfg.name`` or ``updates_per_step < 1``.
  """
  if not (isinstance(updates_per_step, int) and updates_per_step >= 1):
    raise ValueError(f"`updates_per_step` must be >= 1, got {updates_per_step!r}")
  lr = learning_rate_schedule(cfg, num_steps)
  if updates_per_step > 1:
    lr = _per_training_step(lr, updates_per_step)
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
