"""conv_general_dilated_fast / conv_transpose_fast equal lax's, gradients included.

Property sweeps over shapes, kernels 1-4, strides 1-2, paddings and dtypes compare the
forward pass, the input gradient and the weight gradient with ``lax``; unsupported
cases must fall back to ``lax`` (same numbers); the switch must survive jit, vmap,
grad-of-grad and a 4-device mesh; a conv VAE trains to the same losses either way, and
the smoke run of every conv config logs the same metrics.
"""

import importlib

import flax.linen as nn
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from jax import lax

from configs import vae_digits
from latentjax import models, training
from latentjax.kernels import _conv
from tests._helpers import FakeSpec

DN = ("NHWC", "HWIO", "NHWC")
_SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


def _values_and_grads(fn, x, w, key):
  """(y, dx, dw) of ``fn(x, w)`` for a random output cotangent, in float32."""
  y, vjp = jax.vjp(fn, x, w)
  g = jax.random.normal(key, y.shape, jnp.float32).astype(y.dtype)
  dx, dw = vjp(g)
  return tuple(a.astype(jnp.float32) for a in (y, dx, dw))


def _assert_same(fast, ref, dtype):
  for name, a, b in zip(("forward", "input grad", "weight grad"), fast, ref, strict=True):
    scale = float(jnp.max(jnp.abs(b))) + 1e-6
    tol = 3e-2 if dtype == jnp.bfloat16 else 2e-5
    err = float(jnp.max(jnp.abs(a - b))) if a.size else 0.0
    assert err <= tol * scale, f"{name}: max error {err} vs scale {scale}"


def _inputs(batch, h, w, c, o, kh, kw, dtype):
  kx, kw_ = jax.random.split(jax.random.PRNGKey(batch * 1000 + h * 100 + w * 10 + c))
  x = jax.random.normal(kx, (batch, h, w, c)).astype(dtype)
  k = (jax.random.normal(kw_, (kh, kw, c, o)) / np.sqrt(kh * kw * c)).astype(dtype)
  return x, k


_padding = st.one_of(
    st.sampled_from(["SAME", "VALID"]),
    st.tuples(st.tuples(st.integers(-1, 3), st.integers(-1, 3)),
              st.tuples(st.integers(-1, 3), st.integers(-1, 3))))


@_SETTINGS
@given(batch=st.sampled_from([1, 2, 3]), h=st.integers(1, 9), w=st.integers(1, 9),
       c=st.sampled_from([1, 3, 16]), o=st.sampled_from([1, 4]), kh=st.integers(1, 4),
       kw=st.integers(1, 4), sh=st.integers(1, 2), sw=st.integers(1, 2), padding=_padding,
       dtype=st.sampled_from([jnp.float32, jnp.bfloat16]))
def test_conv_matches_lax(batch, h, w, c, o, kh, kw, sh, sw, padding, dtype):
  x, k = _inputs(batch, h, w, c, o, kh, kw, dtype)
  args = ((sh, sw), padding)
  try:
    out = jax.eval_shape(
        lambda x, k: lax.conv_general_dilated(x, k, *args, dimension_numbers=DN), x, k)
  except (TypeError, ValueError):
    return  # a negative output size: lax rejects it (the fast path falls back to lax)
  if min(out.shape) == 0:
    return
  both = jax.jit(lambda x, k: [_values_and_grads(
      lambda a, b, conv=conv: conv(a, b, *args, dimension_numbers=DN), x, k,
      jax.random.PRNGKey(7))
      for conv in (models.conv_general_dilated_fast, lax.conv_general_dilated)])
  _assert_same(*both(x, k), dtype)


