"""Tests for the image-like pictures of latentjax.viz (grids, strips, diffusion)."""

import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from latentjax import viz


def _digits(n, seed=0, shape=(8, 8)):
  return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def _check_png(path, pic):
  """The file exists, matches the returned picture and is not blank."""
  assert path.is_file()
  with Image.open(path) as im:
    assert im.size == (pic.shape[1], pic.shape[0])
    on_disk = np.asarray(im.convert("RGB"))
  np.testing.assert_array_equal(on_disk, pic)
  assert pic.dtype == np.uint8 and pic.ndim == 3 and pic.shape[-1] == 3
  assert pic.std() > 0


def _runs(flags) -> int:
  """Number of maximal runs of False in a 1-D boolean array."""
  flags = np.concatenate([[True], np.asarray(flags, bool), [True]])
  return int(np.sum(flags[:-1] & ~flags[1:]))


def tile_layout(pic, gap) -> tuple[bool, int, int]:
  """(has a title band, tile rows, tile columns) of a grid whose tiles sit in gaps of
  colour `gap` (RGB in [0, 1]): the rows and columns are counted between lines of
  gap-coloured pixels across the tile block; the title band above it must hold text."""
  mask = np.all(pic == np.round(np.asarray(gap) * 255).astype(np.uint8), axis=-1)
  ys, xs = np.nonzero(mask)
  if not ys.size:
    return False, 0, 0
  block = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
  band = pic[:ys.min()]
  title = bool(band.shape[0] >= 10 and (band < 100).any() and (band == 255).mean() > 0.5)
  return title, _runs(block.all(axis=1)), _runs(block.all(axis=0))


@pytest.mark.parametrize("colour", [0.0, 1.0])
def test_noise_pictures_keep_a_title_and_gaps_between_saturated_tiles(colour):
  # Tiles all black or all white (saturated samples, clipped noise): gaps of the
  # background colour would merge with them; NOISE_GAP matches no grey level.
  tiles = np.full((6, 8, 8), colour, np.float32)
  assert tile_layout(viz.image_grid(tiles, ncols=3), viz.NOISE_GAP) == (False, 0, 0)
  pic = viz.image_grid(tiles, ncols=3, title="samples", gap=viz.NOISE_GAP)
  assert tile_layout(pic, viz.NOISE_GAP) == (True, 2, 3)
  frames = np.full((4, 2, 8, 8), colour, np.float32)  # [T, N, H, W]
  pic = viz.denoising_trajectory(frames, [999, 500, 250, 0], title="DDIM chain")
  assert tile_layout(pic, viz.NOISE_GAP) == (True, 2, 4)
  x = np.full((3, 8, 8, 1), colour, np.float32)
  pic = viz.inversion_triples(x, np.random.default_rng(0).normal(size=x.shape), x,
                              title="inversion")
  assert tile_layout(pic, viz.NOISE_GAP) == (True, 3, 3)


def test_image_grid_exact_size(tmp_path):
  path = tmp_path / "deep" / "grid.png"
  pic = viz.image_grid(_digits(10), ncols=5, upscale=4, pad_px=1, path=path)
  assert pic.shape == (2 * 32 + 3, 5 * 32 + 6, 3)
  _check_png(path, pic)


def test_image_grid_defaults_upscale_tiny_images_and_fill_background():
  pic = viz.image_grid(np.zeros((3, 8, 8)), pad_px=2)  # 2x2 grid, 8x8 -> 48x48.
  assert pic.shape == (2 * 48 + 3 * 2, 2 * 48 + 3 * 2, 3)
  assert (pic[-50:-2, -50:-2] == 255).all()  # The missing 4th cell is background.
  assert (pic[2:50, 2:50] == 0).all()


def test_image_grid_rgb_jax_and_value_range():
  x = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (4, 16, 16, 3)))
  pic = viz.image_grid(x, value_range=(-1, 1), title="RGB")
  assert pic.std() > 0 and pic.shape[0] > 2 * 48


def test_image_grid_rejects_bad_shapes():
  with pytest.raises(ValueError, match=r"`images` must be \[N, H, W, C\].*\(4, 8, 8, 2\)"):
    viz.image_grid(np.zeros((4, 8, 8, 2)))
  with pytest.raises(ValueError, match="`ncols` must be a positive integer"):
    viz.image_grid(np.zeros((4, 8, 8)), ncols=0)
  with pytest.raises(ValueError, match="`background`"):
    viz.image_grid(np.zeros((4, 8, 8)), background=(1, 2))


