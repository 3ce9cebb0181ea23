"""The public surface of latent_ops: names, contract signatures, and no retracing."""

import functools
import inspect
import logging

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import latent_ops as lo

# DESIGN.md's "Public API": names and argument orders other code relies on.
CONTRACT = {
    "lerp": ["z0", "z1", "t"],
    "slerp": ["z0", "z1", "t"],
    "interpolate": ["z0", "z1", "num_steps", "method"],
    "pullback_metric": ["decoder", "z"],
    "curve_length": ["decoder", "curve"],
    "curve_energy": ["decoder", "curve"],
    "geodesic": ["decoder", "z0", "z1", "num_points", "num_steps"],
    "analogy": ["a", "b", "c"],
    "attribute_vector": ["z", "has_attribute"],
    "pca_directions": ["z", "k"],
    "kmeans": ["key", "z", "k", "num_iters"],
}
DEFAULTS = {("interpolate", "method"): "linear", ("geodesic", "num_points"): 32,
            ("geodesic", "num_steps"): 500, ("kmeans", "num_iters"): 100}


def test_every_public_name_is_importable_and_documented():
  assert sorted(lo.__all__) == sorted(set(lo.__all__))
  for name in lo.__all__:
    obj = getattr(lo, name)
    assert obj.__doc__ and obj.__doc__.strip(), name
  assert set(CONTRACT) <= set(lo.__all__)


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_contract_signatures(name):
  params = list(inspect.signature(getattr(lo, name)).parameters.values())
  assert [p.name for p in params[:len(CONTRACT[name])]] == CONTRACT[name]
  for (fn, arg), default in DEFAULTS.items():
    if fn == name:
      assert inspect.signature(getattr(lo, name)).parameters[arg].default == default


@jax.tree_util.register_pytree_node_class
class _CountingDecoder:
  """A pytree decoder (its weights a leaf) counting how often JAX traces its body.

  The count is kept on the class, because the ops trace a copy rebuilt from the leaves.
  """

  calls = 0

  def __init__(self, w=None):
    self.w = jnp.asarray(np.random.default_rng(0).normal(size=(2, 5)), jnp.float32) \
        if w is None else w

  def __call__(self, z):
    type(self).calls += 1
    return jnp.tanh(z @ self.w)

  def tree_flatten(self):
    return (self.w,), None

  @classmethod
  def tree_unflatten(cls, aux, leaves):
    del aux
    return cls(*leaves)


def _decoder_ops(decoder, z, codes):
  a, b = z[:2], z[2:4]
  return [
      lo.pullback_metric(decoder, z),
      lo.magnification_factor(decoder, z),
      lo.curve_length(decoder, z[None], subdivisions=2),
      lo.curve_energy(decoder, z[None]),
      lo.geodesic(decoder, a, b, num_points=8, num_steps=20),
      lo.solve_geodesic(decoder, a, b, num_points=8, num_steps=20).length,
      lo.geodesic_distance_matrix(decoder, a, num_points=6, num_steps=10),
      lo.knn_graph(decoder, codes, k=3),
      lo.geodesic_from_graph(decoder, a, b, codes, k=3, num_points=8, num_steps=10),
  ]


def test_decoder_ops_do_not_retrace_for_a_pytree_decoder_with_new_values():
  decoder = _CountingDecoder()
  z = jnp.asarray(np.random.default_rng(1).normal(size=(4, 2)), jnp.float32)
  codes = jnp.asarray(np.random.default_rng(2).normal(size=(12, 2)), jnp.float32)
  _decoder_ops(decoder, z, codes)
  traced = _CountingDecoder.calls
  assert traced > 0
  for i in range(2):
    # The same decoder, then a new one with new weights of the same shape.
    again = decoder if i == 0 else _CountingDecoder(2.0 * decoder.w)
    jax.block_until_ready(_decoder_ops(again, z + 0.1 * (i + 1), codes - 0.1 * i))
  assert _CountingDecoder.calls == traced