@_SETTINGS
@given(batch=st.sampled_from([1, 2]), h=st.integers(1, 7), w=st.integers(1, 7),
       c=st.sampled_from([1, 3, 16]), o=st.sampled_from([1, 3, 4]), k=st.integers(1, 4),
       stride=st.integers(1, 2), transpose_kernel=st.booleans(),
       padding=st.one_of(st.sampled_from(["SAME", "VALID"]),
                         st.tuples(st.tuples(st.integers(0, 3), st.integers(0, 3)),
                                   st.tuples(st.integers(0, 3), st.integers(0, 3)))),
       dtype=st.sampled_from([jnp.float32, jnp.bfloat16]))
def test_conv_transpose_matches_lax(batch, h, w, c, o, k, stride, transpose_kernel, padding,
                                    dtype):
  x, kern = _inputs(batch, h, w, c, o, k, k, dtype)
  if transpose_kernel:
    kern = kern.reshape(k, k, o, c)  # [k, k, O, C]: lax flips and swaps it
  kwargs = dict(dimension_numbers=DN, transpose_kernel=transpose_kernel)
  try:
    out = jax.eval_shape(lambda a, b: lax.conv_transpose(a, b, (stride, stride), padding,
                                                         **kwargs), x, kern)
  except (TypeError, ValueError):
    return
  if min(out.shape) == 0:
    return
  both = jax.jit(lambda a, b: [_values_and_grads(
      lambda u, v, conv=conv: conv(u, v, (stride, stride), padding, **kwargs), a, b,
      jax.random.PRNGKey(3))
      for conv in (models.conv_transpose_fast, lax.conv_transpose)])
  _assert_same(*both(x, kern), dtype)


@pytest.mark.parametrize("case", [
    dict(rhs_dilation=(2, 2)),
    dict(feature_group_count=2),
    dict(window_strides=(3, 3)),
    dict(kernel=5),
    dict(lhs_dilation=(3, 3), padding=((1, 1), (1, 1))),
    dict(preferred_element_type=jnp.float64),
    dict(layout=("NCHW", "OIHW", "NCHW")),
    dict(dtype=jnp.int32),
])
def test_unsupported_cases_fall_back_to_lax(case):
  case = dict(case)
  k = case.pop("kernel", 3)
  layout = case.pop("layout", DN)
  dtype = case.pop("dtype", jnp.float32)
  args = dict(window_strides=case.pop("window_strides", (1, 1)),
              padding=case.pop("padding", "SAME"), dimension_numbers=layout, **case)
  x = jnp.arange(2 * 9 * 9 * 4).reshape(2, 9, 9, 4) % 7
  w = jnp.arange(k * k * 4 * 4).reshape(k, k, 4 // case.get("feature_group_count", 1), -1) % 5
  if layout[0] == "NCHW":
    x, w = x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1)
  x, w = x.astype(dtype), w.astype(dtype)
  plan = _conv._plan(x, w, args["window_strides"], args["padding"], args.get("lhs_dilation"),
                     args.get("rhs_dilation"), layout, args.get("feature_group_count", 1), 1,
                     args.get("preferred_element_type"))
  assert plan is None
  if args.get("preferred_element_type") == jnp.float64:
    args.pop("preferred_element_type")  # float64 needs jax_enable_x64; the plan is enough
  np.testing.assert_array_equal(models.conv_general_dilated_fast(x, w, **args),
                                lax.conv_general_dilated(x, w, **args))


def test_fast_path_is_taken_for_the_supported_cases():
  x, w = jnp.ones((2, 8, 8, 3)), jnp.ones((4, 4, 3, 5))
  jaxpr = str(jax.make_jaxpr(lambda x, w: models.conv_general_dilated_fast(
      x, w, (2, 2), "SAME", dimension_numbers=DN))(x, w))
  assert "custom_vjp" in jaxpr
  jaxpr = str(jax.make_jaxpr(lambda x, w: models.conv_transpose_fast(
      x, w, (2, 2), "SAME", dimension_numbers=DN))(x, w))
  assert "custom_vjp" in jaxpr


