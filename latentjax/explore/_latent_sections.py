"""Report sections that move through latent space: interpolations, arithmetic, traversals.

Each function takes the report `Context` and returns `viz.Report.add_section` keyword
arguments, or None when the section does not apply (non-image data; no labels for
the label-driven pictures).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo
from latentjax import viz
from latentjax.explore._codes import choose_pairs, encode_split
from latentjax.explore._context import Context, RunView
from latentjax.explore._directions import (
    attribute_rows,
    class_analogies,
    dimension_traversal,
    pca_traversal,
    supervised_traversal,
)
from latentjax.explore._paths import (
    METHODS,
    decoded_lengths,
    interpolation_paths,
    path_frames,
    strip_label,
)
from latentjax.explore._run_sections import decode_with_labels

# Cell sizes (pixels) of small images: large enough that the report shows the wide
# grids one per row (viz.Report spans the row from 640 px) and the pixels stay crisp.
_CELL_PX = 64
_PANEL_CELL_PX = 112


def _pair_name(view: RunView, i: int, j: int) -> str:
  y = view.codes.labels
  if y is None:
    return f"example {i} → example {j}"
  return f"a {y[i]} → a {y[j]}"


def _pair_paths(view: RunView, ctx: Context, starts, ends, methods=METHODS):
  """Paths and decoded lengths for each pair; conditional runs decode with A's label."""
  s = ctx.settings
  z, y = view.codes.codes, view.codes.labels
  groups = ([None] * len(starts) if not view.run.conditional
            else [int(y[i]) for i in starts])
  paths = {m: [None] * len(starts) for m in methods}
  lengths = {m: np.zeros(len(starts)) for m in methods}
  for label in dict.fromkeys(groups):
    idx = [p for p, g in enumerate(groups) if g == label]
    decoder, _ = view.decoder_for(label)
    z0, z1 = z[starts[idx]], z[ends[idx]]
    got = interpolation_paths(decoder, z0, z1, num_points=s.geodesic_points,
                              geodesic_steps=s.geodesic_steps, methods=methods)
    lens = decoded_lengths(decoder, got, z0, z1, resolution=s.length_resolution)
    for m in methods:
      for k, p in enumerate(idx):
        paths[m][p] = got[m][k]
        lengths[m][p] = lens[m][k]
  return {m: np.stack(v) for m, v in paths.items()}, lengths, groups


def _gif_frames(view: RunView, paths, z0, z1, group, count: int) -> np.ndarray:
  """Frames [T, H', W', 3] with the three methods side by side, for pair 0."""
  _, decode = view.decoder_for(group)
  frames = path_frames({m: p[:1] for m, p in paths.items()}, z0[:1], z1[:1], count)
  decoded = {m: decode(f[0]) for m, f in frames.items()}
  names = [strip_label(m) for m in decoded]
  return np.stack([viz.labelled_grid(np.stack([decoded[m][t] for m in decoded])[None],
                                     col_labels=names, min_cell_px=96)
                   for t in range(count)])


