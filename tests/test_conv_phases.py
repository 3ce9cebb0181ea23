"""The phase form of a strided convolution's transpose, and negative padding, against NumPy.

The reference here is plain NumPy (a sum over kernel taps), not ``lax``: XLA:CPU's own
convolution with a negative window padding and several channels returns wrong values,
so ``lax`` cannot be the judge of those cases.
"""

import itertools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import models
from latentjax.kernels import _conv


@pytest.fixture(scope="module", autouse=True)
def _optimised_compiles():
  """This module checks the fast convolutions with XLA's optimisations on (the rest of the
  suite compiles without them: tests/conftest.py)."""
  old = jax.config.read("jax_disable_most_optimizations")
  jax.config.update("jax_disable_most_optimizations", False)
  yield
  jax.config.update("jax_disable_most_optimizations", old)


NHWC = ("NHWC", "HWIO", "NHWC")


def _pad(x, pads):
  """Zero padding of the two spatial dimensions; a negative amount crops."""
  (top, bottom), (left, right) = pads
  x = np.pad(x, ((0, 0), (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0)),
                 (0, 0)))
  h, w = x.shape[1:3]
  return x[:, -min(top, 0):h + min(bottom, 0), -min(left, 0):w + min(right, 0)]


def np_conv(x, w, strides, pads):
  """y[b, i, j] = sum_{a, c} xpad[b, s i + a, s j + c] @ w[a, c]."""
  xp = _pad(np.asarray(x, np.float64), pads)
  kh, kw = w.shape[:2]
  (sh, sw), (hp, wp) = strides, xp.shape[1:3]
  ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
  y = 0.0
  for a, c in itertools.product(range(kh), range(kw)):
    patch = xp[:, a:a + sh * (ho - 1) + 1:sh, c:c + sw * (wo - 1) + 1:sw]
    y = y + patch @ np.asarray(w[a, c], np.float64)
  return y


def np_conv_t(y, w, strides, pads, in_hw):
  """The adjoint of ``np_conv`` in x: scatter-adds y @ w[a, c]^T into the padded image."""
  (lo_h, hi_h), (lo_w, hi_w) = pads
  hp, wp = in_hw[0] + lo_h + hi_h, in_hw[1] + lo_w + hi_w
  kh, kw = w.shape[:2]
  (sh, sw), (ho, wo) = strides, y.shape[1:3]
  xp = np.zeros((y.shape[0], hp, wp, w.shape[2]))
  for a, c in itertools.product(range(kh), range(kw)):
    xp[:, a:a + sh * (ho - 1) + 1:sh, c:c + sw * (wo - 1) + 1:sw] += (
        np.asarray(y, np.float64) @ np.asarray(w[a, c], np.float64).T)
  return _pad(xp, ((-lo_h, -hi_h), (-lo_w, -hi_w)))


def _cases():
  rng = np.random.default_rng(0)
  out = []
  for h, w, kernel, strides in itertools.product(
      (7, 8), (5, 6), ((4, 4), (3, 3), (2, 3), (4, 2)), ((2, 2), (2, 1), (1, 2))):
    k = kernel
    pads = ((int(rng.integers(0, k[0])), int(rng.integers(0, k[0]))),
            (int(rng.integers(0, k[1])), int(rng.integers(0, k[1]))))
    out.append((h, w, k, strides, pads))
  return out


def test_transpose_over_phases_equals_the_adjoint():
  rng = np.random.default_rng(1)
  checked = 0
  for h, w, kernel, strides, pads in _cases():
    x_shape = (2, h, w, 3)
    wt = rng.normal(size=(*kernel, 3, 5)).astype(np.float32)
    y_shape = np_conv(np.zeros(x_shape), wt, strides, pads).shape
    if min(y_shape[1:3]) <= 0:
      continue
    y = rng.normal(size=y_shape).astype(np.float32)
    got = _conv._conv_t_phases(jnp.asarray(y), jnp.asarray(wt), strides, pads, (h, w), None)
    assert got is not None, (h, w, kernel, strides, pads)
    want = np_conv_t(y, wt, strides, pads, (h, w))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-4,
                               err_msg=str((h, w, kernel, strides, pads)))
    checked += 1
  assert checked >= 40


