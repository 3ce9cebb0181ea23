"""Scatter plots of latent codes: a test split coloured by label, with k-means clusters.

Codes with more than two dimensions are projected to 2-D first: by PCA (numpy SVD,
deterministic, and centroids project exactly) or by t-SNE (scikit-learn, seeded; as
t-SNE has no out-of-sample map, each centroid is drawn at the median embedding of its
ten nearest codes, and the plot says so).

    fig, xy = latent_scatter(z_test, y_test, method="pca", centroids=c, assignments=a,
                             return_embedding=True, path="runs/vae/latents.png")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from latentjax.viz._checks import as_points, as_vector
from latentjax.viz._io import PathLike, new_figure, save_figure

_METHODS = ("auto", "none", "pca", "tsne")
_NEIGHBOURS = 10
_EXACT_TSNE_MAX_N = 200
_CLUSTER_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "p", "8")


def _pca(codes: np.ndarray):
  """Returns (embedding [N, 2], project(x) -> [M, 2], axis labels)."""
  mean = codes.mean(axis=0)
  _, sing, vt = np.linalg.svd(codes - mean, full_matrices=False)
  comps = vt[:2]
  var = sing**2
  ratio = var[:2] / var.sum() if var.sum() > 0 else np.zeros(2)
  project = lambda x: (x - mean) @ comps.T
  labels = tuple(f"PC{i + 1} ({100 * r:.0f}% var.)" for i, r in enumerate(ratio))
  return project(codes), project, labels


def _tsne(codes: np.ndarray, seed: int, perplexity: float, max_iter: int,
          extra: Mapping | None) -> np.ndarray:
  from sklearn.manifold import TSNE  # Imported lazily: scikit-learn is slow to import.

  n = codes.shape[0]
  if n < 3:
    raise ValueError(f"`codes` must have at least 3 points for t-SNE, got {n}")
  kwargs = {
      "n_components": 2,
      "perplexity": float(min(perplexity, max(1.0, (n - 1) / 3))),
      "init": "pca",
      "random_state": seed,
      "max_iter": max(250, int(max_iter)),
      # Barnes-Hut only pays off for large N, and its OpenMP threads thrash on a busy
      # machine; the exact gradient is quick for small N.
      "method": "exact" if n <= _EXACT_TSNE_MAX_N else "barnes_hut",
  }
  kwargs.update(extra or {})
  return TSNE(**kwargs).fit_transform(codes.astype(np.float32)).astype(np.float64)


def _nearest_median(x: np.ndarray, codes: np.ndarray, xy: np.ndarray) -> np.ndarray:
  """Places each row of x [K, D] at the median 2-D position of its nearest codes."""
  k = min(_NEIGHBOURS, codes.shape[0])
  dist = ((x[:, None, :] - codes[None]) ** 2).sum(-1)
  nearest = np.argsort(dist, axis=1)[:, :k]
  return np.median(xy[nearest], axis=1)


def _is_categorical(labels: np.ndarray) -> bool:
  if labels.dtype.kind in "biuUSO":
    return True
  return bool(np.all(np.mod(labels, 1) == 0) and np.unique(labels).size <= 20)


def latent_scatter(
    codes,
    labels=None,
    *,
    method: str = "auto",
    centroids=None,
    assignments=None,
    class_names: Sequence[str] | Mapping | None = None,
    seed: int = 0,
    perplexity: float = 30.0,
    tsne_max_iter: int = 1000,
    tsne_kwargs: Mapping | None = None,
    point_size: float | None = None,
    label_name: str = "label",
    title: str | None = None,
    figsize: tuple[float, float] = (6.5, 5.0),
    return_embedding: bool = False,
    path: PathLike | None = None,
) -> Figure | tuple[Figure, np.ndarray]:
  """Scatters latent codes in 2-D, coloured by label, with optional k-means clusters.

  Args:
    codes: [N, D] latent codes (D >= 2).
    labels: optional [N] labels: integers / strings are drawn as classes (legend),
      non-integer floats as a continuous colour scale (colour bar).
    method: "pca" (numpy SVD), "tsne" (scikit-learn, seeded), "none" (D must be 2),
      or "auto": "none" for D == 2, else "pca".
    centroids: optional [K, D] cluster centres, drawn as numbered stars (with t-SNE,
      at the median embedding of each centre's 10 nearest codes).
    assignments: optional [N] cluster index per code: marker shapes when `labels`
      are given, otherwise the colours.
    class_names: names of the classes, a sequence indexed by label or a mapping.
    seed: t-SNE random state.
    perplexity: t-SNE perplexity (capped at (N - 1) / 3 for small N).
    tsne_max_iter: t-SNE optimisation steps (>= 250).
    tsne_kwargs: further `sklearn.manifold.TSNE` arguments, overriding the above
      (by default the exact gradient for N <= 200, Barnes-Hut beyond).
    point_size: marker area; by default shrinks as N grows.
    label_name: what the labels are, for the colour bar of continuous labels.
    title: optional axes title.
    figsize: figure size in inches.
    return_embedding: also return the [N, 2] coordinates plotted.
    path: if given, the figure is also saved there as PNG.

  Returns:
    The matplotlib `Figure`, or (`Figure`, embedding [N, 2]) with `return_embedding`.

  Raises:
    ValueError: on malformed shapes or an unknown `method`.

  Example:
    >>> fig = latent_scatter(np.random.randn(100, 8), np.arange(100) % 10, method="pca")
  """
  z = as_points(codes, "codes", dims=None)
  n, d = z.shape
  if method not in _METHODS:
    raise ValueError(f"Unknown `method` {method!r}; expected one of {', '.join(_METHODS)}")
  if d < 2:
    raise ValueError(f"`codes` must be [N, D] with D >= 2, got shape {z.shape}")
  if method == "auto":
    method = "none" if d == 2 else "pca"
  if method == "none" and d != 2:
    raise ValueError(f"`codes` must be [N, 2] for method='none', got shape {z.shape}")
  y = None if labels is None else as_vector(labels, "labels", n)
  clusters = None
  if assignments is not None:
    clusters = as_vector(assignments, "assignments", n).astype(np.int64)
  cents = None if centroids is None else as_points(centroids, "centroids", dims=d)

  note = None
  axis_labels = ("z1", "z2")
  if method == "none":
    xy, project = z, lambda x: x
  elif method == "pca":
    xy, project, axis_labels = _pca(z)
  else:
    xy = _tsne(z, seed, perplexity, tsne_max_iter, tsne_kwargs)
    axis_labels = ("t-SNE 1", "t-SNE 2")
    project = lambda x: _nearest_median(x, z, xy)
    note = (f"t-SNE has no projection: centroids drawn at the median of their "
            f"{min(_NEIGHBOURS, n)} nearest codes")

  fig = new_figure(figsize)
  ax = fig.add_subplot()
  size = point_size or float(np.clip(3000.0 / n, 3.0, 30.0))
  colour_by = y if y is not None else clusters
  kinds = clusters if (y is not None and clusters is not None) else np.zeros(n, np.int64)
  categorical = colour_by is not None and _is_categorical(colour_by)
  handles = []
  if colour_by is None:
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c="C0", alpha=0.8, linewidths=0)
  elif categorical:
    classes = np.unique(colour_by)
    cmap = matplotlib.colormaps["tab10" if classes.size <= 10 else "tab20"]
    for i, cls in enumerate(classes):
      colour = cmap(i % cmap.N)
      for kind in np.unique(kinds):
        mask = (colour_by == cls) & (kinds == kind)
        ax.scatter(xy[mask, 0], xy[mask, 1], s=size, color=colour, alpha=0.85,
                   marker=_CLUSTER_MARKERS[kind % len(_CLUSTER_MARKERS)], linewidths=0)
      name = _class_name(cls, class_names, is_cluster=y is None)
      handles.append(Line2D([], [], marker="o", linestyle="", color=colour, label=name))
  else:
    sc = ax.scatter(xy[:, 0], xy[:, 1], s=size, c=colour_by, cmap="viridis", alpha=0.85,
                    linewidths=0)
    fig.colorbar(sc, ax=ax, label=label_name if y is not None else "cluster")

  if cents is not None:
    cxy = project(cents)
    ax.scatter(cxy[:, 0], cxy[:, 1], s=260, marker="*", facecolor="white", edgecolor="black",
               linewidths=1.2, zorder=5)
    for k, (cx, cy) in enumerate(cxy):
      ax.annotate(str(k), (cx, cy), xytext=(6, 6), textcoords="offset points", fontsize=9,
                  fontweight="bold", zorder=6)
    handles.append(Line2D([], [], marker="*", linestyle="", markersize=12,
                          markerfacecolor="white", markeredgecolor="black", label="centroid"))
  if y is not None and clusters is not None and np.unique(clusters).size > 1:
    for kind in np.unique(clusters)[:len(_CLUSTER_MARKERS)]:
      handles.append(Line2D([], [], marker=_CLUSTER_MARKERS[kind % len(_CLUSTER_MARKERS)],
                            linestyle="", color="grey", label=f"cluster {kind}"))
  if handles and len(handles) <= 40:
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small",
              frameon=False, ncols=1 if len(handles) <= 16 else 2)
  ax.set_xlabel(axis_labels[0])
  ax.set_ylabel(axis_labels[1])
  if method == "tsne":
    ax.set_xticks([])
    ax.set_yticks([])
  if note and cents is not None:
    ax.text(0.01, 0.01, note, transform=ax.transAxes, fontsize=7, color="0.3", va="bottom")
  ax.set_title(title or f"latent codes ({method if method != 'none' else '2-D'}, N={n}, D={d})")
  if path is not None:
    save_figure(fig, path)
  return (fig, xy) if return_embedding else fig


def _class_name(cls, class_names, is_cluster: bool) -> str:
  if class_names is not None:
    try:
      return str(class_names[cls.item() if hasattr(cls, "item") else cls])
    except (KeyError, IndexError, TypeError):
      pass
  value = cls.item() if hasattr(cls, "item") else cls
  if isinstance(value, float) and value.is_integer():
    value = int(value)
  return f"cluster {value}" if is_cluster else str(value)
