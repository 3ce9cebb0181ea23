"""The interactive explorer's callbacks, as plain functions and through the widget object."""

import jax.numpy as jnp
import numpy as np
import pytest
from matplotlib.figure import Figure

from latentjax import explore

W = jnp.asarray(np.random.RandomState(0).randn(16, 3).astype(np.float32))


def decoder(z):
  """z [3] -> a 4x4 grey image in [0, 1]."""
  return jax_sigmoid(W @ z).reshape(4, 4, 1)


def jax_sigmoid(x):
  return 1.0 / (1.0 + jnp.exp(-x))


@pytest.fixture(scope="module")
def data():
  rng = np.random.RandomState(0)
  labels = np.repeat(np.arange(3), 8)
  codes = rng.randn(24, 3).astype(np.float32) + 2.0 * np.eye(3, dtype=np.float32)[labels]
  return explore.explorer_data(decoder, codes, labels)


def test_explorer_data_projects_and_defaults_to_pca_directions(data):
  assert data.embedding.shape == (24, 2)
  np.testing.assert_allclose(data.project(data.codes), data.embedding, atol=1e-5)
  assert list(data.directions) == ["PC1", "PC2"]
  v, scale = data.directions["PC1"]
  assert v.shape == (3,) and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5) and scale > 0
  with pytest.raises(ValueError, match=r"`directions\['bad'\]` must be a non-zero"):
    explore.explorer_data(decoder, data.codes, directions={"bad": (np.zeros(3), 1.0)})
  with pytest.raises(ValueError, match=r"`codes` must be \[N, D\]"):
    explore.explorer_data(decoder, np.zeros((5,)))


def test_nearest_code_is_a_click(data):
  for i in (0, 7, 23):
    x, y = data.embedding[i]
    assert explore.nearest_code(data, x + 1e-4, y - 1e-4) == i


def test_path_view_decodes_three_paths_with_lengths(data):
  view = explore.path_view(data, 0, 20, num_frames=5, num_points=8, geodesic_steps=40,
                           resolution=32)
  assert set(view.lengths) == {"linear", "slerp", "geodesic"}
  assert view.lengths["geodesic"] <= view.lengths["linear"] * (1 + 1e-5)
  assert view.strip.dtype == np.uint8 and view.strip.ndim == 3
  assert view.paths["geodesic"].shape == (8, 3)
  np.testing.assert_allclose(view.paths["linear"][0], data.codes[0])
  with pytest.raises(ValueError, match="`end` must differ from `start`"):
    explore.path_view(data, 3, 3)
  with pytest.raises(ValueError, match=r"`start` must be an index in \[0, 24\)"):
    explore.path_view(data, 24, 1)


def test_slide_moves_along_the_direction(data):
  z = explore.slide_codes(data, "PC1", [0.0, 2.0], index=4)
  v, scale = data.directions["PC1"]
  np.testing.assert_allclose(z[1] - z[0], 2.0 * scale * v, atol=1e-5)
  pic = explore.slide_view(data, "PC1", 1.5, index=4)
  assert pic.dtype == np.uint8 and pic.shape[2] == 3
  with pytest.raises(ValueError, match="Unknown `direction` 'up'; known: PC1, PC2"):
    explore.slide_view(data, "up", 1.0, index=0)


def test_scatter_figure_marks_points_and_paths(data):
  view = explore.path_view(data, 1, 9, num_frames=3, num_points=6, geodesic_steps=10,
                           resolution=16)
  fig = explore.scatter_figure(data, selected=(1, 9), paths=view.paths)
  assert isinstance(fig, Figure)
  labels = [h.get_label() for h in fig.axes[0].get_lines()]
  assert {"linear", "spherical (slerp)", "geodesic"} <= set(labels)
  assert explore.png_bytes(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_widget_methods_update_the_images(data):
  pytest.importorskip("ipywidgets")
  ex = explore.LatentExplorer(data, num_frames=4, num_points=6, geodesic_steps=10,
                              resolution=16, seed=1)
  first = ex.scatter_image.value
  assert first[:4] == b"\x89PNG" and ex.slide_image.value[:4] == b"\x89PNG"
  assert ex.pick(start=5, end=6) == (5, 6)
  assert (ex.start_slider.value, ex.end_slider.value) == (5, 6)
  assert ex.scatter_image.value != first
  a, b = ex.random_pair()
  assert a != b and data.labels[a] != data.labels[b]
  view = ex.decode_paths()
  assert view is not None and ex.strip_image.value[:4] == b"\x89PNG"
  assert "geodesic" in ex.status.value
  # Moving a slider goes through the same method.
  ex.start_slider.value = 2
  assert ex.start == 2 and ex.view is None
  before = ex.slide_image.value
  ex.amount.value = 2.0
  assert ex.slide_image.value != before
  x, y = data.embedding[11]
  assert ex.click(x, y) == 11 and ex.start == 11
  assert ex.click(*data.embedding[12]) == 12 and ex.end == 12
  ex.pick(end=11)
  assert ex.decode_paths() is None and "different" in ex.status.value
  assert "application/vnd.jupyter.widget-view+json" in ex._repr_mimebundle_()