def interpolations(ctx: Context) -> dict | None:
  """Linear, spherical and geodesic paths between test codes, with decoded lengths."""
  view, s = ctx.main, ctx.settings
  if not view.is_image or view.codes.num_examples < 2:
    return None
  starts, ends = choose_pairs(view.codes.labels, s.num_pairs, seed=s.seed,
                              num_examples=view.codes.num_examples)
  paths, lengths, groups = _pair_paths(view, ctx, starts, ends)
  z0, z1 = view.codes.codes[starts], view.codes.codes[ends]
  frames = path_frames(paths, z0, z1, s.num_frames)
  images, rows = [], []
  for p, (i, j) in enumerate(zip(starts, ends, strict=True)):
    _, decode = view.decoder_for(groups[p])
    strips = {strip_label(m): decode(frames[m][p]) for m in paths}
    name = _pair_name(view, i, j)
    viz.interpolation_strips(strips, {strip_label(m): lengths[m][p] for m in paths},
                             title=f"test {name}", path=ctx.path(f"interpolation_{p}.png"))
    images.append((ctx.path(f"interpolation_{p}.png"), f"test {name}"))
    row = {"pair": name}
    row.update({strip_label(m): float(lengths[m][p]) for m in paths})
    row["geodesic / linear"] = float(lengths["geodesic"][p] / lengths["linear"][p])
    rows.append(row)
  gif = ctx.path("interpolation.gif")
  viz.save_gif(_gif_frames(view, paths, z0, z1, groups[0], s.gif_frames), gif, fps=8,
               boomerang=True, pause_ends=2)
  images.append((gif, f"animated: test {_pair_name(view, starts[0], ends[0])}, "
                      "the three paths side by side"))
  ratio = lengths["geodesic"] / lengths["linear"]
  shorter = int(np.sum(ratio < 1.0))
  text = (
      f"Paths between {len(starts)} pairs of test codes, each decoded at {s.num_frames} "
      "evenly spaced points: the straight line (linear), spherical interpolation of "
      "the raw vectors (slerp), and the geodesic of the decoder's pull-back metric "
      f"({s.geodesic_points} points, {s.geodesic_steps} optimisation steps). The number "
      "right of each row is the path's decoded length: the sum of distances between "
      f"consecutive decoded images along the path resampled at {s.length_resolution} "
      f"points. The geodesic is shorter than the straight line for {shorter} of "
      f"{len(starts)} pairs (geodesic / linear length {ratio.min():.3f}–{ratio.max():.3f}).")
  if view.run.conditional:
    text += " This model is conditional: every path is decoded with the label of its start."
  return {"text": text, "images": images, "table": rows}


def arithmetic(ctx: Context) -> dict | None:
  """Class attribute vectors and analogies; style x class for a conditional model."""
  view, s = ctx.main, ctx.settings
  y = view.codes.labels
  if not view.is_image or y is None or np.unique(y).size < 2:
    return None
  z, x = view.codes.codes, view.codes.inputs
  if view.run.conditional:
    classes = view.run.exp.spec.num_classes
    order = np.random.RandomState(s.seed).permutation(np.unique(y))
    src = np.array([np.flatnonzero(y == c)[0] for c in order[:s.num_analogies]])
    zs = np.repeat(z[src], classes, axis=0)
    ys = np.tile(np.arange(classes), src.size)
    cells = decode_with_labels(view, zs, ys).reshape(src.size, classes, *x.shape[1:])
    viz.style_class_grid(cells, sources=x[src], col_labels=[str(k) for k in range(classes)],
                         row_labels=[f"a {y[i]}" for i in src], min_cell_px=_CELL_PX,
                         path=ctx.path("style_class.png"))
    return {"text": ("This digit's style, with another digit's class: each test example "
                     "(left) is encoded with its own label, and its code is decoded with "
                     "every class label in turn."),
            "images": [(ctx.path("style_class.png"), "style (rows) × class (columns)")]}
  codes, names, _ = attribute_rows(z, y, s.attribute_scales, num_rows=s.num_analogies,
                                   seed=s.seed)
  viz.traversal_grid(view.decode(codes), names, s.attribute_scales, value_fmt="s = {:g}",
                     min_cell_px=_PANEL_CELL_PX, path=ctx.path("attribute_vectors.png"))
  a, b, c, result, rows, _ = class_analogies(z, y, num=s.num_analogies, seed=s.seed)
  _, nearest = lo.nearest_neighbors(jnp.asarray(result), jnp.asarray(z), 1)
  nearest = np.asarray(nearest)[:, 0]
  viz.arithmetic_panel(view.decode(a), view.decode(b), view.decode(c), view.decode(result),
                       captions=("a: class mean", "b: class mean", "c: test example",
                                 "c + (b − a)"),
                       extra={"nearest test code": x[nearest]}, row_labels=rows,
                       min_cell_px=_PANEL_CELL_PX, path=ctx.path("analogies.png"))
  text = (
      "Attribute vectors from the labels: v(k) = mean code of class k − mean code of "
      "the other classes (latent_ops.attribute_vector). Each row adds s·v(k) to a test "
      "example of another class. Analogies a : b :: c : ? are answered by c + (b − a) "
      "(latent_ops.analogy), with a and b class means, so the result should keep c's "
      "style and take b's class; the last column is the test example whose code is "
      "nearest to the result.")
  return {"text": text, "images": [
      (ctx.path("attribute_vectors.png"), "a test code plus multiples of a class vector"),
      (ctx.path("analogies.png"), "a + (b − a) analogies")]}


