"""Report sections for what a generator shows without an encoder: modes, inversion.

Each function takes the report `Context` and returns `viz.Report.add_section` keyword
arguments, or None when the section does not apply: mode coverage needs data with
known modes (``toy2d``); inversion needs image data and a run without an encoder (a
run with one shows its reconstructions instead).
"""

from __future__ import annotations

import numpy as np

from latentjax import viz
from latentjax.explore._context import COVERAGE_KEY, INVERT_KEY, Context, key_for
from latentjax.explore._inverted import inverted_split
from latentjax.explore._paths import (
    decoded_lengths,
    example_label,
    interpolation_paths,
    strip_label,
)
from latentjax.explore._run_sections import decode_with_labels

_CELL_PX = 64
_THRESHOLD = 3.0  # High quality: within this many standard deviations of a mode centre.


def _toy2d_name(view) -> str | None:
  name = view.run.exp.cfg.data.name
  return name if name.split("/")[0] == "toy2d" else None


def _generate(view, key, num: int) -> np.ndarray:
  """``num`` samples [N, ...] (classes in turn for a conditional run)."""
  z = view.run.sample_codes(key, num)
  y = None
  if view.run.conditional:
    y = np.arange(num) % view.run.exp.spec.num_classes
  return decode_with_labels(view, z, y)


def mode_coverage(ctx: Context) -> dict | None:
  """Samples scattered over the true modes of a ``toy2d`` mixture, with per-mode counts."""
  from latentjax import data, metrics

  view, s = ctx.main, ctx.settings
  name = _toy2d_name(view)
  if name is None:
    return None
  modes, std = data.toy2d_modes(name), data.toy2d_stddev(name)
  x = np.asarray(_generate(view, key_for(ctx, COVERAGE_KEY), s.coverage_samples), np.float64)
  hist = metrics.mode_histogram(x, modes, std, threshold=_THRESHOLD)
  cov = metrics.mode_coverage(x, modes, std, threshold=_THRESHOLD)
  fig = viz.new_figure((9.0, 4.2), layout="compressed")
  ax = fig.add_subplot(1, 2, 1)
  ax.scatter(x[:, 0], x[:, 1], s=3, alpha=0.35, label=f"{len(x)} samples")
  ax.scatter(modes[:, 0], modes[:, 1], s=40, marker="x", c="k", label="mode centres")
  for k, (cx, cy) in enumerate(modes):
    ax.add_patch(_circle(cx, cy, _THRESHOLD * std, covered=hist[k] > 0))
  ax.set_aspect("equal")
  ax.legend(loc="upper right", fontsize=7)
  ax.set_title(f"{view.label} on {name}")
  bar = fig.add_subplot(1, 2, 2)
  bar.bar(np.arange(len(modes)), hist / len(x), color=["C2" if h else "C3" for h in hist])
  bar.axhline(1.0 / len(modes), color="k", lw=0.8, ls="--", label="uniform, all high quality")
  bar.set_xlabel("mode")
  bar.set_ylabel("fraction of samples (high quality)")
  bar.set_xticks(np.arange(len(modes)))
  bar.legend(loc="upper right", fontsize=7)
  viz.save_figure(fig, ctx.path("mode_coverage.png"))
  rows = [{"mode": k, "centre": f"({cx:+.2f}, {cy:+.2f})", "high-quality samples": int(hist[k]),
           "fraction of samples": float(hist[k] / len(x)), "covered": bool(hist[k] > 0)}
          for k, (cx, cy) in enumerate(modes)]
  kl = float(cov["reverse_kl"])
  text = (
      f"{len(x)} generator samples over the {len(modes)} mode centres of {name} "
      f"(standard deviation {std:g}); circles of radius {_THRESHOLD:g}σ around each "
      f"centre, green where covered. {int(cov['modes_covered'])} of {len(modes)} modes "
      f"are covered (at least one high-quality sample nearest to them), "
      f"{100 * float(cov['high_quality_fraction']):.1f}% of the samples are high quality "
      f"(within {_THRESHOLD:g}σ of the nearest centre), and the reverse KL of their "
      "histogram over the modes to the uniform one is "
      + (f"{kl:.3f} nats." if np.isfinite(kl) else "undefined (no high-quality sample).")
      + " From metrics.mode_histogram and metrics.mode_coverage, as the run's evaluation "
      "(here on this report's own samples).")
  return {"text": text, "images": [(ctx.path("mode_coverage.png"),
                                    "samples and mode centres; high-quality samples per mode")],
          "table": rows}


def _circle(cx, cy, radius, covered: bool):
  from matplotlib.patches import Circle

  return Circle((cx, cy), radius, fill=False, lw=0.8, color="C2" if covered else "C3")