def test_a_phase_without_taps_is_left_to_the_other_formulations():
  # a 1x1 kernel at stride 2 writes only the even pixels: phase 1 has no taps
  assert _conv._phase_plan(8, 1, 2, 0, 4) is None
  # 4 taps at stride 2, padding 1: even pixels take taps 3, 1 (rows i - 1, i), odd 2, 0
  assert _conv._phase_plan(8, 4, 2, 1, 4) == [(1, 2, (1, 0), 4), (0, 2, (0, 1), 4)]


@pytest.mark.parametrize("formulation", ["xla", "phases"])
def test_fast_gradients_equal_the_numpy_adjoints(formulation, monkeypatch):
  monkeypatch.setitem(_conv._FORMULATION, "conv_t", formulation)
  calls = []
  phases = _conv._conv_t_phases
  monkeypatch.setattr(_conv, "_conv_t_phases", lambda *a: calls.append(1) or phases(*a))
  rng = np.random.default_rng(2)
  x = rng.normal(size=(2, 8, 7, 16)).astype(np.float32)  # 16 channels: phases are used
  w = rng.normal(size=(4, 3, 16, 6)).astype(np.float32)
  strides, pads = (2, 2), ((1, 2), (1, 0))
  y = np_conv(x, w, strides, pads)
  g = rng.normal(size=y.shape).astype(np.float32)

  def f(x, w):
    out = models.conv_general_dilated_fast(x, w, strides, pads, dimension_numbers=NHWC)
    return jnp.sum(out * g)

  dx, dw = jax.jit(jax.grad(f, argnums=(0, 1)))(jnp.asarray(x), jnp.asarray(w))
  np.testing.assert_allclose(np.asarray(dx), np_conv_t(g, w, strides, pads, (8, 7)),
                             rtol=1e-4, atol=1e-4)
  dw_want = np.stack([np.stack([np.einsum(
      "bhwc,bhwo->co", _pad(x, pads)[:, a:a + 2 * (y.shape[1] - 1) + 1:2,
                                     c:c + 2 * (y.shape[2] - 1) + 1:2], g)
      for c in range(3)]) for a in range(4)])
  np.testing.assert_allclose(np.asarray(dw), dw_want, rtol=1e-4, atol=1e-3)
  assert bool(calls) == (formulation == "phases")  # the input gradient took that path


@pytest.mark.parametrize("formulation", ["xla", "phases"])
def test_transposed_convolution_layer_equals_the_adjoint(formulation, monkeypatch):
  monkeypatch.setitem(_conv._FORMULATION, "conv_t", formulation)
  rng = np.random.default_rng(3)
  y = rng.normal(size=(2, 4, 4, 8)).astype(np.float32)
  w = rng.normal(size=(4, 4, 8, 16)).astype(np.float32)  # HWIO of the transposed layer
  got = models.conv_transpose_fast(jnp.asarray(y), jnp.asarray(w), (2, 2), "SAME",
                                   dimension_numbers=NHWC)
  want = jax.lax.conv_transpose(jnp.asarray(y), jnp.asarray(w), (2, 2), "SAME",
                                dimension_numbers=NHWC)
  np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-4)


def test_negative_padding_is_cropped_before_the_convolution():
  rng = np.random.default_rng(4)
  x = rng.normal(size=(2, 5, 5, 8)).astype(np.float32)
  w = rng.normal(size=(2, 2, 8, 8)).astype(np.float32)
  for pads in (((0, 0), (-1, 1)), ((-1, -1), (1, -2)), ((2, -1), (0, 0))):
    got = models.conv_general_dilated_fast(jnp.asarray(x), jnp.asarray(w), (1, 1), pads,
                                           dimension_numbers=NHWC)
    np.testing.assert_allclose(np.asarray(got), np_conv(x, w, (1, 1), pads),
                               rtol=1e-4, atol=1e-4, err_msg=str(pads))