def _conv_pair(kind):
  if kind == "conv":
    return (lambda x, w: models.conv_general_dilated_fast(x, w, (2, 2), "SAME",
                                                          dimension_numbers=DN),
            lambda x, w: lax.conv_general_dilated(x, w, (2, 2), "SAME", dimension_numbers=DN))
  return (lambda x, w: models.conv_transpose_fast(x, w, (2, 2), "SAME", dimension_numbers=DN),
          lambda x, w: lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=DN))


@pytest.mark.parametrize("kind", ["conv", "transpose"])
@pytest.mark.parametrize("c", [3, 16])
def test_grad_of_grad_matches_lax(kind, c):
  x, w = _inputs(2, 6, 6, c, 4, 4, 4, jnp.float32)

  def second_order(conv):
    def inner(x, w):
      gx, gw = jax.grad(lambda a, b: jnp.sum(jnp.sin(conv(a, b))), (0, 1))(x, w)
      return jnp.sum(gx**2) + jnp.sum(jnp.cos(gw))
    return jax.jit(jax.grad(inner, (0, 1)))(x, w)

  fast, ref = _conv_pair(kind)
  for a, b in zip(second_order(fast), second_order(ref), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * float(jnp.max(jnp.abs(b))))


@pytest.mark.parametrize("kind", ["conv", "transpose"])
def test_vmap_over_examples_and_over_kernels(kind):
  fast, ref = _conv_pair(kind)
  x, w = _inputs(2, 8, 8, 3, 4, 4, 4, jnp.float32)
  xs = jnp.stack([x, 2 * x, -x])
  ws = jnp.stack([w, 0.5 * w, -w])
  np.testing.assert_allclose(jax.jit(jax.vmap(fast, (0, None)))(xs, w),
                             jax.vmap(ref, (0, None))(xs, w), rtol=1e-5, atol=1e-5)
  grads = jax.vmap(jax.grad(lambda a, b: jnp.sum(fast(a, b) ** 2), 1))(xs, ws)
  expected = jax.vmap(jax.grad(lambda a, b: jnp.sum(ref(a, b) ** 2), 1))(xs, ws)
  np.testing.assert_allclose(grads, expected, rtol=1e-4, atol=1e-4)


def test_resolve_conv_impl():
  assert models.resolve_conv_impl("auto", backend="cpu") == "fast"
  assert models.resolve_conv_impl("auto", backend="gpu") == "xla"
  assert models.resolve_conv_impl("auto", backend="tpu") == "xla"
  assert models.resolve_conv_impl("xla", backend="cpu") == "xla"
  with pytest.raises(ValueError, match="`conv_impl` must be one of .*got 'cudnn'"):
    models.resolve_conv_impl("cudnn")
  assert models.conv_general_dilated_fn("xla") is lax.conv_general_dilated


@pytest.mark.parametrize("padding", ["SAME", "VALID", ((1, 2), (0, 1)), "CIRCULAR"])
def test_fast_conv_transpose_layer_equals_flax(padding):
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 5, 6))
  ref = nn.ConvTranspose(4, (4, 4), strides=(2, 2), padding=padding)
  fast = models.conv_transpose_layer("fast", 4, (4, 4), strides=(2, 2), padding=padding)
  assert isinstance(fast, models.FastConvTranspose)
  variables = ref.init(jax.random.PRNGKey(1), x)
  fast_vars = fast.init(jax.random.PRNGKey(1), x)
  assert jax.tree.map(jnp.shape, fast_vars) == jax.tree.map(jnp.shape, variables)
  np.testing.assert_array_equal(fast_vars["params"]["kernel"], variables["params"]["kernel"])
  np.testing.assert_allclose(fast.apply(variables, x), ref.apply(variables, x), rtol=1e-5,
                             atol=1e-5)


def _upsample_then_conv(x, w):
  up = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
  return lax.conv_general_dilated(up, w, (1, 1), "SAME", dimension_numbers=DN,
                                  precision=lax.Precision.HIGHEST)


