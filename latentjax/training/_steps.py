"""Step factories: hyper-parameters by closure, a pure ``step(state, batch, key)``.

Keys are derived, not threaded: ``fold_in(key, state.step)`` per step, then one key
per *global* example index. A data-parallel run therefore draws exactly the noise a
single-device run draws for the same global batch, and a resumed run draws what the
uninterrupted run would have.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from latentjax.training._state import TrainState

Array = jax.Array


def example_keys(key: Array, batch_size: int, axis_name: str | None = None) -> Array:
  """One PRNG key per example of the global batch.

  Args:
    key: the step's key.
    batch_size: examples on this device (the whole batch when not under pmap).
    axis_name: the pmap axis; when given, this device's examples are offset by
      ``axis_index * batch_size`` so keys match the unsharded batch.

  Returns:
    [batch_size] keys (or [batch_size, 2] raw uint32 keys).
  """
  offset = jax.lax.axis_index(axis_name) * batch_size if axis_name else 0
  index = offset + jnp.arange(batch_size)
  return jax.vmap(lambda i: jax.random.fold_in(key, i))(index)


def ema_decay_at(step: Array, ema_decay: float) -> Array:
  """The EMA decay used for the update that follows ``step`` updates: a warm-up.

  ``min(ema_decay, (1 + step) / (10 + step))``: early in training the average forgets the
  initialisation quickly (0.1 at the first update, 0.5 by the eighth, 0.99 by about the
  900th), so a short run's EMA is an average of trained parameters rather than mostly
  the initial ones (a plain 0.999 keeps 0.999^600 = 55% of the initialisation after 600
  steps); later it is the configured decay.
  """
  step = jnp.asarray(step, jnp.float32)
  return jnp.minimum(jnp.float32(ema_decay), (1.0 + step) / (10.0 + step))


def make_train_step(loss_fn: Callable, *, ema_decay: float,
                    axis_name: str | None = None) -> Callable:
  """Builds ``step(state, batch, key) -> (state, metrics)``.

  Args:
    loss_fn: ``(params, model_state, batch, keys [B]) -> (loss, (metrics, model_state))``
      with ``loss`` the mean over the (local) batch.
    ema_decay: EMA decay in [0, 1); ``ema = d * ema + (1 - d) * params`` with
      ``d = ema_decay_at(step, ema_decay)`` (warmed up, see there).
    axis_name: pmap axis name; gradients, metrics and model state are averaged over it.

  Returns:
    The pure step function. ``metrics`` adds ``grad_norm`` to the loss's metrics.
  """

  def step(state: TrainState, batch, key):
    rng = jax.random.fold_in(key, state.step)
    batch_size = jax.tree.leaves(batch)[0].shape[0]
    keys = example_keys(rng, batch_size, axis_name)
    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    (_, (metrics, model_state)), grads = grad_fn(state.params, state.model_state, batch, keys)
    if axis_name:
      grads, metrics, model_state = jax.lax.pmean((grads, metrics, model_state), axis_name)
    updates, opt_state = state.tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    decay = ema_decay_at(state.step, ema_decay)
    ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, state.ema_params, params)
    metrics = dict(metrics, grad_norm=optax.tree.norm(grads))
    new_state = state.replace(step=state.step + 1, params=params, opt_state=opt_state,
                              ema_params=ema, model_state=model_state)
    return new_state, metrics

  return step