@pytest.mark.parametrize("in_hw, c, kernel, strides, expected", [
    ((16, 16), 16, (4, 4), (2, 2), "phases"),  # wide and large: stride-1 convs over phases
    ((17, 16), 16, (3, 3), (2, 2), "phases"),  # an odd size and a 3x3 kernel too
    ((8, 8), 16, (4, 4), (2, 2), "s2d"),  # small image: one matmul and shifted adds
    ((32, 32), 3, (4, 4), (2, 1), "s2d"),  # thin (RGB) image
    ((9, 7), 16, (3, 3), (2, 2), "xla"),  # small, kernel not divisible by the stride
    ((16, 16), 16, (3, 3), (1, 1), "xla"),  # stride 1: XLA's transpose is a plain conv
])
def test_auto_transpose_formulation_by_shape_equals_the_adjoint(in_hw, c, kernel, strides,
                                                                expected):
  pads = ((1, 2), (1, 1))
  assert _conv._conv_t_formulation(c, strides, in_hw, kernel, pads) == expected
  rng = np.random.default_rng(5)
  x = rng.normal(size=(2, *in_hw, c)).astype(np.float32)
  w = rng.normal(size=(*kernel, c, 5)).astype(np.float32)
  g = rng.normal(size=np_conv(x, w, strides, pads).shape).astype(np.float32)
  _, vjp = jax.vjp(lambda x: models.conv_general_dilated_fast(
      x, jnp.asarray(w), strides, pads, dimension_numbers=NHWC), jnp.asarray(x))
  np.testing.assert_allclose(np.asarray(jax.jit(vjp)(jnp.asarray(g))[0]),
                             np_conv_t(g, w, strides, pads, in_hw), rtol=1e-4, atol=1e-3)


def test_compiler_options_only_for_the_fast_convolutions_on_cpu():
  options = models.conv_compiler_options("fast", "cpu")
  assert options == models.conv_compiler_options("auto", "cpu") and options
  assert models.conv_compiler_options("xla", "cpu") == {}
  assert models.conv_compiler_options("auto", "gpu") == {}
  assert models.conv_compiler_options("fast", "tpu") == {}  # Eigen is a CPU matter
  with pytest.raises(ValueError, match="`conv_impl`"):
    models.conv_compiler_options("eigen")


def _ynn_ops(hlo: str) -> set[str]:
  """The opcodes inside the computations that YNNPACK fusions of compiled HLO call."""
  called = set(re.findall(r"calls=%?([\w.-]+)[^\n]*__ynn_fusion", hlo))
  ops = set()
  for block in re.split(r"\n(?=\S)", hlo):
    name = re.match(r"%?([\w.-]+)", block)
    if name and name.group(1) in called:
      ops |= set(re.findall(r"= \S+ ([a-z][\w-]*)\(", block))
  return ops


def test_compiler_options_keep_convolutions_off_ynnpack_and_reductions_on_it():
  x = jnp.asarray(np.random.default_rng(6).normal(size=(4, 16, 16, 16)), jnp.float32)
  w = jnp.asarray(np.random.default_rng(7).normal(size=(4, 4, 16, 16)), jnp.float32) / 16

  def loss(x, w):
    y = models.conv_general_dilated_fast(x, w, (2, 2), "SAME", dimension_numbers=NHWC)
    y = y - jnp.mean(y, axis=(0, 1, 2), keepdims=True)  # a reduction, as BatchNorm's statistics
    return jnp.sum(jnp.tanh(y) ** 2)

  grad = jax.grad(loss, argnums=(0, 1))
  plain = jax.jit(grad).lower(x, w).compile()
  tuned = jax.jit(grad, compiler_options=models.conv_compiler_options("fast")).lower(
      x, w).compile()
  tuned_ops = _ynn_ops(tuned.as_text())
  assert not tuned_ops & {"convolution", "dot"}, tuned_ops
  assert "reduce" in tuned_ops, tuned_ops  # the reduction runs on YNNPACK's kernels
  for a, b in zip(plain(x, w), tuned(x, w), strict=True):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
