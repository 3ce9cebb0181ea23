"""Interpolation: lerp, slerp and interpolate, with known answers and properties."""

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from latentjax import latent_ops as lo

FAST = settings(max_examples=40, deadline=None)
_floats = st.floats(-10.0, 10.0, allow_nan=False, allow_subnormal=False, width=32)  # XLA: FTZ


def _vectors(dim):
  return hnp.arrays(np.float32, (dim,), elements=_floats)


def _angle(a, b):
  cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
  return np.arccos(np.clip(cos, -1.0, 1.0))


def test_lerp_known_values():
  z0, z1 = jnp.array([0.0, 2.0]), jnp.array([4.0, -2.0])
  np.testing.assert_allclose(lo.lerp(z0, z1, 0.25), [1.0, 1.0])
  t = jnp.array([[0.0], [0.5], [1.0]])
  np.testing.assert_allclose(lo.lerp(z0, z1, t), [[0.0, 2.0], [2.0, 0.0], [4.0, -2.0]])


def test_slerp_quarter_circle():
  out = lo.slerp(jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]), 0.5)
  np.testing.assert_allclose(out, [np.sqrt(0.5), np.sqrt(0.5)], rtol=1e-6)
  out = lo.slerp(jnp.array([2.0, 0.0]), jnp.array([0.0, 2.0]), 1.0 / 3.0)
  np.testing.assert_allclose(out, [2 * np.cos(np.pi / 6), 2 * np.sin(np.pi / 6)], rtol=1e-6)


@pytest.mark.parametrize("z0, z1", [
    ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),            # identical
    ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0 + 1e-6]),     # parallel
    ([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]),         # anti-parallel
    ([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0 + 1e-5]),  # nearly anti-parallel
    ([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]),            # zero vector
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
])
def test_slerp_degenerate_inputs_fall_back_to_lerp_without_nan(z0, z1):
  z0, z1 = jnp.array(z0), jnp.array(z1)
  t = jnp.linspace(0, 1, 7)[:, None]
  out = lo.slerp(z0[None], z1[None], t)
  assert np.all(np.isfinite(out))
  np.testing.assert_allclose(out, lo.lerp(z0[None], z1[None], t), atol=1e-4)
  grad = jax.grad(lambda a: jnp.sum(lo.slerp(a, z1, 0.3)))(z0)
  assert np.all(np.isfinite(grad))


def test_interpolate_shapes_and_exact_endpoints(key):
  z0, z1 = jax.random.normal(key, (2, 5, 6))
  for method in ("linear", "slerp"):
    path = lo.interpolate(z0, z1, 9, method=method)
    assert path.shape == (5, 9, 6)
    np.testing.assert_array_equal(path[:, 0], z0)
    np.testing.assert_array_equal(path[:, -1], z1)
    single = lo.interpolate(z0[2], z1[2], 9, method=method)
    assert single.shape == (9, 6)
    np.testing.assert_allclose(path[2], single, rtol=1e-6, atol=1e-6)


def test_interpolate_under_jit_and_vmap(key):
  z0, z1 = jax.random.normal(key, (2, 3, 4))
  f = jax.jit(lambda a, b: lo.interpolate(a, b, 5, method="slerp"))
  np.testing.assert_allclose(f(z0, z1), lo.interpolate(z0, z1, 5, method="slerp"), atol=1e-6)
  vm = jax.vmap(lambda a, b: lo.interpolate(a, b, 5))(z0, z1)
  np.testing.assert_allclose(vm, lo.interpolate(z0, z1, 5), atol=1e-6)


@FAST
@given(_vectors(5), _vectors(5), st.sampled_from([3, 7, 12]))
def test_slerp_keeps_norm_and_steps_angle_evenly(a, b, num_steps):
  na, nb = np.linalg.norm(a), np.linalg.norm(b)
  assume(na > 1e-2 and nb > 1e-2)
  b = b * (na / nb)  # equal norms
  omega = _angle(a, b)
  assume(0.05 < omega < np.pi - 0.05)
  path = np.asarray(lo.interpolate(a, b, num_steps, method="slerp"), np.float64)
  np.testing.assert_allclose(np.linalg.norm(path, axis=1), na, rtol=1e-4)
  steps = [_angle(path[i], path[i + 1]) for i in range(num_steps - 1)]
  np.testing.assert_allclose(steps, omega / (num_steps - 1), atol=2e-3)


@FAST
@given(_vectors(4), _vectors(4), st.floats(0.0, 1.0))
def test_lerp_is_affine_and_slerp_is_finite(a, b, t):
  out = np.asarray(lo.lerp(a, b, t))
  expected = a.astype(np.float64) + t * (b.astype(np.float64) - a)
  assert np.all(np.abs(out - expected) <= 1e-5 * (1 + np.abs(a) + np.abs(b)))
  assert np.all(np.isfinite(np.asarray(lo.slerp(a, b, t))))


@FAST
@given(_vectors(3), _vectors(3))
def test_slerp_is_symmetric_in_reversal(a, b):
  t = np.float32(0.3)
  np.testing.assert_allclose(lo.slerp(a, b, t), lo.slerp(b, a, 1 - t), atol=1e-3)


@pytest.mark.parametrize("fn, args, match", [
    (lo.interpolate, (np.zeros((3, 4, 5)), np.zeros((3, 4, 5)), 4),
     r"`z0` must be \[D\] or \[B, D\], got shape \(3, 4, 5\)"),
    (lo.interpolate, (np.zeros(4), np.zeros(5), 4),
     r"`z1` must have the same shape as `z0` \(4,\), got shape \(5,\)"),
    (lo.interpolate, (np.zeros(4), np.zeros(4), 1), r"`num_steps` must be >= 2, got 1"),
    (lo.lerp, (np.zeros(4), np.zeros(3), 0.5), r"`z1` must have the same shape as `z0`"),
    (lo.slerp, (np.zeros((2, 4)), np.zeros((2, 4)), np.zeros(3)),
     r"`t` must broadcast against `z0` \(2, 4\)"),
])
def test_shape_errors(fn, args, match):
  with pytest.raises(ValueError, match=match):
    fn(*args)


def test_unknown_method_lists_valid_ones():
  with pytest.raises(ValueError, match=r"Unknown `method` 'cubic'; valid: 'linear', 'slerp'"):
    lo.interpolate(np.zeros(3), np.ones(3), 4, method="cubic")
