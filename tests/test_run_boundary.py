"""A loaded run prints in one line and checks what its encode / decode are given.

``repr(run)`` used to print the config and every parameter array (168,393 characters for
a smoke VAE); a code of the wrong size, an unbatched image or uint8 pixels failed deep
inside Flax or were silently encoded into garbage.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import training


@pytest.fixture(scope="module")
def run(vae_smoke_run):
  return training.load_run(vae_smoke_run)


def test_repr_of_a_run_is_one_short_line(run):
  text = repr(run)
  assert text == (f"Run({run.workdir!r}, family='vae', step={run.step}, "
                  f"latent_dim={run.latent_dim})")
  assert "\n" not in text and len(text) < 200 + len(run.workdir)


def test_decode_names_a_code_of_the_wrong_size(run):
  d = run.latent_dim
  with pytest.raises(ValueError, match=rf"`z` must be \[B, {d}\].*shape \(3, {d + 1}\)"):
    run.decode(jnp.zeros((3, d + 1)))
  with pytest.raises(ValueError, match=r"a single code: z\[None\]"):
    run.decode(jnp.zeros((d,)))
  with pytest.raises(ValueError, match="`z` must be floating point"):
    run.decode(jnp.zeros((2, d), jnp.int32))


def test_encode_names_an_unbatched_image_and_uint8_pixels(run):
  shape = run.exp.spec.input_shape
  with pytest.raises(ValueError, match=r"`x` must be \[B, 8, 8, 1\].*add a batch axis"):
    run.encode(jnp.zeros(shape))
  with pytest.raises(ValueError, match=r"uint8 pixels: x / 255"):
    run.encode(np.full((2, *shape), 200, np.uint8))
  with pytest.raises(ValueError, match=r"values must lie in \[0, 1\].*got \[0, 255\]"):
    run.encode(np.concatenate([np.zeros((1, *shape)), np.full((1, *shape), 255.0)]))
  with pytest.raises(ValueError, match=r"`y` must be int class ids \[2\]"):
    run.encode(jnp.zeros((2, *shape)), jnp.zeros((3,), jnp.int32))


def test_encode_and_decode_still_take_good_input(run):
  x = jnp.full((2, *run.exp.spec.input_shape), 0.5)
  z = run.encode(x)
  assert z.shape == (2, run.latent_dim)
  assert run.decode(z).shape == x.shape


def test_family_of_a_run_reads_as_its_name(run):
  assert run.family == "vae"
  assert run.family_impl.name == "vae" and run.family_impl.has_encoder