def _real_pair_paths(view, ctx: Context, inv):
  """Linear and spherical paths between the codes of two inverted test images."""
  s = ctx.settings
  i, j = 0, 1
  if inv.labels is not None:  # Two different classes when there are.
    other = np.flatnonzero(inv.labels != inv.labels[0])
    j = int(other[0]) if other.size else 1
  label = None if not view.run.conditional else int(inv.labels[i])
  decoder, decode = view.decoder_for(label)
  z0, z1 = inv.codes[[i]], inv.codes[[j]]
  paths = interpolation_paths(decoder, z0, z1, num_points=s.num_frames,
                              methods=("linear", "slerp"))
  lengths = decoded_lengths(decoder, paths, z0, z1, resolution=s.length_resolution)
  strips = {strip_label(m): decode(p[0]) for m, p in paths.items()}
  lens = {strip_label(m): float(lengths[m][0]) for m in paths}
  return (i, j), strips, lens, label


def inversion(ctx: Context) -> dict | None:
  """Test images inverted through the generator, their errors, a real-image path."""
  view, s = ctx.main, ctx.settings
  if not view.is_image or view.has_encoder:
    return None
  inv = inverted_split(view, s, key_for(ctx, INVERT_KEY))
  x, y = inv.inputs, inv.labels
  rows_pics = {"test image": x, "optimised": _decoded(view, inv.codes, y)}
  if inv.hybrid_codes is not None:
    rows_pics["hybrid"] = _decoded(view, inv.hybrid_codes, y)
  cols = [f"class {c}" for c in y] if y is not None else [str(k) for k in range(len(x))]
  names = [example_label(k, y, split=inv.split) for k in range(len(x))]
  viz.labelled_grid(np.stack(list(rows_pics.values())), row_labels=list(rows_pics),
                    col_labels=cols, min_cell_px=_CELL_PX, path=ctx.path("inversion.png"))
  table = []
  for k in range(inv.num_examples):
    row = {"image": names[k], "MSE, optimised": float(inv.errors[k])}
    if inv.hybrid_errors is not None:
      row["MSE, inverse encoder"] = float(inv.encoder_errors[k])
      row["MSE, hybrid"] = float(inv.hybrid_errors[k])
    row["‖z‖ / sqrt(D)"] = float(np.linalg.norm(inv.codes[k]) / np.sqrt(inv.codes.shape[1]))
    table.append(row)
  (i, j), strips, lens, label = _real_pair_paths(view, ctx, inv)
  viz.interpolation_strips(strips, lens, title=f"inverted {names[i]} → inverted {names[j]}",
                           path=ctx.path("inversion_interpolation.png"))
  restarts = "1 random start" if s.inversion_restarts == 1 else (
      f"{s.inversion_restarts} random starts, the best kept")
  text = (
      f"The generator has no encoder, so the codes of {inv.num_examples} "
      f"{inv.split!r} images are found by inversion (latent_ops.invert): Adam on the "
      f"mean squared error between the generated and the test image, {s.inversion_steps} "
      f"steps from {restarts}. The table gives each image's reconstruction error (pixels "
      f"in [0, 1]); a code far from the prior's shell (‖z‖ / sqrt(D) well above 1) draws "
      f"an image the generator rarely makes. Mean error: {inv.errors.mean():.4f}.")
  if inv.hybrid_errors is not None:
    text += (
        f" The hybrid row starts from the codes of an inverse encoder (an MLP trained for "
        f"{s.inverse_encoder_steps} steps on the generator's own samples, "
        f"latent_ops.fit_inverse_encoder) and refines them with the same "
        f"{s.inversion_steps} steps from that single start: mean error "
        f"{inv.encoder_errors.mean():.4f} for the encoder alone, "
        f"{inv.hybrid_errors.mean():.4f} after refinement.")
  elif view.run.conditional:
    text += (" Each image is inverted with its own label. The hybrid inversion is left "
             "out: its inverse encoder does not see the label.")
  text += (f" Below, the linear and spherical paths between the inverted codes of two "
           f"test images, decoded at {s.num_frames} points"
           + (f" as class {label}" if label is not None else "")
           + "; the number right of each row is its decoded length.")
  return {"text": text, "table": table, "images": [
      (ctx.path("inversion.png"), "test images and the generator's reconstructions"),
      (ctx.path("inversion_interpolation.png"),
       "a path between two real images through their inverted codes")]}


def _decoded(view, codes, labels) -> np.ndarray:
  y = labels if view.run.conditional else None
  return np.asarray(decode_with_labels(view, codes, y))

