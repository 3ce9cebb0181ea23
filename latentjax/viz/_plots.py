"""Training curves: line plots of metrics from a history dict or a JSON-lines log.

The training loop writes one JSON object per log event, e.g.
``{"step": 100, "split": "train", "loss": 0.41}``; `read_metrics_jsonl` reads such a
file (or one of ``{"step": 100, "train/loss": 0.41, "eval/elbo": -95.2}`` objects),
and `loss_curves` plots it, one panel per metric, with the train and eval variants of
the same metric ("train/loss", "eval/loss") drawn as two lines in the same panel.

    fig = loss_curves("runs/vae/metrics.jsonl", path="runs/vae/curves.png")
"""

from __future__ import annotations

import json
import math
import os
import pathlib
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from latentjax._metrics_log import read_series
from latentjax.viz._io import PathLike, new_figure, save_figure

_MIN_SMOOTHED = 20  # Shorter series (typically eval) are drawn raw, with markers.
_SPLITS = ("train", "eval", "val", "valid", "test")


def read_metrics_jsonl(path: PathLike) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """Reads a JSON-lines metrics log into metric name -> (steps, values).

  A thin name over the one reader of training logs (``latentjax._metrics_log``):
  metrics of records with a ``"split"`` field are named ``"<split>/<metric>"``, so train
  and eval series of the same metric stay apart; nested objects are flattened with "/"
  ({"eval": {"loss": 1}} gives "eval/loss"); non-numeric fields are ignored and the
  strings "nan" / "inf" read as floats. A step logged twice (a resumed run) keeps its
  latest value, and a truncated last line (a run killed mid-write) is ignored.

  Args:
    path: the .jsonl file.

  Returns:
    dict metric name -> (steps int64 [K], values float64 [K]), sorted by step.

  Raises:
    FileNotFoundError: if the file does not exist.
    ValueError: on a line other than a truncated last one that is not a JSON object with
      a numeric "step" (the message names the line).

  Example:
    >>> history = read_metrics_jsonl("runs/vae/metrics.jsonl")
    >>> steps, losses = history["train/loss"]
  """
  return read_series(path)


def _as_history(history) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  if isinstance(history, (str, os.PathLike)):
    return read_metrics_jsonl(history)
  if not isinstance(history, Mapping):
    raise TypeError(
        f"`history` must be a mapping or a path to a .jsonl file, got {type(history).__name__}")
  out = {}
  for name, series in history.items():
    if isinstance(series, (tuple, list)) and len(series) == 2 and np.ndim(series[0]) == 1:
      steps, values = np.asarray(series[0], np.float64), np.asarray(series[1], np.float64)
    else:
      values = np.asarray(series, np.float64)
      steps = np.arange(values.shape[0] if values.ndim else 0, dtype=np.float64)
    if values.ndim != 1 or steps.shape != values.shape:
      raise ValueError(
          f"`history[{name!r}]` must be (steps [K], values [K]) or values [K], got shapes "
          f"{steps.shape} and {values.shape}")
    out[str(name)] = (steps, values)
  return out


def _split_name(name: str) -> tuple[str, str]:
  """'train/loss' -> ('loss', 'train'); 'eval_elbo' -> ('elbo', 'eval'); 'lr' -> ('lr', 'lr')."""
  for sep in ("/", "_"):
    head, _, tail = name.partition(sep)
    if tail and head.lower() in _SPLITS:
      return tail, head
  return name, name


def _ema(values: np.ndarray, smoothing: float) -> np.ndarray:
  out, acc = np.empty_like(values), None
  for i, v in enumerate(values):
    if np.isfinite(v):
      acc = v if acc is None else smoothing * acc + (1 - smoothing) * v
    out[i] = np.nan if acc is None else acc
  return out


