"""Analogies, attribute vectors, moves along directions and traversal grids."""

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from latentjax import latent_ops as lo

FAST = settings(max_examples=40, deadline=None)
_floats = st.floats(-100.0, 100.0, allow_nan=False, allow_subnormal=False, width=32)  # XLA: FTZ


@FAST
@given(hnp.arrays(np.float32, (3, 2, 4), elements=_floats))
def test_analogy_is_c_plus_b_minus_a(abc):
  a, b, c = abc
  out = np.asarray(lo.analogy(a, b, c))
  np.testing.assert_allclose(out, c.astype(np.float64) + (b.astype(np.float64) - a), atol=1e-4)
  # The analogy of a with itself returns c; b - a is carried over exactly.
  np.testing.assert_array_equal(lo.analogy(a, a, c), c)


@FAST
@given(hnp.arrays(np.float32, (6, 3), elements=_floats),
       hnp.arrays(np.bool_, (6,)))
def test_attribute_vector_is_difference_of_group_means(z, mask):
  assume(0 < mask.sum() < len(mask))
  expected = z[mask].astype(np.float64).mean(0) - z[~mask].astype(np.float64).mean(0)
  np.testing.assert_allclose(lo.attribute_vector(z, mask), expected, atol=1e-3)


def test_attribute_vector_under_jit_and_empty_groups():
  z = jnp.arange(12.0).reshape(4, 3)
  mask = jnp.array([True, False, True, False])
  jitted = jax.jit(lo.attribute_vector)(z, mask)
  np.testing.assert_allclose(jitted, z[::2].mean(0) - z[1::2].mean(0))
  with pytest.raises(ValueError, match=r"`has_attribute` has no codes with the attribute"):
    lo.attribute_vector(z, jnp.zeros(4, bool))
  with pytest.raises(ValueError, match=r"`has_attribute` has no codes without the attribute"):
    lo.attribute_vector(z, jnp.ones(4, bool))
  with pytest.raises(TypeError, match=r"`has_attribute` must be a boolean mask"):
    lo.attribute_vector(z, jnp.array([1, 0, 1, 0]))
  with pytest.raises(ValueError, match=r"`has_attribute` must be \[N\] with N = 4"):
    lo.attribute_vector(z, jnp.ones(3, bool))


@FAST
@given(hnp.arrays(np.float32, (3, 4), elements=_floats),
       hnp.arrays(np.float32, (4,), elements=_floats), st.floats(-5, 5))
def test_move_along_moves_by_amount_in_latent_units(z, direction, amount):
  assume(np.linalg.norm(direction) > 1e-2)
  moved = np.asarray(lo.move_along(z, direction, amount), np.float64)
  np.testing.assert_allclose(np.linalg.norm(moved - z, axis=1), abs(amount),
                             atol=1e-4 * (1 + np.abs(z).max()))
  unit = direction / np.linalg.norm(direction)
  np.testing.assert_allclose((moved - z) @ unit, amount, atol=1e-4 * (1 + np.abs(z).max()))


def test_move_along_per_code_amounts_and_raw_direction():
  z = jnp.zeros((2, 3))
  d = jnp.array([0.0, 3.0, 4.0])
  np.testing.assert_allclose(lo.move_along(z, d, jnp.array([1.0, -2.0])),
                             [[0, 0.6, 0.8], [0, -1.2, -1.6]], atol=1e-6)
  np.testing.assert_allclose(lo.move_along(z[0], d, 2.0, normalize=False), [0, 6, 8])
  np.testing.assert_array_equal(lo.move_along(z, jnp.zeros(3), 1.0), z)


def test_traverse_dimension_and_direction():
  z = jnp.array([1.0, 2.0, 3.0])
  values = jnp.array([-1.0, 0.0, 2.0])
  grid = lo.traverse(z, 1, values)
  np.testing.assert_allclose(grid, [[1, 1, 3], [1, 2, 3], [1, 4, 3]])
  grid = lo.traverse(z, 1, values, mode="set")
  np.testing.assert_allclose(grid, [[1, -1, 3], [1, 0, 3], [1, 2, 3]])
  direction = jnp.array([0.0, 0.0, 2.0])
  np.testing.assert_allclose(lo.traverse(z, direction, values, mode="set")[:, 2], values)
  batch = jnp.stack([z, -z])
  out = lo.traverse(batch, direction, values)
  assert out.shape == (2, 3, 3)
  np.testing.assert_allclose(out[1], lo.traverse(-z, direction, values))
  np.testing.assert_allclose(out[0, :, 2], 3 + values)


@pytest.mark.parametrize("fn, args, match, error", [
    (lo.analogy, (np.zeros(3), np.zeros(3), np.zeros(4)),
     r"`c` must have the same shape as `a` \(3,\), got shape \(4,\)", ValueError),
    (lo.move_along, (np.zeros((2, 3)), np.zeros(4), 1.0),
     r"`direction` must have latent size D = 3 \(the last axis of `z`\), got shape \(4,\)",
     ValueError),
    (lo.move_along, (np.zeros((2, 3)), np.zeros(3), np.zeros(5)),
     r"`amount` must be a scalar or \[B\] with B = 2", ValueError),
    (lo.traverse, (np.zeros(3), 3, np.zeros(4)),
     r"`direction_or_dim` must be a dimension in \[0, 3\)", ValueError),
    (lo.traverse, (np.zeros(3), np.zeros(2), np.zeros(4)),
     r"`direction_or_dim` must have latent size D = 3", ValueError),
    (lo.traverse, (np.zeros((1, 2, 3)), 0, np.zeros(4)),
     r"`z` must be \[D\] or \[B, D\], got shape \(1, 2, 3\)", ValueError),
    (lo.traverse, (np.zeros(3), 0, np.zeros((2, 2))), r"`values` must be \[V\]", ValueError),
    (lo.traverse, (np.zeros(3), "x", np.zeros(2)), r"`direction_or_dim` must be an int",
     TypeError),
])
def test_argument_errors(fn, args, match, error):
  with pytest.raises(error, match=match):
    fn(*args)
