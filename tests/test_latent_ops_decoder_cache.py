"""Compiled latent ops never return results of a decoder's old values.

Each test is named after the stale-result bug it catches: a decoder whose behaviour
depends on something that can change (a global, a closure cell, an object's attribute)
must be traced afresh, while decoders that carry their parameters as pytree leaves must
see new values *and* reuse the compiled code.
"""

import dataclasses
import functools
import types

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import latent_ops as lo
from latentjax.latent_ops import _geometry
from latentjax.latent_ops._decoder import split_decoder

CURVE = jnp.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])  # one unit step along e_0

_W = jnp.eye(3)
_SCALE = 1.0


def _length(decoder):
  return float(lo.curve_length(decoder, CURVE))


def _cache_size():
  return _geometry._curve_length.compiled._cache_size()


def test_closure_over_reassigned_global_is_not_stale():
  global _W
  decoder = lambda z: z @ _W  # noqa: E731
  try:
    assert _length(decoder) == pytest.approx(1.0)
    _W = 10.0 * jnp.eye(3)
    assert _length(decoder) == pytest.approx(10.0)
  finally:
    _W = jnp.eye(3)


def test_closure_over_reassigned_float_global_is_not_stale():
  global _SCALE
  decoder = lambda z: _SCALE * z  # noqa: E731
  try:
    assert _length(decoder) == pytest.approx(1.0)
    _SCALE = 3.0
    assert _length(decoder) == pytest.approx(3.0)
  finally:
    _SCALE = 1.0


def test_closure_cell_that_changes_is_not_stale():
  w = jnp.eye(3)

  def decoder(z):
    return z @ w

  assert _length(decoder) == pytest.approx(1.0)
  w = 4.0 * jnp.eye(3)
  assert _length(decoder) == pytest.approx(4.0)


def test_bound_method_of_object_with_new_params_is_not_stale():

  class Model:

    def __init__(self):
      self.params = jnp.eye(3)

    def decode(self, z):
      return z @ self.params

  model = Model()
  assert _length(model.decode) == pytest.approx(1.0)
  model.params = 5.0 * jnp.eye(3)
  assert _length(model.decode) == pytest.approx(5.0)


def _scaled_by_global(params, z):
  return _W @ (params * z)


def test_partial_whose_function_reads_a_changing_global_is_not_stale():
  global _W
  decoder = functools.partial(_scaled_by_global, jnp.ones(3))
  try:
    assert _length(decoder) == pytest.approx(1.0)
    _W = 7.0 * jnp.eye(3)
    assert _length(decoder) == pytest.approx(7.0)
  finally:
    _W = jnp.eye(3)


def test_bound_flax_module_with_new_variables_is_not_stale(key):
  model = nn.Dense(3, use_bias=False)
  params = model.init(key, jnp.zeros(3))
  eye = jax.tree_util.tree_map(lambda p: jnp.eye(3), params)
  assert _length(model.bind(eye)) == pytest.approx(1.0)
  twice = jax.tree_util.tree_map(lambda p: 2.0 * p, eye)
  assert _length(model.bind(twice)) == pytest.approx(2.0)


def test_flax_partial_apply_with_new_params_is_fresh_and_not_retraced(key):
  model = nn.Sequential([nn.Dense(8), nn.tanh, nn.Dense(5)])
  params = model.init(key, jnp.zeros(3))
  expected = lambda p: float(jnp.linalg.norm(model.apply(p, CURVE[1]) - model.apply(p, CURVE[0])))  # noqa: E731
  assert _length(functools.partial(model.apply, params)) == pytest.approx(expected(params),
                                                                           rel=1e-5)
  size = _cache_size()
  for scale in (2.0, 3.0):
    new = jax.tree_util.tree_map(lambda p, s=scale: s * p, params)
    assert _length(functools.partial(model.apply, new)) == pytest.approx(expected(new), rel=1e-5)
  assert _cache_size() == size


def _linear(w, z):
  return z @ w


