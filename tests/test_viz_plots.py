"""Tests for the matplotlib plots of latentjax.viz: scatter, heat map, loss curves."""

import json

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from latentjax import viz


def _check_figure(fig, path):
  assert isinstance(fig, Figure)
  assert path.is_file()
  with Image.open(path) as im:
    width, height = im.size
    pixels = np.asarray(im.convert("RGB"))
  assert width >= 300 and height >= 200
  assert pixels.std() > 0


def _clustered_codes(n=48, d=5, k=3, seed=0):
  rng = np.random.default_rng(seed)
  labels = np.arange(n) % k
  codes = rng.normal(size=(n, d)) * 0.3 + np.eye(k, d)[labels] * 3
  centroids = np.stack([codes[labels == j].mean(0) for j in range(k)])
  return codes, labels, centroids


def test_latent_scatter_pca_projects_centroids(tmp_path):
  codes, labels, centroids = _clustered_codes()
  path = tmp_path / "scatter" / "pca.png"
  fig, xy = viz.latent_scatter(codes, labels, centroids=centroids, assignments=labels,
                               class_names=["zero", "one", "two"], return_embedding=True,
                               path=path)
  _check_figure(fig, path)
  assert xy.shape == (48, 2)
  # PCA is centred: the projected codes have zero mean.
  np.testing.assert_allclose(xy.mean(0), 0.0, atol=1e-9)
  legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
  assert "zero" in legend and "centroid" in legend


def test_latent_scatter_tsne_is_seeded(tmp_path):
  codes, labels, centroids = _clustered_codes(n=30)
  kw = {"method": "tsne", "perplexity": 5.0, "tsne_max_iter": 250, "return_embedding": True}
  fig, xy = viz.latent_scatter(codes, labels, centroids=centroids, path=tmp_path / "t.png",
                               seed=3, **kw)
  _check_figure(fig, tmp_path / "t.png")
  _, xy2 = viz.latent_scatter(codes, labels, seed=3, **kw)
  np.testing.assert_allclose(xy, xy2, rtol=1e-5, atol=1e-5)


def test_latent_scatter_2d_continuous_labels_and_clusters_only(tmp_path):
  rng = np.random.default_rng(0)
  codes = rng.normal(size=(40, 2))
  fig, xy = viz.latent_scatter(codes, rng.random(40), return_embedding=True,
                               path=tmp_path / "c.png")
  _check_figure(fig, tmp_path / "c.png")
  np.testing.assert_array_equal(xy, codes)  # method="auto" with D == 2 keeps the codes.
  fig = viz.latent_scatter(codes, assignments=np.arange(40) % 4, path=tmp_path / "k.png")
  _check_figure(fig, tmp_path / "k.png")


def test_latent_scatter_errors():
  codes = np.zeros((10, 4))
  with pytest.raises(ValueError, match=r"`codes` must be \[N, D\]"):
    viz.latent_scatter(np.zeros(10))
  with pytest.raises(ValueError, match=r"`labels` must be \[10\]"):
    viz.latent_scatter(codes, np.zeros(9))
  with pytest.raises(ValueError, match=r"`centroids` must be \[N, 4\]"):
    viz.latent_scatter(codes, centroids=np.zeros((3, 2)))
  with pytest.raises(ValueError, match="Unknown `method` 'umap'"):
    viz.latent_scatter(codes, method="umap")
  with pytest.raises(ValueError, match=r"must be \[N, 2\] for method='none'"):
    viz.latent_scatter(codes, method="none")


