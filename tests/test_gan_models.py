"""GAN generators and discriminators: benchmark sizes, state collections, conditioning."""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import models


def _count(tree):
  return sum(int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(tree))


def _init(module, *args):
  """Variables of ``module.init``'s shapes, filled on the host (skips compiling the
  initialisers, the slow part of these tests): normal weights, BatchNorm at its init."""
  shapes = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(0), *args, train=False))
  rng = np.random.default_rng(0)

  def fill(path, leaf):
    name = getattr(path[-1], "key", "")
    if name in ("mean", "bias"):
      return jnp.zeros(leaf.shape, leaf.dtype)
    if name in ("var", "scale", "sigma"):
      return jnp.ones(leaf.shape, leaf.dtype)
    fan_in = int(np.prod(leaf.shape[:-1])) or 1
    return jnp.asarray(rng.normal(size=leaf.shape) / np.sqrt(fan_in), leaf.dtype)

  return jax.tree_util.tree_map_with_path(fill, shapes)


def test_dcgan32_parameter_counts_match_the_benchmark(key):
  g, d = models.DCGANGenerator(), models.DCGANDiscriminator()
  g_vars = jax.eval_shape(lambda: g.init(key, jnp.zeros((1, 128)), train=False))
  d_vars = jax.eval_shape(lambda: d.init(key, jnp.zeros((1, 32, 32, 3)), train=False))
  assert _count(g_vars["params"]) == 1_195_587
  assert _count(d_vars["params"]) == 662_977
  # BatchNorm over the 4,096 Dense features, then per channel; statistics are not params.
  assert g_vars["batch_stats"]["project_bn"]["mean"].shape == (4 * 4 * 256,)
  assert set(g_vars) == {"params", "batch_stats"} and set(d_vars) == {"params"}
  out = jax.eval_shape(lambda v: g.apply(v, jnp.zeros((2, 128)), train=False), g_vars)
  assert out.shape == (2, 32, 32, 3)


@pytest.mark.parametrize("shape,channels", [((8, 8, 1), (16, 8)), ((32, 32, 1), (8, 8, 4))])
def test_dataset_sizes(shape, channels, key):
  # Shapes only, traced abstractly (no compilation).
  g = models.DCGANGenerator(output_shape=shape, channels=channels)
  d = models.DCGANDiscriminator(channels=channels[::-1])
  z = jnp.zeros((3, 6))
  g_vars = jax.eval_shape(lambda: g.init(key, z, train=False))
  x = jax.eval_shape(lambda v: g.apply(v, z, train=False), g_vars)
  assert x.shape == (3, *shape)
  d_vars = jax.eval_shape(lambda: d.init(key, jnp.zeros(x.shape), train=False))
  logits = jax.eval_shape(lambda v: d.apply(v, jnp.zeros(x.shape), train=False), d_vars)
  assert logits.shape == (3,)


def test_generator_batch_norm_updates_only_in_training(key):
  g = models.DCGANGenerator(output_shape=(8, 8, 1), channels=(8, 4))
  z = jax.random.normal(key, (4, 5))
  g_vars = _init(g, z)
  x_train, state = g.apply(g_vars, z, train=True, mutable=["batch_stats"])
  assert x_train.shape == (4, 8, 8, 1) and float(jnp.max(jnp.abs(x_train))) <= 1.0  # tanh
  old = g_vars["batch_stats"]["project_bn"]["mean"]
  new = state["batch_stats"]["project_bn"]["mean"]
  assert not np.allclose(old, new)
  # Eval mode uses running averages: an example's output ignores the rest of the batch.
  x_eval = g.apply(g_vars, z, train=False)
  np.testing.assert_allclose(g.apply(g_vars, z[:1], train=False), x_eval[:1], atol=1e-6)
  assert not np.allclose(x_train, x_eval)
  with pytest.raises(flax.errors.ModifyScopeVariableError, match="batch_stats"):
    g.apply(g_vars, z, train=True)  # training needs the collection mutable


def test_spectral_norm_state_and_power_iteration(key):
  d = models.MLPDiscriminator(hidden_dims=(5,), spectral_norm=True)
  x = jax.random.normal(key, (4, 2))
  d_vars = _init(d, x)
  plain = jax.eval_shape(
      lambda: models.MLPDiscriminator(hidden_dims=(5,)).init(key, x, train=False))
  assert set(d_vars) == {"params", models.SPECTRAL_STATS}
  assert _count(d_vars["params"]) == _count(plain["params"])  # SN adds no parameters
  # Evaluation is deterministic and stores nothing.
  np.testing.assert_array_equal(d.apply(d_vars, x, train=False), d.apply(d_vars, x, train=False))
  state = {models.SPECTRAL_STATS: d_vars[models.SPECTRAL_STATS]}
  for _ in range(50):
    _, state = d.apply({"params": d_vars["params"], **state}, x, train=True,
                       mutable=[models.SPECTRAL_STATS])
  stats = state[models.SPECTRAL_STATS]["dense_0_sn"]
  kernel = np.asarray(d_vars["params"]["dense_0"]["kernel"])
  top = np.linalg.svd(kernel, compute_uv=False)[0]
  np.testing.assert_allclose(stats["dense_0/kernel/sigma"], top, rtol=1e-3)


