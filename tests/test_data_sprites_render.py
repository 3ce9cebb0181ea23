"""The procedural dSprites renderer and factor grid (pure numpy, no TFDS)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latentjax import data

R = 64


def _centroid(image):
  rows, cols = np.nonzero(image[..., 0])
  return rows.mean(), cols.mean()


def _render(shape=1.0, scale=1.0, orientation=0.3, x=0.5, y=0.5, resolution=R):
  return data.render_sprites(shape, scale, orientation, x, y, resolution=resolution)


def test_factor_grid_follows_dsprites_conventions():
  values = data.sprites_factor_values("64")
  assert tuple(values) == data.SPRITES_FACTOR_NAMES
  assert data.sprites_factor_sizes("64") == {
      "shape": 3, "scale": 6, "orientation": 40, "x_position": 32, "y_position": 32}
  np.testing.assert_array_equal(values["shape"], [1.0, 2.0, 3.0])
  np.testing.assert_allclose(values["scale"], np.linspace(0.5, 1.0, 6), rtol=1e-6)
  np.testing.assert_allclose(values["x_position"], np.linspace(0.0, 1.0, 32), rtol=1e-6)
  np.testing.assert_allclose(values["orientation"], 2 * np.pi * np.arange(40) / 40, rtol=1e-6)
  assert values["orientation"].max() < 2 * np.pi
  assert all(v.dtype == np.float32 for v in values.values())


def test_lite_grid_is_an_even_subsample_with_full_grid_labels():
  labels = data.sprites_factor_labels("32_lite")
  assert data.sprites_factor_sizes("32_lite") == {
      "shape": 3, "scale": 6, "orientation": 10, "x_position": 8, "y_position": 8}
  np.testing.assert_array_equal(labels["orientation"], np.arange(0, 40, 4))
  np.testing.assert_array_equal(labels["x_position"], [0, 4, 9, 13, 18, 22, 27, 31])
  full, lite = data.sprites_factor_values("64"), data.sprites_factor_values("32_lite")
  for k in data.SPRITES_FACTOR_NAMES:
    np.testing.assert_array_equal(lite[k], full[k][labels[k]])
  grid = data.sprites_grid_labels("32_lite")
  assert grid.shape == (11_520, 5) and len(np.unique(grid, axis=0)) == 11_520
  assert len(data.sprites_grid_labels("64")) == 737_280
  with pytest.raises(ValueError, match="Unknown sprites config '8'"):
    data.sprites_factor_sizes("8")


def test_images_are_binary_with_batch_shape():
  x = _render(shape=[1.0, 2.0, 3.0], resolution=32)
  assert x.shape == (3, 32, 32, 1) and x.dtype == np.float32
  assert set(np.unique(x)) == {0.0, 1.0}
  assert _render().shape == (R, R, 1)
  assert data.render_sprites(np.ones((2, 3)), 1.0, 0.0, 0.5, 0.5, resolution=8).shape == (
      2, 3, 8, 8, 1)


def test_centroid_moves_with_position():
  pos = np.linspace(0.0, 1.0, 6)
  for shape in (1.0, 2.0, 3.0):
    by_x = [_centroid(_render(shape=shape, x=p, y=0.5)) for p in pos]
    by_y = [_centroid(_render(shape=shape, x=0.5, y=p)) for p in pos]
    assert np.all(np.diff([c for _, c in by_x]) > 0)  # x moves columns to the right
    assert np.ptp([r for r, _ in by_x]) < 0.5
    assert np.all(np.diff([r for r, _ in by_y]) > 0)  # y moves rows downwards
    assert np.ptp([c for _, c in by_y]) < 0.5
  # the centre travels over 0.2 .. 0.8 of the image
  np.testing.assert_allclose(_centroid(_render(x=0.0, y=1.0)), (0.8 * R, 0.2 * R), atol=1.0)


def test_area_grows_with_scale_and_sprite_stays_inside():
  scales = data.sprites_factor_values()["scale"]
  for shape in (1.0, 2.0, 3.0):
    areas = _render(shape=shape, scale=scales).sum(axis=(1, 2, 3))
    assert np.all(np.diff(areas) > 0)
    np.testing.assert_allclose(areas[-1] / areas[0], 4.0, rtol=0.15)  # area ~ scale^2
    # In a corner, at any orientation, nothing is clipped: same area as in the middle.
    angles = np.linspace(0, 2 * np.pi, 13)
    middle = _render(shape=shape, orientation=angles).sum(axis=(1, 2, 3))
    corner = _render(shape=shape, orientation=angles, x=1.0, y=0.0).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(corner, middle, rtol=0.05)


def test_shapes_are_distinguishable():
  square, ellipse, heart = _render(shape=[1.0, 2.0, 3.0])
  areas = [m.sum() for m in (square, ellipse, heart)]
  np.testing.assert_allclose(areas[1] / areas[0], np.pi / 4, rtol=0.05)  # 2:1 ellipse
  for a, b in ((square, ellipse), (square, heart), (ellipse, heart)):
    iou = np.logical_and(a, b).sum() / np.logical_or(a, b).sum()
    assert iou < 0.85


def test_rotation_respects_each_shapes_symmetry():
  theta = 2 * np.pi * 3 / 40
  same = lambda a, b: np.array_equal(_render(shape=a[0], orientation=a[1]),
                                     _render(shape=b[0], orientation=b[1]))
  assert same((1.0, theta), (1.0, theta + np.pi / 2))  # square: 90 degrees
  assert same((2.0, theta), (2.0, theta + np.pi))  # ellipse: 180 degrees
  assert not same((2.0, theta), (2.0, theta + np.pi / 2))
  assert not same((3.0, theta), (3.0, theta + np.pi))  # heart: none
  assert not same((1.0, 0.0), (1.0, 2 * np.pi / 40))  # one grid step is visible
  for shape in (1.0, 2.0, 3.0):
    assert same((shape, 0.0), (shape, 2 * np.pi))


def test_rotation_is_counter_clockwise_as_displayed():
  # An ellipse at 90 degrees is vertical; at 45 degrees its right end is higher.
  rows, cols = np.nonzero(_render(shape=2.0, orientation=np.pi / 2)[..., 0])
  assert np.ptp(rows) > 1.5 * np.ptp(cols)
  rows, cols = np.nonzero(_render(shape=2.0, orientation=np.pi / 4)[..., 0])
  assert np.corrcoef(rows, cols)[0, 1] < -0.5


def test_from_labels_matches_from_values():
  grid = data.sprites_grid_labels("16_lite")[::97]
  values = data.sprites_factor_values("64")
  expected = data.render_sprites(
      *(values[k][grid[:, i]] for i, k in enumerate(data.SPRITES_FACTOR_NAMES)),
      resolution=16)
  np.testing.assert_array_equal(
      data.render_sprites_from_labels(*grid.T, resolution=16), expected)
  with pytest.raises(ValueError, match="`label_orientation` must be in"):
    data.render_sprites_from_labels(0, 0, 40, 0, 0)


def test_bad_factor_values_raise():
  with pytest.raises(ValueError, match="`shape` values must be 1., 2. or 3."):
    _render(shape=0.0)
  with pytest.raises(ValueError, match="`x_position` must be in"):
    _render(x=1.5)
  with pytest.raises(ValueError, match="`scale` must be positive"):
    _render(scale=0.0)
  with pytest.raises(ValueError, match="`resolution` must be a positive int"):
    _render(resolution=0)


@settings(max_examples=40, deadline=None)
@given(shape=st.sampled_from([1.0, 2.0]), scale=st.floats(0.5, 1.0),
       orientation=st.floats(0.0, 2 * np.pi), x=st.floats(0.0, 1.0), y=st.floats(0.0, 1.0))
def test_symmetric_sprites_are_centred_on_their_position(shape, scale, orientation, x, y):
  image = _render(shape, scale, orientation, x, y)
  centre = (0.2 + 0.6 * np.array([y, x])) * R - 0.5  # (row, col) in pixel-index units
  np.testing.assert_allclose(_centroid(image), centre, atol=0.75)
  assert set(np.unique(image)) == {0.0, 1.0}


def _dense_reference(shape, scale, orientation, x, y, resolution):
  """The documented geometry, tested at every pixel centre of the image."""
  c = (np.arange(resolution) + 0.5) / resolution
  u, v = np.meshgrid(c, c)  # u: columns (x), v: rows (y, downwards)
  dx, dy = u - (0.2 + 0.6 * x), (0.2 + 0.6 * y) - v
  r = 0.2 * scale
  qx = (np.cos(orientation) * dx + np.sin(orientation) * dy) / r
  qy = (np.cos(orientation) * dy - np.sin(orientation) * dx) / r
  if shape == 1:
    inside = np.maximum(abs(qx), abs(qy)) <= np.sqrt(0.5)
  elif shape == 2:
    inside = qx**2 + 4 * qy**2 <= 1
  else:
    hx, hy = 1.3367 * qx, 1.3367 * qy + 0.1181
    inside = (hx**2 + hy**2 - 1) ** 3 - hx**2 * hy**3 <= 0
  return inside[..., None].astype(np.float32)


@pytest.mark.parametrize("resolution", [8, 16, 64])
def test_windowed_renderer_equals_dense_reference(resolution):
  rng = np.random.RandomState(0)
  n = 60
  factors = (rng.randint(1, 4, n).astype(float), rng.uniform(0.3, 1.6, n),
             rng.uniform(0, 2 * np.pi, n), rng.choice([0.0, 0.3, 1.0], n), rng.uniform(0, 1, n))
  out = data.render_sprites(*factors, resolution=resolution)
  for i in range(n):
    expected = _dense_reference(*(f[i] for f in factors), resolution)
    np.testing.assert_array_equal(out[i], expected, err_msg=f"example {i}")
