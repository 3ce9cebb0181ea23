"""``TrainState``: the one checkpointable pytree of a run.

Holds the step, parameters, optimizer state, EMA parameters and model state
(e.g. BatchNorm statistics). EMA is updated inside the step, so a checkpoint can
never lack it; only ``tx`` (the optax transformation) is static.
"""

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax

ARRAY_FIELDS = ("step", "params", "opt_state", "ema_params", "model_state")


@flax.struct.dataclass
class TrainState:
  """Training state pytree.

  Attributes:
    step: int32 scalar, the number of optimizer updates applied.
    params: model parameters.
    opt_state: optax state.
    ema_params: exponential moving average of ``params``.
    model_state: non-trained variable collections (``{}`` when there are none).
    tx: the optax transformation (static).
  """

  step: jax.Array
  params: Any
  opt_state: Any
  ema_params: Any
  model_state: Any
  tx: optax.GradientTransformation = flax.struct.field(pytree_node=False)

  @classmethod
  def create(cls, *, params, tx: optax.GradientTransformation, model_state=None):
    """A fresh state at step 0 with EMA equal to the initial parameters."""
    return cls(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
               ema_params=jax.tree.map(jnp.copy, params),
               model_state={} if model_state is None else model_state, tx=tx)

  def arrays(self) -> dict:
    """The checkpointable content as a plain dict of pytrees."""
    return {f: getattr(self, f) for f in ARRAY_FIELDS}

  def with_arrays(self, arrays: dict) -> "TrainState":
    """This state with its array fields replaced by ``arrays`` (as from ``arrays()``)."""
    return self.replace(**{f: arrays[f] for f in ARRAY_FIELDS})