def test_labelled_grid_labels_take_space(tmp_path):
  cells = _digits(6).reshape(2, 3, 8, 8)
  plain = viz.labelled_grid(cells)
  path = tmp_path / "labelled.png"
  pic = viz.labelled_grid(cells, row_labels=["first", "second"], col_labels=["a", "b", "c"],
                          row_notes=["n1", "n2"], title="T", path=path)
  assert pic.shape[0] > plain.shape[0] and pic.shape[1] > plain.shape[1]
  _check_png(path, pic)
  with pytest.raises(ValueError, match="`row_labels` must have 2 entries, got 3"):
    viz.labelled_grid(cells, row_labels=["a", "b", "c"])
  with pytest.raises(ValueError, match=r"`images` must be \[R, C, H, W, ch\]"):
    viz.labelled_grid(_digits(6))


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_reconstruction_pairs(tmp_path, layout):
  path = tmp_path / f"recon_{layout}.png"
  pic = viz.reconstruction_pairs(_digits(5), _digits(5, seed=1), layout=layout, ncols=3,
                                 path=path)
  _check_png(path, pic)


def test_reconstruction_pairs_errors():
  with pytest.raises(ValueError, match="`reconstructions` must have the same shape"):
    viz.reconstruction_pairs(_digits(5), _digits(4))
  with pytest.raises(ValueError, match="`layout` must be 'rows' or 'columns'"):
    viz.reconstruction_pairs(_digits(2), _digits(2), layout="diagonal")


def test_interpolation_strips(tmp_path):
  strips = {"linear": _digits(6), "spherical": _digits(6, 1), "geodesic": _digits(4, 2)}
  path = tmp_path / "strips.png"
  pic = viz.interpolation_strips(strips, {"linear": 4.2, "geodesic": 3.1}, show_t=True,
                                 title="0 to 7", path=path)
  _check_png(path, pic)
  without = viz.interpolation_strips(strips)
  assert pic.shape[1] > without.shape[1]  # The length notes widen the picture.


def test_interpolation_strips_errors():
  with pytest.raises(ValueError, match="at least one method"):
    viz.interpolation_strips({})
  with pytest.raises(ValueError, match="missing from `strips`"):
    viz.interpolation_strips({"linear": _digits(3)}, {"slerp": 1.0})
  with pytest.raises(ValueError, match=r"strips\['b'\]` must have the same shape"):
    viz.interpolation_strips({"a": _digits(3), "b": _digits(3, shape=(6, 6))})
  with pytest.raises(ValueError, match=r"`strips\['a'\]` must be \[T, H, W, C\]"):
    viz.interpolation_strips({"a": np.zeros((3, 8, 8, 2))})


def test_traversal_grid(tmp_path):
  path = tmp_path / "traversal.png"
  pic = viz.traversal_grid(_digits(12).reshape(3, 4, 8, 8), ["z0", "z1", "z2"],
                           np.linspace(-2, 2, 4), path=path)
  _check_png(path, pic)
  with pytest.raises(ValueError, match=r"`col_values` must be \[4\]"):
    viz.traversal_grid(_digits(12).reshape(3, 4, 8, 8), col_values=[1, 2])
  with pytest.raises(ValueError, match=r"`images` must be \[R, V, H, W, C\]"):
    viz.traversal_grid(_digits(12))


def test_arithmetic_panel_and_style_grid(tmp_path):
  a, b, c, r = (_digits(2, s) for s in range(4))
  path = tmp_path / "arith.png"
  pic = viz.arithmetic_panel(a, b, c, r, extra={"real": _digits(2, 9)}, row_labels=["x", "y"],
                             path=path)
  _check_png(path, pic)
  with pytest.raises(ValueError, match="`result` must have the same shape as `a`"):
    viz.arithmetic_panel(a, b, c, _digits(3))
  path = tmp_path / "style.png"
  pic = viz.style_class_grid(_digits(6).reshape(2, 3, 8, 8), sources=_digits(2, 5),
                             col_labels=["0", "1", "2"], path=path)
  _check_png(path, pic)
  with pytest.raises(ValueError, match="`sources` must be"):
    viz.style_class_grid(_digits(6).reshape(2, 3, 8, 8), sources=_digits(3))


def test_denoising_trajectory(tmp_path):
  frames = np.random.default_rng(0).uniform(-1, 1, (4, 2, 8, 8, 1))
  path = tmp_path / "traj.png"
  pic = viz.denoising_trajectory(frames, [999, 500, 100, 0], value_range=(-1, 1), path=path)
  _check_png(path, pic)
  with pytest.raises(ValueError, match=r"`timesteps` must be \[4\]"):
    viz.denoising_trajectory(frames, [1, 0])
  with pytest.raises(ValueError, match=r"`images` must be \[T, N, H, W, C\]"):
    viz.denoising_trajectory(frames[0], [1, 0])


def test_inversion_triples(tmp_path):
  x = _digits(3)
  noise = np.random.default_rng(0).normal(size=(3, 8, 8)) * 5
  path = tmp_path / "inv.png"
  pic = viz.inversion_triples(x, noise, x, path=path)
  _check_png(path, pic)
  with pytest.raises(ValueError, match="`inverted_noise` must have the same shape"):
    viz.inversion_triples(x, noise[:2], x)
