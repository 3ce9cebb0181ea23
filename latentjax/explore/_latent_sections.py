"""Report sections that move through latent space: interpolations, arithmetic, traversals.

Each function takes the report `Context` and returns `viz.Report.add_section` keyword
arguments (and a ``title`` where it depends on the run: the interpolations name the
methods they show), or None when the section does not apply (non-image data; no labels
for the label-driven pictures).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo
from latentjax import viz
from latentjax.explore._codes import choose_pairs, encode_split
from latentjax.explore._context import (
    INVERT_KEY,
    PAIR_KEY,
    SAMPLE_KEY,
    Context,
    RunView,
    key_for,
)
from latentjax.explore._directions import (
    attribute_rows,
    class_analogies,
    dimension_traversal,
    pca_traversal,
    supervised_traversal,
)
from latentjax.explore._inverted import first_layer_kernel, inverted_split, sefa_traversal
from latentjax.explore._paths import (
    METHODS,
    decoded_lengths,
    example_label,
    interpolation_paths,
    methods_title,
    path_frames,
    strip_label,
)
from latentjax.explore._run_sections import decode_with_labels

# Cell sizes (pixels) of small images: large enough that the report shows the wide
# grids one per row (viz.Report spans the row from 640 px) and the pixels stay crisp.
_CELL_PX = 64
_PANEL_CELL_PX = 112


def _pair_paths(view: RunView, ctx: Context, z0, z1, groups, methods=METHODS):
  """Paths [P, T, D] and decoded lengths [P] per method; each pair decodes with its group's
  decoder (the label of a conditional run, None otherwise)."""
  s = ctx.settings
  paths = {m: [None] * len(z0) for m in methods}
  lengths = {m: np.zeros(len(z0)) for m in methods}
  for label in dict.fromkeys(groups):
    idx = [p for p, g in enumerate(groups) if g == label]
    decoder, _ = view.decoder_for(label)
    got = interpolation_paths(decoder, z0[idx], z1[idx], num_points=s.geodesic_points,
                              geodesic_steps=s.geodesic_steps, methods=methods)
    lens = decoded_lengths(decoder, got, z0[idx], z1[idx], resolution=s.length_resolution)
    for m in methods:
      for k, p in enumerate(idx):
        paths[m][p] = got[m][k]
        lengths[m][p] = lens[m][k]
  return {m: np.stack(v) for m, v in paths.items()}, lengths


def _endpoints(view: RunView, ctx: Context):
  """(z0 [P, D], z1 [P, D], groups, pair names, what the endpoints are).

  Pairs of test codes (of different classes when labelled); for a run without an
  encoder, pairs of random codes of the prior (class p mod K for pair p of a
  conditional generator).
  """
  s = ctx.settings
  if view.codes is not None:
    starts, ends = choose_pairs(view.codes.labels, s.num_pairs, seed=s.seed,
                                num_examples=view.codes.num_examples)
    z, y = view.codes.codes, view.codes.labels
    groups = ([None] * len(starts) if not view.run.conditional
              else [int(y[i]) for i in starts])
    split = view.codes.split
    names = [f"{example_label(i, y, split=split)} → {example_label(j, y, split=split)}"
             for i, j in zip(starts, ends, strict=True)]
    return z[starts], z[ends], groups, names, f"{split} codes"
  z = np.asarray(view.run.sample_codes(key_for(ctx, PAIR_KEY), 2 * s.num_pairs), np.float32)
  classes = view.run.exp.spec.num_classes if view.run.conditional else 0
  groups = [p % classes if classes else None for p in range(s.num_pairs)]
  names = [f"random codes {2 * p} → {2 * p + 1}" + ("" if g is None else f", class {g}")
           for p, g in enumerate(groups)]
  return z[0::2], z[1::2], groups, names, "random codes of the prior N(0, I)"


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
  """Linear and spherical paths between codes, and geodesics where decoding is one
  differentiable network (not a sampling chain), with decoded lengths."""
  view, s = ctx.main, ctx.settings
  if not view.is_image or (view.codes is not None and view.codes.num_examples < 2):
    return None
  z0, z1, groups, names, what = _endpoints(view, ctx)
  geodesics = view.run.family_impl.latent_geometry  # not through a whole sampling chain
  methods = METHODS if geodesics else tuple(m for m in METHODS if m != "geodesic")
  paths, lengths = _pair_paths(view, ctx, z0, z1, groups, methods)
  frames = path_frames(paths, z0, z1, s.num_frames)
  images, rows = [], []
  for p, name in enumerate(names):
    _, decode = view.decoder_for(groups[p])
    strips = {strip_label(m): decode(frames[m][p]) for m in paths}
    viz.interpolation_strips(strips, {strip_label(m): lengths[m][p] for m in paths},
                             title=name, path=ctx.path(f"interpolation_{p}.png"))
    images.append((ctx.path(f"interpolation_{p}.png"), name))
    row = {"pair": name}
    row.update({strip_label(m): float(lengths[m][p]) for m in paths})
    if geodesics:
      row["geodesic / linear"] = float(lengths["geodesic"][p] / lengths["linear"][p])
    rows.append(row)
  gif = ctx.path("interpolation.gif")
  viz.save_gif(_gif_frames(view, paths, z0, z1, groups[0], s.gif_frames), gif, fps=8,
               boomerang=True, pause_ends=2)
  images.append((gif, f"animated: {names[0]}, the paths side by side"))
  title = f"Interpolations: {methods_title(methods)}"
  if not geodesics:
    text = (
        f"Paths between {len(names)} pairs of {what}, each decoded at {s.num_frames} evenly "
        "spaced points: the straight line (linear) and spherical interpolation (slerp) of "
        "the noise latents, each point decoded by the sampler (deterministic DDIM: one "
        "image per latent). Inverted noise of real images has the norm of Gaussian noise, "
        "so slerp keeps every point at that norm, where the model was trained, while the "
        "straight line passes through latents of lower norm. The number right of each row "
        "is the path's decoded length. Unlike the other families' reports, geodesics are "
        "left out: decoding is a whole sampling chain.")
    return {"title": title, "text": text, "images": images, "table": rows}
  ratio = lengths["geodesic"] / lengths["linear"]
  shorter = int(np.sum(ratio < 1.0))
  text = (
      f"Paths between {len(names)} pairs of {what}, each decoded at {s.num_frames} "
      "evenly spaced points: the straight line (linear), spherical interpolation of "
      "the raw vectors (slerp), and the geodesic of the decoder's pull-back metric "
      f"({s.geodesic_points} points, {s.geodesic_steps} optimisation steps). The number "
      "right of each row is the path's decoded length: the sum of distances between "
      f"consecutive decoded images along the path resampled at {s.length_resolution} "
      f"points. The geodesic is shorter than the straight line for {shorter} of "
      f"{len(names)} pairs (geodesic / linear length {ratio.min():.3f}–{ratio.max():.3f}).")
  if view.codes is None:
    text += (" Codes of N(0, I) in many dimensions lie near the sphere of radius "
             "sqrt(D); the middle of the straight line between two of them is nearer the "
             "origin than almost every code the generator was trained on, which slerp "
             "avoids (White, 2016). Paths between real test images are in the inversion section.")
  if view.run.conditional:
    text += (" This model is conditional: every path is decoded with "
             + ("the label of its start." if view.codes is not None else "one class label."))
  return {"title": title, "text": text, "images": images, "table": rows}


def arithmetic(ctx: Context) -> dict | None:
  """Class attribute vectors and analogies; style x class for a conditional model."""
  view, s = ctx.main, ctx.settings
  if view.codes is None:
    return None  # Class arithmetic needs encoded labelled examples.
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
  if view.codes is None:
    return _generator_traversals(ctx)
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
  if not view.run.family_impl.latent_geometry:  # diffusion: a dimension is one noise pixel
    notes.append("No single-dimension traversals: each dimension of a diffusion model's "
                 "latent is one pixel of the noise image, with no meaning of its own. The "
                 "directions above are found from the inverted noise of real images.")
    if label is not None:
      notes.append(f"This model is conditional: every traversal is decoded as class {label}.")
    return {"text": "\n\n".join(notes), "images": images}
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


def _generator_traversals(ctx: Context) -> dict:
  """SeFa directions of the generator's first layer, and principal directions of the
  codes of inverted test images (a run without an encoder)."""
  view, s = ctx.main, ctx.settings
  inv = inverted_split(view, s, key_for(ctx, INVERT_KEY))
  label = None if inv.labels is None or not view.run.conditional else int(
      np.bincount(inv.labels).argmax())
  _, decode = view.decoder_for(label)
  shape = inv.inputs.shape[1:]
  images, notes = [], []

  def grid(tr, name, caption):
    pics = decode(tr.codes.reshape(-1, tr.codes.shape[-1]))
    viz.traversal_grid(pics.reshape(*tr.codes.shape[:2], *shape), tr.row_labels, tr.values,
                       value_fmt=tr.value_fmt, min_cell_px=_CELL_PX, path=ctx.path(name))
    images.append((ctx.path(name), caption))

  kernel = first_layer_kernel(view.run)
  if kernel is not None:
    base = np.asarray(view.run.sample_codes(key_for(ctx, SAMPLE_KEY), 1), np.float32)[0]
    sefa = sefa_traversal(kernel, num=s.num_pca, steps=s.traversal_steps,
                          sigmas=s.traversal_sigmas, base=base)
    grid(sefa, "traversal_sefa.png", "SeFa directions of the generator's first layer, "
                                     "from a random code")
    notes.append(
        f"SeFa (Shen & Zhou, 2021; latent_ops.sefa_directions): the unit directions n "
        f"that change the generator's first Dense layer output most, the top "
        f"eigenvectors of A Aᵀ for its kernel A [{kernel.shape[0]}, {kernel.shape[1]}] "
        f"(the rows that multiply z). The percentage is each eigenvalue's share. For a "
        f"linear first layer this is also what GANSpace's PCA of the first layer's "
        f"activations finds for z ~ N(0, I). Each row moves one random code "
        f"±{s.traversal_sigmas:g} prior standard deviations along a direction.")
  if inv.num_examples >= 2:
    pca, explained = pca_traversal(inv.codes, num=s.num_pca, steps=s.traversal_steps,
                                   sigmas=s.traversal_sigmas)
    grid(pca, "traversal_pca.png", "principal directions of the inverted test codes")
    notes.append(
        f"Principal directions (latent_ops.pca) of the codes of the {inv.num_examples} "
        f"inverted test examples (see the inversion section): where real data vary in "
        f"z. The top {len(pca.row_labels)} explain {100 * explained.sum():.0f}% of their "
        f"variance; each row moves their mean ±{s.traversal_sigmas:g} standard "
        "deviations along one. Random codes would give no directions: the prior is "
        "isotropic.")
  if label is not None:
    notes.append(f"This model is conditional: every traversal is decoded as class {label}.")
  return {"text": "\n\n".join(notes), "images": images}
