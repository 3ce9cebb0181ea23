"""What the families with one network, one loss and one optimizer share.

``ae`` / ``vae`` / ``cvae``, ``classifier`` and ``diffusion`` / ``cdiffusion`` each train one
flax module with one loss (``Experiment.loss_fn``) by ``make_train_step``, keep the EMA of
its parameters, and evaluate with the EMA parameters when ``eval.use_ema``. A family of
this kind supplies only ``init_variables`` (how to call ``init``) and what differs.
Training steps run the network in ``train.compute_dtype`` (``models.with_compute_dtype``).
"""

import abc

import jax

from latentjax import models
from latentjax.training._families import Family
from latentjax.training._optim import make_optimizer
from latentjax.training._state import TrainState
from latentjax.training._steps import make_train_step

Array = jax.Array


class SingleNetworkFamily(Family):
  """A `Family` whose state is one network's ``TrainState`` (see the module docstring)."""

  @abc.abstractmethod
  def init_variables(self, exp, key: Array) -> dict:
    """The network's freshly initialised flax variables (``params`` and any state)."""
    ...

  def init_state(self, exp, key: Array) -> TrainState:
    variables = dict(self.init_variables(exp, key))
    params = variables.pop("params")
    tx = make_optimizer(exp.cfg.optim, exp.cfg.train.num_steps)
    return TrainState.create(params=params, tx=tx, model_state=variables)

  def make_step(self, exp, axis_name: str | None = None):
    # train.compute_dtype: the network computes in it; params, grads and loss in float32.
    loss_fn = models.with_compute_dtype(exp.loss_fn, exp.cfg.train.compute_dtype)
    return make_train_step(loss_fn, ema_decay=exp.cfg.train.ema_decay, axis_name=axis_name)

  def eval_variables(self, exp, state) -> dict:
    params = state.ema_params if exp.cfg.eval.use_ema else state.params
    return {"params": params, **state.model_state}