def test_bound_flax_apply_with_new_parameters_does_not_retrace(key):
  model = nn.Sequential([nn.Dense(16), nn.tanh, nn.Dense(6)])
  params = model.init(key, jnp.zeros(3))
  z0, z1 = jax.random.normal(key, (2, 5, 3))
  solver = lo._geodesic._solve.compiled
  lo.geodesic(functools.partial(model.apply, params), z0, z1, num_steps=20)
  size = solver._cache_size()
  # A fresh partial each call, and new parameter values (say after a training step).
  for scale in (2.0, 3.0):
    new = jax.tree_util.tree_map(lambda p, s=scale: p * s, params)
    curve = lo.geodesic(functools.partial(model.apply, new), z0, z1, num_steps=20)
    assert curve.shape == (5, 32, 3)
  assert solver._cache_size() == size
  # A bound module (it holds variables that could change) works too, traced afresh.
  bound = model.bind(params)
  np.testing.assert_allclose(lo.curve_length(bound, curve), lo.curve_length(
      functools.partial(model.apply, params), curve), rtol=1e-5)


def test_nothing_compiles_again_for_the_same_shapes(caplog, key):
  decoder = _CountingDecoder()
  z = jax.random.normal(key, (4, 2))
  codes = jax.random.normal(jax.random.fold_in(key, 1), (12, 2))
  mask = jnp.array([True, False] * 6)

  def everything(z, codes):
    return [
        lo.lerp(z[0], z[1], 0.3), lo.slerp(z[0], z[1], 0.3),
        lo.interpolate(z[:2], z[2:], 5, method="slerp"),
        lo.analogy(z[0], z[1], z[2]), lo.attribute_vector(codes, mask),
        lo.move_along(z, z[0], 1.0), lo.traverse(z, 1, jnp.linspace(-1, 1, 3)),
        lo.pca_directions(codes, 2), lo.pca_explained_variance(codes, 2),
        lo.supervised_direction(codes, mask, num_steps=10),
        lo.sefa_directions(codes.T, 2),
        lo.kmeans(key, codes, 3, num_iters=5), lo.kmeans_inertia(codes, z),
        lo.nearest_neighbors(z, codes, 3),
        *_decoder_ops(decoder, z, codes),
    ]

  jax.block_until_ready(everything(z, codes))
  z2, codes2 = jax.block_until_ready((z * 2.0, codes + 1.0))  # new values, same shapes
  with caplog.at_level(logging.WARNING), jax.log_compiles(True):
    caplog.clear()
    jax.block_until_ready(everything(z2, codes2))
  compiles = [r.getMessage() for r in caplog.records if "Compiling" in r.getMessage()]
  assert not compiles, compiles


def test_shape_errors_are_raised_under_jit_too():
  with pytest.raises(ValueError, match=r"`z0` must be \[D\] or \[B, D\], got shape \(2, 3, 4\)"):
    jax.jit(lambda z: lo.interpolate(z, z, 4))(jnp.ones((2, 3, 4)))
  with pytest.raises(ValueError, match=r"`z1` must have the same shape as `z0` \(3,\)"):
    jax.jit(lambda a, b: lo.geodesic(jnp.tanh, a, b))(jnp.ones(3), jnp.ones(4))


def test_vmap_over_ops_equals_their_batched_form(key):
  w = jax.random.normal(key, (2, 5))
  decoder = lambda z: jnp.tanh(z @ w)
  z0, z1 = jax.random.normal(jax.random.fold_in(key, 1), (2, 3, 2))
  pairs = [
      (jax.vmap(lambda a, b: lo.interpolate(a, b, 6, method="slerp")),
       lambda a, b: lo.interpolate(a, b, 6, method="slerp")),
      (jax.vmap(lambda a, b: lo.geodesic(decoder, a, b, num_points=8, num_steps=30)),
       lambda a, b: lo.geodesic(decoder, a, b, num_points=8, num_steps=30)),
      (jax.vmap(lambda a, b: lo.pullback_metric(decoder, a) + lo.pullback_metric(decoder, b)),
       lambda a, b: lo.pullback_metric(decoder, a) + lo.pullback_metric(decoder, b)),
  ]
  for mapped, batched in pairs:
    np.testing.assert_allclose(mapped(z0, z1), batched(z0, z1), rtol=1e-5, atol=1e-5)


def test_gradients_flow_to_decoder_parameters(key):
  w = jax.random.normal(key, (2, 5))
  curve = lo.interpolate(jnp.zeros(2), jnp.ones(2), 5)
  length = lambda w: lo.curve_length(functools.partial(lambda w, z: jnp.tanh(z @ w), w), curve)
  grad = jax.grad(length)(w)
  eps = 1e-3
  bump = jnp.zeros_like(w).at[0, 0].set(eps)
  numeric = (length(w + bump) - length(w - bump)) / (2 * eps)
  np.testing.assert_allclose(grad[0, 0], numeric, rtol=1e-2, atol=1e-4)