def _supervised(view: RunView, ctx: Context):
  """The supervised direction between two classes chosen by the seed."""
  s = ctx.settings
  y = view.codes.labels
  order = np.random.RandomState(s.seed + 2).permutation(np.unique(y))
  negative, positive = int(order[0]), int(order[1])
  train = encode_split(view.run, split=view.run.exp.train_split,
                       num_examples=s.num_examples)
  return supervised_traversal(train, view.codes, positive=positive, negative=negative,
                              steps=s.traversal_steps, seed=s.seed)


def traversals(ctx: Context) -> dict | None:
  """PCA directions, a supervised direction and single dimensions as traversal grids."""
  view, s = ctx.main, ctx.settings
  if not view.is_image:
    return None
  z, y = view.codes.codes, view.codes.labels
  label = None
  if view.run.conditional:
    label = int(np.bincount(y).argmax())
  _, decode = view.decoder_for(label)
  shape = view.codes.inputs.shape[1:]
  images, notes = [], []

  def grid(tr, name, caption):
    pics = decode(tr.codes.reshape(-1, tr.codes.shape[-1]))
    pics = pics.reshape(*tr.codes.shape[:2], *shape)
    viz.traversal_grid(pics, tr.row_labels, tr.values, value_fmt=tr.value_fmt,
                       min_cell_px=_CELL_PX, path=ctx.path(name))
    images.append((ctx.path(name), caption))

  pca, explained = pca_traversal(z, num=s.num_pca, steps=s.traversal_steps,
                                 sigmas=s.traversal_sigmas)
  grid(pca, "traversal_pca.png", "principal directions of the test codes, from the mean code")
  notes.append(f"The top {len(pca.row_labels)} principal directions of the test codes "
               f"explain {100 * explained.sum():.0f}% of their variance; each row moves "
               f"the mean code ±{s.traversal_sigmas:g} standard deviations along one.")
  if y is not None and np.unique(y).size >= 2:
    sup = _supervised(view, ctx)
    grid(sup.traversal, "traversal_supervised.png",
         f"supervised direction {sup.name}, from held-out examples")
    neg, pos = sup.name.split(" → ")
    notes.append(
        f"A supervised direction: the unit normal of a logistic regression separating "
        f"the training codes of the {neg}s from those of the {pos}s, fitted on the "
        f"active dimensions (latent_ops.supervised_direction; training accuracy "
        f"{100 * sup.train_accuracy:.1f}%). Thresholding the projection on it halfway "
        f"between the two classes classifies {100 * sup.accuracy:.1f}% of the held-out "
        f"test {neg}s and {pos}s correctly. Each row moves a test {neg} along it, in "
        f"units of Δ, the distance between the two classes' mean codes along it: at "
        f"1Δ the {neg} has moved as far as the average {pos} is from the average {neg}.")
  prior = view.run.exp.is_variational
  dims = dimension_traversal(z, num=s.num_dims, steps=s.traversal_steps,
                             sigmas=s.traversal_sigmas, prior=prior)
  grid(dims, "traversal_dims.png", "single latent dimensions, most active first")
  where = "from the prior mean 0, in prior units" if prior else "from the mean code"
  active = int(np.sum(z.var(0) > 0.01))
  notes.append(f"Single dimensions, {where}, ordered by the variance of the test codes "
               f"along them: {active} of {z.shape[1]} dimensions are active (variance "
               "> 0.01, Burda et al. 2016). Inactive ones decode to the same image all "
               "along the row, so at most two of them are shown.")
  if label is not None:
    notes.append(f"This model is conditional: every traversal is decoded as class {label}.")
  return {"text": "\n\n".join(notes), "images": images}