def test_tree_util_partial_is_cached_and_fresh():
  assert _length(jax.tree_util.Partial(_linear, jnp.eye(3))) == pytest.approx(1.0)
  size = _cache_size()
  assert _length(jax.tree_util.Partial(_linear, 6.0 * jnp.eye(3))) == pytest.approx(6.0)
  assert _cache_size() == size


@jax.tree_util.register_dataclass
@dataclasses.dataclass
class _LinearModule:
  """An Equinox-style module: a pytree whose fields are its parameters."""

  w: jax.Array
  activation: str = dataclasses.field(default="identity", metadata={"static": True})

  def __call__(self, z):
    x = z @ self.w
    return jnp.tanh(x) if self.activation == "tanh" else x


def test_pytree_module_is_cached_and_fresh():
  module = _LinearModule(jnp.eye(3))
  assert _length(module) == pytest.approx(1.0)
  size = _cache_size()
  module.w = 8.0 * jnp.eye(3)  # the same object, mutated: its leaves are read per call
  assert _length(module) == pytest.approx(8.0)
  assert _length(_LinearModule(9.0 * jnp.eye(3))) == pytest.approx(9.0)
  assert _cache_size() == size
  # A different static field is a different function: compiled again, not confused.
  assert _length(_LinearModule(9.0 * jnp.eye(3), "tanh")) == pytest.approx(np.tanh(9.0))


@pytest.mark.parametrize("decoder, cached", [
    (jnp.tanh, True),
    (jax.nn.sigmoid, True),
    (functools.partial(_linear, jnp.eye(3)), True),
    (lambda z: jnp.tanh(z) * 2.0, True),  # reads only the jnp module
    (lambda z: z @ _W, False),  # a global array
    (lambda z, m={"w": 1.0}: m["w"] * z, False),  # a mutable default
])
def test_only_provably_constant_decoders_are_cached(decoder, cached):
  assert (split_decoder(decoder)[0] is not None) == cached


def _tiny_run(key, scale):
  from latentjax import models  # noqa: PLC0415
  from latentjax.training import get_family  # noqa: PLC0415
  from latentjax.training._run import Run  # noqa: PLC0415

  model = models.build_model("vae", architecture="mlp", latent_dim=3, hidden_dims=(8,),
                             channels=(), input_shape=(2, 2, 1))
  params = model.init(key, jnp.zeros((1, 3)), None, method="decode")["params"]
  params = jax.tree_util.tree_map(lambda p: scale * p, params)
  cfg = types.SimpleNamespace(objective=types.SimpleNamespace(likelihood="bernoulli"),
                              eval=types.SimpleNamespace(use_ema=False),
                              model=types.SimpleNamespace(latent_dim=3))
  exp = types.SimpleNamespace(model=model, cfg=cfg, family_impl=get_family("vae"))
  state = types.SimpleNamespace(params=params, ema_params=None, model_state={})
  return Run(workdir="", config=None, exp=exp, state=state, step=0)


def test_run_decoder_fn_is_a_cached_pytree_equal_to_decode(key):
  runs = [_tiny_run(key, scale) for scale in (1.0, 3.0)]
  expected = [float(jnp.linalg.norm(run.decode(CURVE[1:]) - run.decode(CURVE[:1])))
              for run in runs]
  assert expected[0] != pytest.approx(expected[1])
  decoder = runs[0].decoder_fn()
  assert split_decoder(decoder)[0] is not None
  np.testing.assert_allclose(decoder(CURVE[0]), runs[0].decode(CURVE[:1])[0], rtol=1e-6)
  np.testing.assert_allclose(decoder(CURVE), runs[0].decode(CURVE), rtol=1e-6)
  assert _length(decoder) == pytest.approx(expected[0], rel=1e-5)
  size = _cache_size()
  assert _length(runs[1].decoder_fn()) == pytest.approx(expected[1], rel=1e-5)
  assert _length(runs[0].decoder_fn()) == pytest.approx(expected[0], rel=1e-5)
  assert _cache_size() == size