@pytest.mark.parametrize("shape", [(2, 5, 5, 16), (1, 3, 7, 3), (2, 1, 1, 4), (1, 4, 4, 1)])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_upsample_conv_phases_equal_upsampling_then_convolution(shape, dtype):
  x, w = _inputs(shape[0], shape[1], shape[2], shape[3], 5, 3, 3, dtype)
  fast = _values_and_grads(models.upsample_conv_phases, x, w, jax.random.PRNGKey(3))
  ref = _values_and_grads(_upsample_then_conv, x, w, jax.random.PRNGKey(3))
  assert fast[0].shape == (shape[0], 2 * shape[1], 2 * shape[2], 5)
  _assert_same(fast, ref, dtype)


def test_upsample_conv_phases_grad_of_grad():
  x, w = _inputs(1, 4, 3, 2, 3, 3, 3, jnp.float32)
  def loss(fn):
    return lambda x, w: jnp.sum(jax.grad(lambda w: jnp.sum(jnp.sin(fn(x, w))))(w) ** 2)
  for argnum in (0, 1):
    got = jax.grad(loss(models.upsample_conv_phases), argnum)(x, w)
    want = jax.grad(loss(_upsample_then_conv), argnum)(x, w)
    np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-4)


def test_upsample_conv_phases_rejects_other_kernels():
  with pytest.raises(ValueError, match=r"and w \[3, 3, C, O\]"):
    models.upsample_conv_phases(jnp.zeros((1, 4, 4, 2)), jnp.zeros((4, 4, 2, 3)))


@pytest.mark.parametrize("impl", ["xla", "fast"])
def test_upsample_conv_layer_has_one_convolutions_parameters(impl):
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 6, 8))
  layer = models.upsample_conv_layer(impl, 5)
  assert layer.phases == (impl == "fast")
  variables = layer.init(jax.random.PRNGKey(1), x)
  ref = nn.Conv(5, (3, 3), padding="SAME")
  ref_vars = ref.init(jax.random.PRNGKey(1), jnp.zeros((2, 8, 12, 8)))
  assert jax.tree.map(jnp.shape, variables) == jax.tree.map(jnp.shape, ref_vars)
  np.testing.assert_array_equal(variables["params"]["kernel"], ref_vars["params"]["kernel"])
  variables = jax.tree.map(lambda a: a + 0.1, variables)  # a non-zero bias too
  up = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
  np.testing.assert_allclose(layer.apply(variables, x), ref.apply(variables, up), rtol=1e-5,
                             atol=1e-5)


def test_sharded_fast_conv_matches_one_device():
  assert jax.device_count() >= 4, "conftest configures 4 fake CPU devices"
  mesh = jax.sharding.Mesh(np.array(jax.devices()[:4]), ("data",))
  batch = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
  x, w = _inputs(8, 8, 8, 3, 4, 4, 4, jnp.float32)
  fast, _ = _conv_pair("transpose")
  loss = lambda x, w: jnp.sum(fast(models.conv_general_dilated_fast(
      x, w, (2, 2), "SAME", dimension_numbers=DN), w.swapaxes(2, 3)) ** 2)
  grad = jax.jit(jax.value_and_grad(loss, (0, 1)))
  expected = grad(x, w)
  got = grad(jax.device_put(x, batch), w)
  assert got[1][0].sharding.is_equivalent_to(batch, 4)
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


def _conv_vae_losses(conv_impl, mode="sharded", num_devices=1, steps=3):
  config = vae_digits.get_config("smoke")
  config.model.architecture = "conv"
  config.model.channels = (8, 16)
  config.model.conv_impl = conv_impl
  config.data.batch_size = 8
  cfg = training.ExperimentConfig.from_config(config)
  exp = training.build_experiment(cfg, spec=FakeSpec())
  compiled = training.compile_train_step(exp.loss_fn, ema_decay=0.9, mode=mode,
                                         devices=jax.devices()[:num_devices],
                                         compiler_options=training.step_compiler_options(cfg))
  state = compiled.put_state(training.init_state(exp, jax.random.PRNGKey(0)))
  rng = np.random.default_rng(0)
  losses = []
  for _ in range(steps):
    images = rng.uniform(size=(8, 8, 8, 1)).astype(np.float32)
    state, metrics = compiled.step(state, compiled.put_batch({"image": images}),
                                   jax.random.PRNGKey(1))
    losses.append(float(metrics["loss"]))
  return np.array(losses)


