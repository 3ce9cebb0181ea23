"""Compiling one step function for one device, a sharded mesh, or pmap.

``"sharded"`` (default): ``jax.jit`` over a 1-D data ``Mesh`` of the devices, the
batch sharded along its leading axis with ``NamedSharding``, the state replicated and
donated. ``"pmap"``: ``jax.pmap`` over a named axis with ``lax.pmean`` of gradients
and metrics, for code built around pmap. With one device both are plain ``jit``.
Multi-host runs call ``jax.distributed.initialize()`` first (see experiments/train.py);
each process feeds its own slice of the global batch.
"""

import dataclasses
from collections.abc import Callable, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from latentjax.training._steps import make_train_step

DATA_AXIS = "data"


@dataclasses.dataclass(frozen=True)
class CompiledStep:
  """A compiled step with the placement functions that go with it.

  Attributes:
    step: ``(placed_state, placed_batch, key) -> (placed_state, metrics)``;
      metrics come back as replicated scalars.
    put_state: host/any state -> placed state (replicated over the devices).
    get_state: placed state -> one logical copy (for checkpoints and evaluation).
    put_batch: this process's numpy batch [B_process, ...] -> placed global batch.
    state_sharding: the sharding a restored single copy should be placed with.
    mode: "sharded" or "pmap".
    num_devices: devices used.
  """

  step: Callable
  put_state: Callable
  get_state: Callable
  put_batch: Callable
  state_sharding: jax.sharding.Sharding
  mode: str
  num_devices: int


def step_compiler_options(cfg) -> dict:
  """XLA options for a run's training step: ``models.conv_compiler_options`` of
  ``config.model.conv_impl`` for a convolutional model (``architecture="conv"``), else none
  (an MLP step ran slower with them)."""
  from latentjax import models

  if cfg.model.architecture != "conv":
    return {}
  return models.conv_compiler_options(cfg.model.conv_impl)


def compile_train_step(loss_fn: Callable, *, ema_decay: float, mode: str,
                       devices: Sequence[jax.Device],
                       compiler_options: dict | None = None) -> CompiledStep:
  """Compiles ``make_train_step(loss_fn, ema_decay=...)`` (a single-loss step).

  Args:
    loss_fn: see ``make_train_step``.
    ema_decay: EMA decay.
    mode: "sharded" or "pmap".
    devices: the devices to run on (all of this run's global devices).
    compiler_options: see ``compile_step``.

  Raises:
    ValueError: for an unknown mode.
  """
  return compile_step(
      lambda axis_name: make_train_step(loss_fn, ema_decay=ema_decay, axis_name=axis_name),
      mode=mode, devices=devices, compiler_options=compiler_options)


def compile_step(make_step: Callable[[str | None], Callable], *, mode: str,
                 devices: Sequence[jax.Device],
                 compiler_options: dict | None = None) -> CompiledStep:
  """Builds and compiles (lazily, on first call) any family's step.

  Args:
    make_step: ``make_step(axis_name) -> step(state, batch, key) -> (state, metrics)``;
      called with None for "sharded" and with the pmap axis name for "pmap".
    mode: "sharded" or "pmap".
    devices: the devices to run on (all of this run's global devices).
    compiler_options: XLA options for the "sharded" step's compilation (e.g.
      ``models.conv_compiler_options``); ``jax.pmap`` takes none, so "pmap" compiles
      with XLA's defaults.

  Raises:
    ValueError: for an unknown mode.
  """
  devices = list(devices)
  if mode == "sharded":
    return _sharded(make_step(None), devices, compiler_options)
  if mode == "pmap":
    return _pmapped(make_step(DATA_AXIS), devices)
  raise ValueError(f"Unknown parallel mode {mode!r}; registered: pmap, sharded")


def _sharded(step_fn, devices, compiler_options=None) -> CompiledStep:
  mesh = Mesh(np.asarray(devices), (DATA_AXIS,))
  replicated = NamedSharding(mesh, PartitionSpec())
  data = NamedSharding(mesh, PartitionSpec(DATA_AXIS))
  step = jax.jit(step_fn,
                 in_shardings=(replicated, data, replicated),
                 out_shardings=(replicated, replicated), donate_argnums=0,
                 compiler_options=compiler_options)

  def put_batch(batch):
    return jax.tree.map(lambda x: jax.make_array_from_process_local_data(data, x), batch)

  return CompiledStep(step=step, put_state=lambda s: jax.device_put(s, replicated),
                      get_state=lambda s: s, put_batch=put_batch,
                      state_sharding=replicated, mode="sharded", num_devices=len(devices))


def _pmapped(step_fn, devices) -> CompiledStep:
  if jax.process_count() > 1:
    raise ValueError("config.train.parallel='pmap' is single-process here; use 'sharded' "
                     "for multi-host runs")
  n = len(devices)
  step = jax.pmap(step_fn,
                  axis_name=DATA_AXIS, in_axes=(0, 0, None), devices=devices,
                  donate_argnums=0)

  def run(state, batch, key):
    state, metrics = step(state, batch, key)
    return state, jax.tree.map(lambda m: m[0], metrics)

  def put_state(state):
    # Through the host: a restored state is committed to one device, which pmap refuses.
    stacked = jax.tree.map(lambda x: np.broadcast_to(np.asarray(x)[None], (n, *np.shape(x))),
                           jax.device_get(state))
    return jax.pmap(lambda s: s, devices=devices)(stacked)

  def put_batch(batch):
    return jax.tree.map(lambda x: np.reshape(x, (n, x.shape[0] // n, *x.shape[1:])), batch)

  return CompiledStep(step=run, put_state=put_state,
                      get_state=lambda s: jax.tree.map(lambda x: x[0], s),
                      put_batch=put_batch,
                      state_sharding=jax.sharding.SingleDeviceSharding(devices[0]),
                      mode="pmap", num_devices=n)