def test_magnification_heatmap(tmp_path):
  xs = np.linspace(-2, 2, 24)
  xx, yy = np.meshgrid(xs, xs)
  values = 0.1 + np.exp(-(xx**2 + yy**2))
  s = np.linspace(0, 1, 12)
  curves = {"geo A": np.stack([-1 + 2 * s, np.sin(np.pi * s)], -1),
            "geo B": np.stack([-1 + 2 * s, -np.sin(np.pi * s)], -1)}
  points = np.random.default_rng(0).normal(size=(30, 2))
  path = tmp_path / "mf.png"
  fig = viz.magnification_heatmap(values, (-2, 2, -2, 2), curves, points, np.arange(30) % 3,
                                  path=path)
  _check_figure(fig, path)
  ax = fig.axes[0]
  styles = {line.get_linestyle() for line in ax.get_lines()}
  assert "-" in styles and len(styles) == 2  # Geodesics solid, straight lines dashed.
  legend = [t.get_text() for t in ax.get_legend().get_texts()]
  assert {"geo A", "geodesic", "straight line"} <= set(legend)
  # Non-positive values and a list of curves, linear colour scale.
  fig = viz.magnification_heatmap(values - 0.5, (-2, 2, -2, 2), [curves["geo A"]],
                                  log_scale=False, path=tmp_path / "lin.png")
  _check_figure(fig, tmp_path / "lin.png")


def test_magnification_heatmap_errors():
  with pytest.raises(ValueError, match=r"`grid_values` must be \[H, W\]"):
    viz.magnification_heatmap(np.zeros(5), (0, 1, 0, 1))
  with pytest.raises(ValueError, match=r"`extent` must be"):
    viz.magnification_heatmap(np.ones((4, 4)), (1, 0, 0, 1))
  with pytest.raises(ValueError, match=r"`curves\[0\]` must be \[N, 2\]"):
    viz.magnification_heatmap(np.ones((4, 4)), (0, 1, 0, 1), [np.zeros((5, 3))])
  with pytest.raises(ValueError, match="`labels` needs `points`"):
    viz.magnification_heatmap(np.ones((4, 4)), (0, 1, 0, 1), labels=[0, 1])


def _history():
  steps = np.arange(0, 300, 10)
  return {
      "train/loss": (steps, 2.0 * np.exp(-steps / 100) + 0.1),
      "eval/loss": (steps[::5], 2.0 * np.exp(-steps[::5] / 100) + 0.2),
      "train/kl": (steps, 1 + steps / 100),
      "lr": np.full(30, 1e-3),
  }


def test_loss_curves_from_dict_groups_splits(tmp_path):
  path = tmp_path / "curves.png"
  fig = viz.loss_curves(_history(), smoothing=0.5, title="run", path=path)
  _check_figure(fig, path)
  titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
  assert titles == ["loss", "kl", "lr"]
  assert fig.axes[0].get_yscale() == "linear"


def test_loss_curves_from_jsonl(tmp_path):
  log = tmp_path / "metrics.jsonl"
  viz.write_metrics_jsonl(_history(), log)
  with open(log, "a") as f:
    f.write("\n" + json.dumps({"step": 400, "eval": {"fid": 3.5}, "note": "text"}) + "\n")
  history = viz.read_metrics_jsonl(log)
  assert set(history) == {"train/loss", "eval/loss", "train/kl", "lr", "eval/fid"}
  steps, values = history["eval/loss"]
  assert steps.tolist() == list(range(0, 300, 50)) and values.shape == (6,)
  fig = viz.loss_curves(log, metrics=["train/loss", "eval/loss"], log_scale=True,
                        path=tmp_path / "from_log.png")
  _check_figure(fig, tmp_path / "from_log.png")
  assert fig.axes[0].get_yscale() == "log"


def test_loss_curves_errors(tmp_path):
  bad = tmp_path / "bad.jsonl"
  bad.write_text('{"step": 1, "loss": 1.0}\n{"loss": 2.0}\n')
  with pytest.raises(ValueError, match=r"bad.jsonl:2: expected an object with a numeric 'step'"):
    viz.loss_curves(bad)
  bad.write_text("{not json\n")
  with pytest.raises(ValueError, match=r"bad.jsonl:1: not valid JSON"):
    viz.read_metrics_jsonl(bad)
  with pytest.raises(ValueError, match="unknown series"):
    viz.loss_curves(_history(), metrics=["nope"])
  with pytest.raises(ValueError, match="no metric values"):
    viz.loss_curves({})
  with pytest.raises(ValueError, match=r"`history\['x'\]` must be"):
    viz.loss_curves({"x": ([0, 1, 2], [1.0, 2.0])})