def test_conv_vae_trains_to_the_same_losses_with_xla_and_fast():
  xla = _conv_vae_losses("xla")
  np.testing.assert_allclose(_conv_vae_losses("fast"), xla, rtol=1e-4)
  np.testing.assert_allclose(_conv_vae_losses("fast", "pmap", 4), xla, rtol=1e-4)


def test_runs_of_conv_models_compile_their_step_with_the_conv_options():
  config = vae_digits.get_config("smoke")
  config.model.conv_impl = "fast"
  mlp = training.ExperimentConfig.from_config(config)
  assert training.step_compiler_options(mlp) == {}  # an MLP step ran slower with them
  config.model.architecture = "conv"
  conv = training.ExperimentConfig.from_config(config)
  assert training.step_compiler_options(conv) == models.conv_compiler_options("fast")
  config.model.conv_impl = "xla"
  assert training.step_compiler_options(training.ExperimentConfig.from_config(config)) == {}


def test_conv_impl_config_key_is_validated():
  config = vae_digits.get_config("smoke")
  config.model.conv_impl = "cuda"
  with pytest.raises(ValueError, match="config.model.conv_impl must be one of"):
    training.ExperimentConfig.from_config(config)


def test_build_model_resolves_the_switch_once():
  build = lambda impl: models.build_model("vae", architecture="conv", latent_dim=4,
                                          hidden_dims=(), channels=(4, 8),
                                          input_shape=(8, 8, 3), conv_impl=impl)
  model = build("auto")
  assert model.encoder.conv_impl == "fast" and model.decoder.conv_impl == "fast"  # CPU
  assert build("xla").decoder.conv_impl == "xla"
  with pytest.raises(ValueError, match="`conv_impl`"):
    build("fastest")


@pytest.mark.parametrize("kind", ["conv", "transpose"])
def test_matmul_formulations_of_the_transpose_and_weight_gradient(kind, monkeypatch):
  monkeypatch.setitem(_conv._FORMULATION, "conv_t", "matmul")
  monkeypatch.setitem(_conv._FORMULATION, "dw", "matmul")
  fast, ref = _conv_pair(kind)
  x, w = _inputs(2, 7, 6, 16, 5, 4, 4, jnp.float32)
  key = jax.random.PRNGKey(0)
  _assert_same(jax.jit(lambda a, b: _values_and_grads(fast, a, b, key))(x, w),
               _values_and_grads(ref, x, w, key), jnp.float32)


@pytest.mark.parametrize("formulation", [
    {"conv": "s2d", "conv_t": "s2d"}, {"conv": "matmul", "conv_t": "xla"},
    {"conv": "s2d", "conv_t": "matmul"}], ids=["s2d", "default", "s2d-matmul"])