def test_conv_discriminator_state_collections_are_separate(key):
  d = models.DCGANDiscriminator(channels=(4, 8), spectral_norm=True, batch_norm=True)
  x = jnp.zeros((2, 8, 8, 1))
  d_vars = jax.eval_shape(lambda: d.init(key, x, train=False))
  assert set(d_vars) == {"params", "batch_stats", models.SPECTRAL_STATS}
  assert set(d_vars["batch_stats"]) == {"conv_1_bn"}
  assert set(d_vars[models.SPECTRAL_STATS]) == {"conv_0_sn", "conv_1_sn", "head_sn"}
  logits, state = jax.eval_shape(lambda v: d.apply(
      v, x, train=True, mutable=["batch_stats", models.SPECTRAL_STATS]), d_vars)
  assert logits.shape == (2,) and set(state) == {"batch_stats", models.SPECTRAL_STATS}


@pytest.mark.parametrize("embed_dim", [0, 3])
def test_conditional_generators_use_the_label(embed_dim, key):
  z = jnp.zeros((3, 4))
  y = jnp.arange(3)
  if embed_dim:
    g = models.DCGANGenerator(output_shape=(8, 8, 1), channels=(8, 4), num_classes=10,
                              embed_dim=embed_dim)
  else:
    g = models.MLPGenerator(hidden_dims=(8,), output_shape=(2,), num_classes=10)
  g_vars = _init(g, z, y)
  out = g.apply(g_vars, z, y, train=False)
  assert not np.allclose(out[0], out[1])
  with pytest.raises(ValueError, match="`y` is required"):
    g.apply(g_vars, z, train=False)
  with pytest.raises(ValueError, match=r"`y` must be \[B\] = \(3,\)"):
    g.apply(g_vars, z, jnp.zeros((3, 1), jnp.int32), train=False)


def test_projection_discriminator_is_psi_plus_embedding_inner_product(key):
  d = models.MLPDiscriminator(hidden_dims=(5,), num_classes=4)
  x = jax.random.normal(key, (3, 2))
  y = jnp.array([0, 3, 1])
  params = _init(d, x, y)["params"]
  p = jax.tree_util.tree_map(np.asarray, params)
  pre = np.asarray(x) @ p["dense_0"]["kernel"] + p["dense_0"]["bias"]
  phi = np.where(pre > 0, pre, 0.2 * pre)
  psi = phi @ p["head"]["kernel"][:, 0] + p["head"]["bias"][0]
  expected = psi + np.sum(p["label_embed"]["embedding"][np.asarray(y)] * phi, axis=-1)
  np.testing.assert_allclose(d.apply({"params": params}, x, y, train=False), expected,
                             rtol=1e-5, atol=1e-6)
  conv = models.DCGANDiscriminator(channels=(4, 8), num_classes=10, spectral_norm=True)
  imgs, labels = jnp.zeros((2, 8, 8, 1)), jnp.array([1, 2])
  c_vars = jax.eval_shape(lambda: conv.init(key, imgs, labels, train=False))
  assert c_vars["params"]["label_embed"]["embedding"].shape == (10, 2 * 2 * 8)
  assert "label_embed_sn" in c_vars[models.SPECTRAL_STATS]


def test_configuration_errors(key):
  def init(module, x):
    return jax.eval_shape(lambda: module.init(key, x, train=False))

  with pytest.raises(ValueError, match=r"`conv_impl` must be one of 'auto', 'xla', 'fast', "
                                       r"got 'fats'"):
    init(models.DCGANGenerator(conv_impl="fats"), jnp.zeros((1, 4)))
  with pytest.raises(ValueError, match=r"`conv_impl` must be one of .* got 'fats'"):
    init(models.MLPDiscriminator(conv_impl="fats"), jnp.zeros((1, 2)))
  with pytest.raises(ValueError, match=r"divisible by 2\*\*3"):
    init(models.DCGANGenerator(output_shape=(12, 12, 1)), jnp.zeros((1, 4)))
  with pytest.raises(ValueError, match="Unknown output_activation 'relu'"):
    init(models.MLPGenerator(output_activation="relu"), jnp.zeros((1, 4)))
  with pytest.raises(ValueError, match=r"`x` must be \[B, H, W, C\] images"):
    init(models.DCGANDiscriminator(), jnp.zeros((1, 4)))


def test_fast_convolutions_give_the_same_gan_outputs_and_gradients(key):
  """The conv_impl switch changes how convolutions run, never what they compute."""
  z = jax.random.normal(key, (2, 16))
  outs = {}
  for impl in ("xla", "fast"):
    g = models.DCGANGenerator(output_shape=(8, 8, 1), channels=(16, 8), conv_impl=impl)
    d = models.DCGANDiscriminator(channels=(8, 16), conv_impl=impl)
    gv = g.init(key, z, train=False)
    dv = d.init(key, jnp.zeros((2, 8, 8, 1)), train=False)

    def score(gp, g=g, d=d, gv=gv, dv=dv):
      x = g.apply({**gv, "params": gp}, z, train=False)
      return jnp.sum(d.apply(dv, x, train=False)), x

    (s, x), grads = jax.value_and_grad(score, has_aux=True)(gv["params"])
    outs[impl] = (s, x, grads)
  np.testing.assert_allclose(outs["fast"][0], outs["xla"][0], rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(outs["fast"][1], outs["xla"][1], rtol=1e-5, atol=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5),
               outs["fast"][2], outs["xla"][2])
