"""models.UNet: DDPM's noise-prediction U-Net (pinned parameter counts, shapes, labels,
dropout, conv_impl equivalence and every bad-input error)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import models

_TINY = dict(ch=8, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(4,), num_groups=4)


def _host_params(net, x, t, labels=None, seed=0):
  """Variables of ``net`` drawn on the host (no jitted init: its RNG code compiles slowly).

  Kernels ~ N(0, 1 / fan_in), GroupNorm scales 1 + N(0, 0.1^2), biases N(0, 0.1^2).
  """
  rng = np.random.default_rng(seed)
  shapes = jax.eval_shape(lambda k: net.init(k, x, t, labels), jax.random.PRNGKey(0))

  def draw(path, leaf):
    z = rng.standard_normal(leaf.shape).astype(np.float32)
    if leaf.ndim >= 2:
      return jnp.asarray(z / np.sqrt(np.prod(leaf.shape[:-1])))
    return jnp.asarray((1.0 if path[-1].key == "scale" else 0.0) + 0.1 * z)

  return jax.tree_util.tree_map_with_path(draw, shapes)


def _num_params(net, shape):
  variables = jax.eval_shape(
      lambda k: net.init(k, jnp.zeros((1, *shape)), jnp.zeros((1,), jnp.int32)),
      jax.random.PRNGKey(0))
  return sum(int(x.size) for x in jax.tree.leaves(variables["params"]))


def test_unet32_has_the_reference_parameter_count():
  assert _num_params(models.UNet(), (32, 32, 3)) == 4_437_699  # BENCHMARKS.md unet32
  assert _num_params(models.unet_preset("unet32"), (32, 32, 3)) == 4_437_699


def test_ddpm_cifar10_network_has_35_7m_parameters():
  net = models.UNet(ch=128, ch_mult=(1, 2, 2, 2), num_res_blocks=2, attn_resolutions=(16,),
                    dropout=0.1)
  assert _num_params(net, (32, 32, 3)) == 35_746_307  # Ho et al. (2020): 35.7M
  assert _num_params(models.unet_preset("ddpm_cifar10"), (32, 32, 3)) == 35_746_307


def test_parameter_count_of_a_tiny_net_in_closed_form():
  # ch 8 -> levels 8, 16 on 8x8x1; temb 32; attention at 4x4 (level 1) and the middle.
  gn = lambda c: 2 * c
  conv = lambda k, ci, co: k * k * ci * co + co
  dense = lambda ci, co: ci * co + co
  res = lambda ci, co: (gn(ci) + conv(3, ci, co) + dense(32, co) + gn(co) + conv(3, co, co)
                        + (conv(1, ci, co) if ci != co else 0))
  attn = lambda c: gn(c) + 4 * dense(c, c)
  expected = (dense(8, 32) + dense(32, 32) + conv(3, 1, 8)
              + res(8, 8) + conv(3, 8, 8) + res(8, 16) + attn(16)          # down; skips
              + res(16, 16) + attn(16) + res(16, 16)                       # middle
              + res(16 + 16, 16) + attn(16) + res(16 + 8, 16) + attn(16)   # up: skips
              + conv(3, 16, 16)                                            # upsample
              + res(16 + 8, 8) + res(8 + 8, 8) + gn(8) + conv(3, 8, 1))
  assert _num_params(models.UNet(**_TINY), (8, 8, 1)) == expected


def test_digits_preset_takes_8x8x1_with_10_classes_and_a_null_label():
  net = models.unet_preset("digits", num_classes=10)
  x, t, y = jnp.zeros((3, 8, 8, 1)), jnp.array([0, 10, 999]), jnp.array([3, 3, 10])
  variables = _trace(net, (3, 8, 8, 1), t, y)
  assert variables["params"]["label_embed"]["embedding"].shape == (11, 128)  # + NULL row
  out = jax.eval_shape(lambda v: net.apply(v, x, t, y), variables)
  assert out.shape == (3, 8, 8, 1)
  sprites = models.unet_preset("sprites")
  out = jax.eval_shape(lambda v: sprites.apply(v, jnp.zeros((2, 32, 32, 1)), t[:2]),
                       _trace(sprites, (2, 32, 32, 1)))
  assert out.shape == (2, 32, 32, 1)


def test_tiny_conditional_forward_label_handling_and_shapes():
  net = models.UNet(**_TINY, num_classes=10)
  x = jax.random.normal(jax.random.PRNGKey(1), (3, 8, 8, 1))
  t, y = jnp.full((3,), 7), jnp.array([3, 3, 10])
  v = _host_params(net, x, t, y)
  # Examples are independent, so one batch holds both label sets: [3, 3, 10] and [3, 4, 3].
  run = jax.jit(lambda v: (net.apply(v, jnp.concatenate([x, x]), jnp.full((6,), 7),
                                     jnp.array([3, 3, 10, 3, 4, 3])), net.apply(v, x, 7, y)))
  both, scalar_t = run(v)
  out, other = both[:3], both[3:]
  assert out.shape == (3, 8, 8, 1) and bool(jnp.all(jnp.isfinite(out)))
  # The label enters only through its embedding: changing it changes only those rows.
  np.testing.assert_allclose(other[0], out[0], rtol=1e-5, atol=1e-5)
  assert not np.allclose(other[1], out[1], atol=1e-4)
  assert not np.allclose(other[2], out[2], atol=1e-4)  # NULL label 10 vs class 3
  np.testing.assert_allclose(scalar_t, out, rtol=1e-5, atol=1e-5)  # scalar t: broadcast
  wide = models.UNet(**_TINY, out_channels=2)
  two = jax.eval_shape(lambda w: wide.apply(w, x, t), _host_params(wide, x, t))
  assert two.shape == (3, 8, 8, 2)


def test_timestep_embedding_closed_form():
  emb = models.timestep_embedding(jnp.array([0, 2]), 4)
  # frequencies 10000^(-0/2) = 1 and 10000^(-1/2) = 0.01; [sin..., cos...].
  np.testing.assert_allclose(emb, [[0, 0, 1, 1],
                                   [math.sin(2), math.sin(0.02), math.cos(2), math.cos(0.02)]],
                             rtol=1e-6, atol=1e-6)
  with pytest.raises(ValueError, match="`dim` must be a positive even number, got 3"):
    models.timestep_embedding(jnp.array([0]), 3)


def test_xla_and_fast_paths_give_the_same_network_and_gradients():
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 3))
  t = jnp.array([5, 700])
  xla = models.UNet(**_TINY, conv_impl="xla")
  fast = models.UNet(**_TINY, conv_impl="fast")
  variables = _host_params(xla, x, t)
  assert jax.tree.structure(variables) == jax.tree.structure(
      jax.eval_shape(lambda k: fast.init(k, x, t), jax.random.PRNGKey(0)))
  out_fast, out_xla = jax.jit(lambda v: (fast.apply(v, x, t), xla.apply(v, x, t)))(variables)
  assert float(jnp.std(out_xla)) > 0.1  # not a degenerate output
  np.testing.assert_allclose(out_fast, out_xla, rtol=1e-4, atol=1e-5)
  # and the same gradients (fast convolutions and GroupNorm have their own VJPs)
  loss = lambda net: lambda v: jnp.mean(jnp.square(net.apply(v, x, t) - x))
  g_fast, g_xla = jax.jit(lambda v: (jax.grad(loss(fast))(v), jax.grad(loss(xla))(v)))(variables)
  for a, b in zip(jax.tree.leaves(g_fast), jax.tree.leaves(g_xla), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5 * float(jnp.max(jnp.abs(b))) + 1e-7)


def test_jitted_train_forward_with_dropout_is_deterministic_given_the_rng():
  net = models.UNet(**_TINY, dropout=0.5)
  x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 1))
  t = jnp.array([1, 2])
  variables = _host_params(net, x, t)
  fwd = jax.jit(lambda v, k: net.apply(v, x, t, train=True, rngs={"dropout": k}))
  # "rbg" keys: the same determinism as the default threefry keys, whose bit generation
  # takes several seconds longer to compile.
  key = lambda seed: jax.random.key(seed, impl="rbg")
  a, b = fwd(variables, key(7)), fwd(variables, key(7))
  np.testing.assert_array_equal(a, b)
  assert not np.allclose(a, fwd(variables, key(8)), atol=1e-4)
  # Without dropout (rate 0, same weights) the train-mode output is different again.
  plain = models.UNet(**_TINY)
  evaluated = jax.jit(lambda v: plain.apply(v, x, t, train=True))(variables)
  assert not np.allclose(a, evaluated, atol=1e-4)


def _trace(net, shape, t=None, labels=None):
  """Traces init abstractly: the shape checks run, nothing is compiled or allocated."""
  x = jnp.zeros(shape)
  t = jnp.zeros((shape[0],), jnp.int32) if t is None else t
  return jax.eval_shape(lambda k: net.init(k, x, t, labels), jax.random.PRNGKey(0))


@pytest.mark.parametrize("attrs, match", [
    (dict(ch=7), "`ch` must be a positive even int, got 7"),
    (dict(ch_mult=()), "`ch_mult` must be a non-empty tuple"),
    (dict(ch_mult=(1, 0)), "`ch_mult` must be a non-empty tuple of positive ints"),
    (dict(num_res_blocks=0), "`num_res_blocks` must be an int >= 1, got 0"),
    (dict(attn_resolutions=(-4,)), "`attn_resolutions` must be positive ints"),
    (dict(dropout=1.0), r"`dropout` must be in \[0, 1\), got 1.0"),
    (dict(num_groups=3), "`num_groups` 3 must be >= 1 and divide"),
    (dict(out_channels=0), "`out_channels` must be None or >= 1, got 0"),
    (dict(num_classes=-1), "`num_classes` must be an int >= 0, got -1"),
    (dict(conv_impl="cudnn"), "`conv_impl` must be one of"),
])
def test_bad_attributes_raise_naming_the_attribute(attrs, match):
  with pytest.raises(ValueError, match=match):
    _trace(models.UNet(**{**_TINY, **attrs}), (1, 8, 8, 1))


def test_bad_inputs_raise_naming_the_argument():
  tiny = models.UNet(**_TINY)
  with pytest.raises(ValueError, match=r"`x` must be \[B, H, W, C\] images, got shape"):
    _trace(tiny, (8, 8, 1))
  with pytest.raises(ValueError, match=r"divisible by 2\*\*2 = 4"):
    _trace(models.UNet(**{**_TINY, "ch_mult": (1, 2, 2), "attn_resolutions": ()}),
           (1, 6, 8, 1))
  with pytest.raises(ValueError, match=r"`attn_resolutions` \(12,\) names \[12\], never "
                                       r"reached: the feature-map heights are \[32, 16, 8\]"):
    _trace(models.UNet(attn_resolutions=(12,)), (1, 32, 32, 3))
  with pytest.raises(ValueError, match=r"`t` must be \[B\] = \(2,\) timesteps"):
    _trace(tiny, (2, 8, 8, 1), t=jnp.zeros((3,), jnp.int32))
  with pytest.raises(ValueError, match="`labels` given to an unconditional model"):
    _trace(tiny, (2, 8, 8, 1), labels=jnp.zeros((2,), jnp.int32))
  cond = models.UNet(**_TINY, num_classes=10)
  with pytest.raises(ValueError, match="`labels` is required: this model is conditioned on 10"):
    _trace(cond, (2, 8, 8, 1))
  with pytest.raises(ValueError, match=r"`labels` must be \[B\] = \(2,\) integers"):
    _trace(cond, (2, 8, 8, 1), labels=jnp.zeros((3,), jnp.int32))
  with pytest.raises(ValueError, match=r"`labels` must be \[B\] = \(2,\) integers"):
    _trace(cond, (2, 8, 8, 1), labels=jnp.zeros((2,)))
  with pytest.raises(ValueError, match=r"`labels` must be in \[0, 10\] \(10 = unconditional\)"):
    _trace(cond, (2, 8, 8, 1), labels=jnp.array([3, 11]))
  with pytest.raises(ValueError, match="`t` must be finite"):
    _trace(tiny, (2, 8, 8, 1), t=jnp.array([1.0, jnp.nan]))
  with pytest.raises(ValueError, match="Unknown `name` 'big'; presets: unet32"):
    models.unet_preset("big")
