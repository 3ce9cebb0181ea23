"""A JAX profiler trace of chosen training steps (``train(..., profile_steps=(a, b))``).

The trace covers steps ``a`` to ``b`` inclusive (1-based, as the logged step numbers) and
is written by ``jax.profiler`` into ``<workdir>/profile/`` in the TensorBoard profile
plugin's layout (``plugins/profile/<run>/*.xplane.pb``)::

    tensorboard --logdir=<workdir>/profile      # the Profile tab
"""

import os

import jax

PROFILE_DIR = "profile"


def parse_profile_steps(text: str) -> tuple[int, int]:
  """``"A:B"`` -> ``(A, B)``.

  Args:
    text: two integers separated by a colon, e.g. ``"10:20"``.

  Returns:
    The pair of ints (range checks are `check_profile_steps`'s).

  Raises:
    ValueError: naming ``profile_steps`` when the text is not ``A:B``.

  Example:
    >>> parse_profile_steps("10:20")
    (10, 20)
  """
  parts = str(text).split(":")
  try:
    if len(parts) != 2:
      raise ValueError
    return int(parts[0]), int(parts[1])
  except ValueError:
    raise ValueError(f"`profile_steps` must be A:B (two step numbers), got {text!r}") from None


def check_profile_steps(profile_steps, num_steps: int) -> tuple[int, int] | None:
  """Checks ``(a, b)``: ints with ``1 <= a <= b <= num_steps``; None passes through.

  Args:
    profile_steps: None or a pair of ints, the first and last traced step.
    num_steps: the run's ``train.num_steps``.

  Returns:
    The pair as a tuple of ints, or None.

  Raises:
    ValueError: naming ``profile_steps`` and its value when it is out of range.

  Example:
    >>> check_profile_steps((3, 5), num_steps=8)
    (3, 5)
  """
  if profile_steps is None:
    return None
  if (not isinstance(profile_steps, (tuple, list)) or len(profile_steps) != 2
      or not all(isinstance(s, int) and not isinstance(s, bool) for s in profile_steps)):
    raise ValueError(f"`profile_steps` must be a pair of step numbers (a, b), got "
                     f"{profile_steps!r}")
  a, b = profile_steps
  if not 1 <= a <= b <= num_steps:
    raise ValueError(f"`profile_steps` must satisfy 1 <= a <= b <= config.train.num_steps="
                     f"{num_steps}, got {a}:{b}")
  return int(a), int(b)


class StepProfiler:
  """Starts a trace before step ``a`` (or the first step run, when resuming past it) and
  stops it after step ``b``; a no-op without ``profile_steps``."""

  def __init__(self, workdir: str, profile_steps: tuple[int, int] | None, first_step: int):
    self.steps = profile_steps
    self.first = first_step
    self.dir = os.path.join(workdir, PROFILE_DIR)
    self.active = False

  def before(self, step: int) -> None:
    """Call before running ``step``."""
    if self.steps and not self.active and max(self.steps[0], self.first) == step <= self.steps[1]:
      os.makedirs(self.dir, exist_ok=True)
      jax.profiler.start_trace(self.dir)
      self.active = True

  def after(self, step: int, outputs) -> None:
    """Call after dispatching ``step``; blocks on ``outputs`` before the trace stops."""
    if self.active and step == self.steps[1]:
      jax.block_until_ready(outputs)
      self.stop()

  def stop(self) -> None:
    """Stops a running trace (also when training ends early)."""
    if self.active:
      self.active = False
      jax.profiler.stop_trace()