def loss_curves(
    history,
    *,
    metrics: Sequence[str] | None = None,
    log_scale: bool | str = "auto",
    smoothing: float = 0.0,
    ncols: int = 3,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    path: PathLike | None = None,
) -> Figure:
  """Plots training / evaluation metrics against the step, one panel per metric.

  Names prefixed by a split ("train/", "eval/", "val_", "test/" ...) share a panel
  titled with the bare metric name, one line per split.

  Args:
    history: metric name -> (steps [K], values [K]) or values [K] (steps 0..K-1), or a
      path to a JSON-lines log as read by `read_metrics_jsonl`.
    metrics: optional subset of metric names to plot, in this order.
    log_scale: True / False for the y axes, or "auto": log where all values are
      positive and span more than two decades.
    smoothing: exponential moving average factor in [0, 1); when > 0 the raw curve
      is drawn faintly under the smoothed one (series of fewer than 20 points, such
      as eval metrics, are never smoothed).
    ncols: panels per row.
    title: optional figure title.
    figsize: figure size in inches; by default 4 x 3 per panel.
    path: if given, the figure is also saved there as PNG.

  Returns:
    The matplotlib `Figure` (Agg canvas, not registered with pyplot).

  Raises:
    ValueError: if there is nothing to plot, a name in `metrics` is unknown, or a
      series is malformed.

  Example:
    >>> fig = loss_curves({"train/loss": ([0, 10, 20], [3.0, 1.0, 0.5])})
  """
  data = _as_history(history)
  if metrics is not None:
    unknown = [m for m in metrics if m not in data]
    if unknown:
      raise ValueError(f"`metrics` names unknown series {unknown}; known: {sorted(data)}")
    data = {m: data[m] for m in metrics}
  data = {k: v for k, v in data.items() if v[1].size}
  if not data:
    raise ValueError("`history` has no metric values to plot")
  if not 0.0 <= smoothing < 1.0:
    raise ValueError(f"`smoothing` must be in [0, 1), got {smoothing!r}")
  groups: dict[str, list[tuple[str, np.ndarray, np.ndarray]]] = {}
  for name, (steps, values) in data.items():
    metric, split = _split_name(name)
    groups.setdefault(metric, []).append((split, steps, values))

  ncols = max(1, min(int(ncols), len(groups)))
  nrows = math.ceil(len(groups) / ncols)
  fig = new_figure(figsize or (4.0 * ncols, 3.0 * nrows))
  axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
  for ax, (metric, lines) in zip(axes, groups.items(), strict=False):
    for i, (split, steps, values) in enumerate(lines):
      colour = f"C{i}"
      if smoothing > 0 and values.size >= _MIN_SMOOTHED:
        ax.plot(steps, values, color=colour, alpha=0.25, linewidth=1)
        ax.plot(steps, _ema(values, smoothing), color=colour, linewidth=1.6, label=split)
      else:
        ax.plot(steps, values, color=colour, linewidth=1.6, label=split,
                marker="o" if values.size < 30 else None, markersize=3)
    finite = np.concatenate([v[np.isfinite(v)] for _, _, v in lines])
    use_log = log_scale
    if log_scale == "auto":
      use_log = bool(finite.size and finite.min() > 0 and finite.max() > 100 * finite.min())
    if use_log:
      ax.set_yscale("log")
    ax.set_title(metric)
    ax.set_xlabel("step")
    ax.grid(True, alpha=0.3)
    if len(lines) > 1 or lines[0][0] != metric:
      ax.legend(fontsize="small")
  for ax in axes[len(groups):]:
    ax.set_visible(False)
  if title:
    fig.suptitle(title)
  if path is not None:
    save_figure(fig, path)
  return fig


def write_metrics_jsonl(history: Mapping[str, tuple], path: PathLike) -> pathlib.Path:
  """Writes name -> (steps, values) as JSON lines, one object per step (for tests, demos)."""
  rows: dict[int, dict] = {}
  for name, (steps, values) in _as_history(history).items():
    for s, v in zip(steps.tolist(), values.tolist(), strict=True):
      rows.setdefault(int(s), {"step": int(s)})[name] = v
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  with open(path, "w", encoding="utf-8") as f:
    for step in sorted(rows):
      f.write(json.dumps(rows[step]) + "\n")
  return path
