"""Model modules: shapes, conditioning, the registry's errors, and the code Gaussian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import models


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
@pytest.mark.parametrize("family", ["ae", "vae", "cvae"])
def test_shapes(family, architecture, key):
  shape = (8, 8, 1)
  model = models.build_model(family, architecture=architecture, latent_dim=3,
                             hidden_dims=(16,), channels=(4, 8), input_shape=shape,
                             num_classes=10 if family == "cvae" else 0)
  x = jnp.zeros((2, *shape))
  y = jnp.array([1, 7]) if family == "cvae" else None
  if family == "ae":
    variables = model.init(key, x)
    assert model.apply(variables, x).shape == (2, *shape)
    assert model.apply(variables, x, method="encode").shape == (2, 3)
    return
  variables = model.init(key, x, jnp.zeros((2, 3)), y)
  out, mean, logvar = model.apply(variables, x, jnp.zeros((2, 3)), y)
  assert out.shape == (2, *shape) and mean.shape == logvar.shape == (2, 3)
  assert model.apply(variables, key, 5, None if y is None else jnp.arange(5),
                     method="sample").shape == (5, *shape)


def test_conditional_decoder_uses_the_label(key):
  model = models.build_model("cvae", architecture="mlp", latent_dim=2, hidden_dims=(16,),
                             channels=(), input_shape=(4,), num_classes=3)
  variables = model.init(key, jnp.zeros((1, 4)), jnp.zeros((1, 2)), jnp.zeros((1,), jnp.int32))
  z = jnp.zeros((3, 2))
  out = model.apply(variables, z, jnp.arange(3), method="decode")
  assert not np.allclose(out[0], out[1])
  with pytest.raises(ValueError, match="`y` is required"):
    model.apply(variables, z, None, method="decode")


def test_registry_errors():
  # GANs are two modules (generator, discriminator): latentjax.training builds them.
  with pytest.raises(ValueError, match="Unknown model family 'flow'; registered: ae, cvae, vae"):
    models.build_model("flow", architecture="mlp", latent_dim=2, hidden_dims=(4,), channels=(),
                       input_shape=(4,))
  with pytest.raises(ValueError, match="`latent_dim` must be positive, got 0"):
    models.build_model("vae", architecture="mlp", latent_dim=0, hidden_dims=(4,), channels=(),
                       input_shape=(4,))
  with pytest.raises(ValueError, match="needs image inputs"):
    models.build_model("vae", architecture="conv", latent_dim=2, hidden_dims=(4,),
                       channels=(4,), input_shape=(2,))


def test_code_gaussian_fit_and_sample(key):
  true_cov = jnp.array([[2.0, 0.8], [0.8, 1.0]])
  codes = jax.random.multivariate_normal(key, jnp.array([1.0, -2.0]), true_cov, (20_000,))
  mean, cov = models.fit_code_gaussian(codes)
  np.testing.assert_allclose(mean, [1.0, -2.0], atol=0.05)
  np.testing.assert_allclose(cov, true_cov, atol=0.06)
  samples = models.sample_code_gaussian(jax.random.fold_in(key, 1), mean, cov, 20_000)
  np.testing.assert_allclose(jnp.cov(samples.T), true_cov, atol=0.08)
  with pytest.raises(ValueError, match=r"`codes` must be \[N, D\] with N >= 2"):
    models.fit_code_gaussian(jnp.zeros((1, 2)))
  with pytest.raises(ValueError, match=r"`cov` must be \[D, D\]"):
    models.sample_code_gaussian(key, mean, jnp.eye(3), 2)