@pytest.mark.parametrize("shape, kernel, strides, padding", [
    ((2, 8, 8, 3), (4, 4), (2, 2), "SAME"),
    ((2, 7, 9, 3), (4, 2), (2, 2), "SAME"),
    ((1, 9, 6, 1), (4, 4), (2, 1), "VALID"),
    ((3, 6, 7, 3), (2, 4), (2, 2), ((-1, 2), (3, 0))),
    ((2, 5, 5, 16), (4, 4), (2, 2), ((2, 1), (0, 3))),
])
def test_space_to_depth_formulations_match_lax(formulation, shape, kernel, strides, padding,
                                               monkeypatch):
  # The stride-1 form of a strided convolution over its space-to-depth image, for the
  # forward (thin inputs) and the transpose, against lax and the other formulations,
  # with odd sizes, one stride-1 dimension and negative or uneven padding.
  for name, value in formulation.items():
    monkeypatch.setitem(_conv._FORMULATION, name, value)
  x, w = _inputs(*shape, 5, *kernel, jnp.float32)
  conv = lambda f: lambda a, b: f(a, b, strides, padding, dimension_numbers=DN)
  key = jax.random.PRNGKey(1)
  _assert_same(jax.jit(lambda a, b: _values_and_grads(
      conv(models.conv_general_dilated_fast), a, b, key))(x, w),
      _values_and_grads(conv(lax.conv_general_dilated), x, w, key), jnp.float32)
  y = jax.random.normal(key, (shape[0], 4, 3, shape[3]))
  kt = jax.random.normal(key, (*kernel, shape[3], 5)) / 8
  tpad = padding if isinstance(padding, str) else ((1, 2), (2, 1))
  conv_t = lambda f: lambda a, b: f(a, b, strides, tpad, dimension_numbers=DN)
  _assert_same(jax.jit(lambda a, b: _values_and_grads(
      conv_t(models.conv_transpose_fast), a, b, key))(y, kt),
      _values_and_grads(conv_t(lax.conv_transpose), y, kt, key), jnp.float32)


def test_space_to_depth_leaves_no_strided_or_dilated_convolution_in_the_transpose(
    monkeypatch):
  # With "s2d", a 4x4 stride-2 transposed convolution runs as one matmul and shifted adds.
  monkeypatch.setitem(_conv._FORMULATION, "conv_t", "s2d")
  y, w = jnp.ones((2, 4, 4, 16)), jnp.ones((4, 4, 16, 8))
  jaxpr = str(jax.make_jaxpr(lambda y, w: models.conv_transpose_fast(
      y, w, (2, 2), "SAME", dimension_numbers=DN))(y, w))
  assert "dot_general" in jaxpr and "conv_general_dilated" not in jaxpr


# One config per network: the conv VAE, the DCGAN pair, the U-Net, the classifier. The
# configs left out run the same networks on other data or with a label (cddpm_digits,
# cgan_digits, dcgan_sprites, ddpm_sprites, classifier_sprites). A label enters those
# networks outside their convolutions (an embedding added to the U-Net's time embedding, to
# the generator's input and the discriminator's projection), which both paths share; the
# networks themselves are compared in tests/test_unet.py and tests/test_gan_models.py.
_CONV_CONFIGS = ("betavae_sprites", "classifier_digits", "dcgan_digits", "ddpm_digits")


def _smoke_train_metrics(name, conv_impl, data_dir, workdir):
  config = importlib.import_module(f"configs.{name}").get_config("smoke")
  config.data.data_dir = data_dir
  config.model.conv_impl = conv_impl
  config.train.log_every_steps = 2  # one record: the mean of steps 1 and 2
  training.train(config, workdir, until_step=2)
  (train,) = training.read_metrics(workdir, split="train")
  return {k: v for k, v in train.items() if k not in ("split", "steps_per_sec")}


@pytest.mark.slow
@pytest.mark.parametrize("name", _CONV_CONFIGS)
def test_smoke_runs_of_conv_configs_log_the_same_metrics_with_xla_and_fast(
    name, tfds_data_dir, tmp_path):
  # Every conv config but embed_digits (its network is the ddpm_digits U-Net, trained on
  # the codes of a frozen diffusion run), through the real training loop and pipeline.
  xla = _smoke_train_metrics(name, "xla", tfds_data_dir, str(tmp_path / "xla"))
  fast = _smoke_train_metrics(name, "fast", tfds_data_dir, str(tmp_path / "fast"))
  assert fast.keys() == xla.keys() and "step" in xla and len(xla) > 2
  for k, v in xla.items():
    assert fast[k] == pytest.approx(v, rel=1e-4, abs=1e-5), k
