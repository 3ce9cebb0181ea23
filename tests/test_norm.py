"""``group_norm`` / ``FastGroupNorm`` against flax's ``nn.GroupNorm``: values, gradients, errors."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import models
from latentjax.models import _norm


def _perturbed(variables, seed):
  rng = np.random.default_rng(seed)
  return jax.tree.map(lambda v: v + jnp.asarray(rng.normal(size=v.shape), v.dtype), variables)


def _pair(shape, groups, dtype=jnp.float32, seed=0, **kwargs):
  """(x, flax module, fast module, variables), x shifted and scaled so E[x]^2 matters."""
  x = jnp.asarray(np.random.default_rng(seed).normal(size=shape) * 3.0 + 1.5, dtype)
  ref = nn.GroupNorm(groups, epsilon=1e-5, **kwargs)
  fast = _norm.FastGroupNorm(groups, epsilon=1e-5, **kwargs)
  variables = _perturbed(ref.init(jax.random.PRNGKey(0), x), seed + 1)
  assert (jax.tree.structure(fast.init(jax.random.PRNGKey(0), x))
          == jax.tree.structure(variables))
  return x, ref, fast, variables


def _rel(a, b):
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-30))


@pytest.mark.parametrize("shape, groups", [((3, 5, 6, 16), 4), ((2, 4, 4, 8), 8),
                                           ((2, 7, 12), 3), ((4, 6), 2)])
def test_values_and_gradients_match_flax(shape, groups):
  x, ref, fast, variables = _pair(shape, groups)
  target = jnp.asarray(np.random.default_rng(9).normal(size=shape), jnp.float32)

  def loss(module):
    return lambda v, x: jnp.sum(jnp.sin(module.apply(v, x)) * target)

  assert _rel(ref.apply(variables, x), fast.apply(variables, x)) < 1e-5
  g_ref = jax.grad(loss(ref), argnums=(0, 1))(variables, x)
  g_fast = jax.grad(loss(fast), argnums=(0, 1))(variables, x)
  for a, b in zip(jax.tree.leaves(g_ref), jax.tree.leaves(g_fast), strict=True):
    assert _rel(a, b) < 1e-5


def test_second_order_gradients_match_flax():
  x, ref, fast, variables = _pair((2, 4, 4, 8), 2)

  def curvature(module):
    inner = jax.grad(lambda x: jnp.sum(jnp.tanh(module.apply(variables, x)) ** 3))
    return jax.grad(lambda x: jnp.sum(inner(x) ** 2))(x)

  assert _rel(curvature(ref), curvature(fast)) < 1e-4


def test_bfloat16_input_gives_flax_dtype_and_values():
  x, ref, fast, variables = _pair((2, 4, 4, 8), 4, dtype=jnp.bfloat16)
  y_ref, y_fast = ref.apply(variables, x), fast.apply(variables, x)
  assert y_fast.dtype == y_ref.dtype
  assert _rel(y_ref, y_fast) < 1e-5
  dx_ref = jax.grad(lambda x: jnp.sum(ref.apply(variables, x) ** 2))(x)
  dx_fast = jax.grad(lambda x: jnp.sum(fast.apply(variables, x) ** 2))(x)
  assert dx_fast.dtype == dx_ref.dtype == jnp.bfloat16
  assert _rel(dx_ref, dx_fast) < 2e-2  # both rounded to bfloat16 at the end


@pytest.mark.parametrize("kwargs", [dict(use_bias=False), dict(use_fast_variance=False),
                                    dict(reduction_axes=(-2, -1))])
def test_uncommon_settings_are_flax_own_computation(kwargs):
  x, ref, fast, variables = _pair((2, 4, 4, 8), 4, **kwargs)
  np.testing.assert_array_equal(ref.apply(variables, x), fast.apply(variables, x))


def test_group_norm_layer_follows_conv_impl():
  assert type(models.group_norm_layer("fast", 4)) is _norm.FastGroupNorm
  assert type(models.group_norm_layer("xla", 4)) is nn.GroupNorm
  with pytest.raises(ValueError, match="conv_impl"):
    models.group_norm_layer("eigen", 4)


def test_bad_arguments_raise_naming_them():
  x, scale = jnp.ones((2, 4, 4, 8)), jnp.ones((8,))
  with pytest.raises(ValueError, match="`num_groups`"):
    models.group_norm(x, scale, scale, num_groups=3)
  with pytest.raises(ValueError, match="`scale`"):
    models.group_norm(x, jnp.ones((4,)), scale, num_groups=2)
  with pytest.raises(ValueError, match="`bias`"):
    models.group_norm(x, scale, jnp.ones((8, 1)), num_groups=2)
  with pytest.raises(ValueError, match="`x`"):
    models.group_norm(jnp.ones((8,)), scale, scale, num_groups=2)
