"""Tests for latentjax.viz pixel helpers and the public surface."""

import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from latentjax import viz
from latentjax.viz import _checks


def test_every_public_name_is_importable():
  for name in viz.__all__:
    assert getattr(viz, name) is not None, name
  assert sorted(viz.__all__) == sorted(set(viz.__all__))


def test_import_is_light_and_never_touches_pyplot():
  code = ("import sys, latentjax.viz; "
          "bad = {'matplotlib.pyplot', 'sklearn', 'jax'} & set(sys.modules); "
          "assert not bad, bad")
  subprocess.run([sys.executable, "-c", code], check=True)


def test_to_uint8_clips_rounds_and_cleans():
  x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan, np.inf])
  np.testing.assert_array_equal(viz.to_uint8(x), [0, 0, 128, 255, 255, 0, 255])
  assert viz.to_uint8(np.array([True, False])).tolist() == [255, 0]
  u = np.arange(4, dtype=np.uint8)
  assert viz.to_uint8(u) is u


def test_to_uint8_accepts_jax_and_rejects_strings():
  assert viz.to_uint8(jnp.ones((2, 2))).dtype == np.uint8
  with pytest.raises(TypeError, match="numeric"):
    viz.to_uint8(np.array(["a"]))


def test_upscale_nearest_repeats_pixels():
  x = np.arange(4, dtype=np.float32).reshape(1, 2, 2, 1)
  y = viz.upscale_nearest(x, 3)
  assert y.shape == (1, 6, 6, 1)
  np.testing.assert_array_equal(y[0, :3, :3, 0], 0.0)
  np.testing.assert_array_equal(y[0, 3:, 3:, 0], 3.0)
  assert viz.upscale_nearest(np.zeros((2, 3)), 2).shape == (4, 6)
  with pytest.raises(ValueError, match="`factor` must be a positive integer"):
    viz.upscale_nearest(x, 0)


def test_resolve_upscale():
  assert viz.resolve_upscale(8, 8, None, 48) == 6
  assert viz.resolve_upscale(64, 64, None, 48) == 1
  assert viz.resolve_upscale(8, 8, 2, 48) == 2
  with pytest.raises(ValueError, match="`upscale` must be a positive integer"):
    viz.resolve_upscale(8, 8, 0, 48)


def test_save_png_creates_parents(tmp_path):
  path = viz.save_png(np.random.default_rng(0).random((5, 7, 3)), tmp_path / "a" / "b" / "x.png")
  with Image.open(path) as im:
    assert im.size == (7, 5)
  viz.save_png(np.zeros((5, 7, 1)), tmp_path / "gray.png")
  with pytest.raises(ValueError, match=r"`picture` must be .* got shape \(5, 7, 2\)"):
    viz.save_png(np.zeros((5, 7, 2)), tmp_path / "bad.png")


def test_figure_to_array_and_save_figure(tmp_path):
  fig = viz.new_figure((2, 1), dpi=50)
  fig.add_subplot().plot([0, 1], [1, 0])
  pic = viz.figure_to_array(fig)
  assert pic.shape == (50, 100, 3) and pic.dtype == np.uint8 and pic.std() > 0
  path = viz.save_figure(fig, tmp_path / "sub" / "fig.png")
  with Image.open(path) as im:
    assert im.size == (100, 50)


@pytest.mark.parametrize("shape", [(4, 8, 8, 2), (8, 8), (4, 8, 8, 3, 1), (0, 8, 8), (8, 8, 3)])
def test_as_images_rejects_bad_shapes(shape):
  with pytest.raises(ValueError, match=r"`images` must"):
    _checks.as_images(np.zeros(shape), "images")


def test_as_images_message_names_argument_and_shape():
  with pytest.raises(ValueError) as info:
    _checks.as_images(np.zeros((4, 8, 8, 2)), "images")
  assert str(info.value) == (
      "`images` must be [N, H, W, C] with C in (1, 3) or [N, H, W], got shape (4, 8, 8, 2)")


def test_as_images_converts_dtypes_and_ranges():
  u = np.full((2, 4, 4), 255, np.uint8)
  np.testing.assert_allclose(_checks.as_images(u, "x"), 1.0)
  x = np.full((2, 3, 3, 1), -1.0)
  np.testing.assert_allclose(_checks.as_images(x, "x", value_range=(-1, 1)), 0.0)
  assert _checks.as_images(jnp.zeros((1, 4, 4, 3)), "x").shape == (1, 4, 4, 3)
