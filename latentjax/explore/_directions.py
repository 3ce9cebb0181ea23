"""Meaningful moves in latent space: class attributes, analogies, directions, traversals.

Everything returns codes (numpy, [..., D]) plus the labels a picture needs; decoding
and drawing happen in the report or the notebook.

    vecs = class_attribute_vectors(codes.codes, codes.labels)          # class -> [D]
    tr = pca_traversal(codes.codes, num=4, steps=9, sigmas=2.5)          # Traversal
    tr.codes.shape                                                       # (4, 9, D)
    sup = supervised_traversal(train_codes, codes, positive=7, negative=1, steps=9)
    sup.accuracy, sup.traversal.codes.shape                               # 0.98, (2, 9, D)
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo


@dataclasses.dataclass(frozen=True)
class Traversal:
  """Codes moved along several directions.

  Attributes:
    codes: [R, V, D]: row r moves the base code along direction r to V values.
    row_labels: R labels.
    values: [V] column values (in units of each row's scale).
    value_fmt: how to write a column value.
  """

  codes: np.ndarray
  row_labels: list[str]
  values: np.ndarray
  value_fmt: str = "{:+.2g}σ"


def _along(base: np.ndarray, directions, scales, values: np.ndarray) -> np.ndarray:
  """[R, V, D]: `latent_ops.traverse` of `base` along each direction (a [D] vector or an
  int dimension) to ``values * scale``."""
  rows = []
  for d, s in zip(directions, scales, strict=True):
    d = d if isinstance(d, int) else jnp.asarray(d)
    rows.append(np.asarray(lo.traverse(jnp.asarray(base), d,
                                       jnp.asarray(values * s, jnp.float32))))
  return np.stack(rows).astype(np.float32)


def pca_traversal(codes, *, num: int, steps: int, sigmas: float,
                  base=None) -> tuple[Traversal, np.ndarray]:
  """Traversals along the top principal directions of the codes (`latent_ops.pca`).

  Args:
    codes: [N, D] codes, N >= 2.
    num: how many principal directions (capped at min(N, D)).
    steps: values per row, evenly spaced in [-sigmas, sigmas] standard deviations of
      the codes along each direction.
    sigmas: half-range in standard deviations.
    base: [D] code to move (default: the mean code).

  Returns:
    (the `Traversal` [num, steps, D], explained-variance fractions [num]).
  """
  z = np.asarray(codes, np.float32)
  num = int(min(num, *z.shape))
  res = lo.pca(jnp.asarray(z), num)
  dirs = np.asarray(res.directions, np.float32)
  scales = np.sqrt(np.asarray(res.explained_variance, np.float64))
  explained = np.asarray(res.explained_variance_ratio, np.float64)
  base = np.asarray(res.mean, np.float32) if base is None else np.asarray(base, np.float32)
  values = np.linspace(-sigmas, sigmas, steps)
  labels = [f"PC{k + 1} ({100 * explained[k]:.0f}% var.)" for k in range(num)]
  return Traversal(_along(base, dirs, scales, values), labels, values), explained


def active_dimensions(codes) -> tuple[np.ndarray, np.ndarray]:
  """Latent dimensions ordered by the variance of the codes (posterior means) along them.

  Burda et al. (2016) call a VAE dimension *active* when this variance exceeds 0.01.

  Returns:
    (dimension indices [D] most active first, their variances [D]).
  """
  var = np.asarray(codes, np.float64).var(0)
  order = np.argsort(-var, kind="stable")
  return order, var[order]


def dimension_traversal(codes, *, num: int, steps: int, sigmas: float, prior: bool,
                        base=None, max_inactive: int = 2,
                        threshold: float = 0.01) -> Traversal:
  """Traversals of single latent dimensions, the most active first.

  Args:
    codes: [N, D] codes.
    num: at most this many dimensions.
    steps: values per row.
    sigmas: half-range: in prior standard deviations (1) when `prior`, else in the
      codes' standard deviation along each dimension.
    prior: VAE codes (the prior N(0, I) sets the scale and the base is 0).
    base: [D] code to move (default: 0 for a VAE, the mean code otherwise).
    max_inactive: at most this many inactive dimensions (code variance <= `threshold`)
      are shown, after the active ones: they all look the same.
    threshold: the activity cut-off on the variance of the codes.

  Returns:
    The `Traversal`; row labels give each dimension's code variance.
  """
  z = np.asarray(codes, np.float32)
  order, var = active_dimensions(z)
  active = int(np.sum(var > threshold))
  num = int(min(num, max(1, active + max_inactive), z.shape[1]))
  dims, var = order[:num], var[:num]
  scales = np.ones(num) if prior else np.sqrt(np.maximum(var, 1e-12))
  if base is None:
    base = np.zeros(z.shape[1], np.float32) if prior else z.mean(0)
  values = np.linspace(-sigmas, sigmas, steps)
  labels = [f"z{d} (var {v:.2f})" + ("" if v > threshold else ", inactive")
            for d, v in zip(dims, var, strict=True)]
  fmt = "{:+.2g}" if prior else "{:+.2g}σ"
  return Traversal(_along(np.asarray(base, np.float32), [int(d) for d in dims], scales,
                          values), labels, values, fmt)


def class_attribute_vectors(codes, labels) -> dict[int, np.ndarray]:
  """For each class c, `latent_ops.attribute_vector`: mean(z[y == c]) - mean(z[y != c])."""
  z = jnp.asarray(codes, jnp.float32)
  y = np.asarray(labels)
  return {int(c): np.asarray(lo.attribute_vector(z, jnp.asarray(y == c)), np.float32)
          for c in np.unique(y)}


def class_means(codes, labels) -> dict[int, np.ndarray]:
  """Mean code [D] of each class."""
  z, y = np.asarray(codes, np.float32), np.asarray(labels)
  return {int(c): z[y == c].mean(0) for c in np.unique(y)}


def attribute_rows(codes, labels, scales, *, num_rows: int, seed: int = 0):
  """Codes of examples with a multiple of another class's attribute vector added.

  Row r takes an example of class a and adds s * v(b) for each scale s, where v(b)
  is the attribute vector of a different class b.

  Returns:
    (codes [R, S, D], row labels [R], source indices [R]).
  """
  z, y = np.asarray(codes, np.float32), np.asarray(labels)
  vecs = class_attribute_vectors(z, y)
  classes = np.array(sorted(vecs))
  rng = np.random.RandomState(seed)
  order = rng.permutation(classes)
  rows, names, sources = [], [], []
  s = jnp.asarray(scales, jnp.float32)
  for r in range(min(num_rows, classes.size)):
    a, b = int(order[r]), int(order[(r + 1) % classes.size])
    i = int(rng.choice(np.flatnonzero(y == a)))
    start = jnp.tile(jnp.asarray(z[i])[None], (s.shape[0], 1))
    rows.append(np.asarray(lo.move_along(start, jnp.asarray(vecs[b]), s, normalize=False)))
    names.append(f"a {a} + s·v({b})")
    sources.append(i)
  return np.stack(rows), names, np.asarray(sources)


def class_analogies(codes, labels, *, num: int, seed: int = 0):
  """Analogies a : b :: c : ?, with a, b class means and c an example of a's class.

  The answer `latent_ops.analogy(a, b, c)` = c + (b - a) should show c's style
  written as class b.

  Returns:
    (a, b, c, result) codes [R, D] each, row labels [R], and c's indices [R].
  """
  z, y = np.asarray(codes, np.float32), np.asarray(labels)
  means = class_means(z, y)
  classes = np.array(sorted(means))
  rng = np.random.RandomState(seed + 1)
  order = rng.permutation(classes)
  a, b, c, names, idx = [], [], [], [], []
  for r in range(min(num, classes.size)):
    ca, cb = int(order[r]), int(order[(r + 3) % classes.size])
    if ca == cb:
      cb = int(order[(r + 1) % classes.size])
    i = int(rng.choice(np.flatnonzero(y == ca)))
    a.append(means[ca])
    b.append(means[cb])
    c.append(z[i])
    names.append(f"{ca} → {cb}")
    idx.append(i)
  a, b, c = np.stack(a), np.stack(b), np.stack(c)
  result = np.asarray(lo.analogy(jnp.asarray(a), jnp.asarray(b), jnp.asarray(c)), np.float32)
  return a, b, c, result, names, np.asarray(idx)


@dataclasses.dataclass(frozen=True)
class SupervisedDirection:
  """A direction that separates two groups of labelled codes, and a traversal along it.

  Attributes:
    direction: [D] unit vector pointing from the negative to the positive group.
    scale: the gap between the two groups' mean projections on it (training codes):
      moving a code by one `scale` along `direction` moves it from one group's mean
      to the other's.
    threshold: the midpoint of the two groups' mean projections (training codes).
    train_accuracy: accuracy of the logistic regression on the training codes.
    accuracy: held-out accuracy of "projection > threshold" as a classifier.
    traversal: rows start at held-out negative examples and move along the direction,
      column values in units of `scale`.
    name: "1 → 7" style description.
  """

  direction: np.ndarray
  scale: float
  threshold: float
  train_accuracy: float
  accuracy: float
  traversal: Traversal
  name: str


def supervised_traversal(train, test, *, positive: int, negative: int | None = None,
                         steps: int, span: tuple[float, float] = (-0.5, 1.5),
                         num_rows: int = 2, min_variance: float = 0.01,
                         seed: int = 0) -> SupervisedDirection:
  """Fits a supervised direction on training codes and scores it on held-out ones.

  Args:
    train: `LatentCodes` the direction is fitted on: the unit normal of a logistic
      regression (`latent_ops.supervised_direction`).
    test: held-out `LatentCodes` for the accuracy and the traversal.
    positive: the label of the positive group.
    negative: the label of the negative group (None: every other label).
    steps: values per traversal row.
    span: the rows move from ``span[0]`` to ``span[1]`` times the gap between the two
      groups' means: 0 is the negative example itself, 1 the distance to the positive
      group's mean.
    num_rows: traversal rows (negative examples moved towards the positive group).
    min_variance: dimensions whose training codes vary less than this are left out of
      the fit (the direction is 0 along them). A VAE's inactive dimensions are near
      constant; the classifier standardises its inputs, which would blow their noise
      up into the dominant components of a direction the decoder ignores.
    seed: numpy seed choosing the examples.

  Returns:
    The `SupervisedDirection`.

  Raises:
    ValueError: if either split lacks labels or examples of a group.
  """
  if train.labels is None or test.labels is None:
    raise ValueError("`train` and `test` must be labelled codes")

  def groups(codes):
    pos = codes.labels == positive
    neg = (codes.labels == negative) if negative is not None else ~pos
    return pos, neg

  (tp, tn), (hp, hn) = groups(train), groups(test)
  for name, (p, n) in {"train": (tp, tn), "test": (hp, hn)}.items():
    if not p.any() or not n.any():
      raise ValueError(f"`{name}` must hold codes of both groups ({positive} vs "
                       f"{'rest' if negative is None else negative})")
  keep = tp | tn
  used = train.codes[keep].var(0) > min_variance
  if not used.any():
    used = np.ones_like(used)
  fit, train_accuracy = lo.supervised_direction(jnp.asarray(train.codes[keep][:, used]),
                                                jnp.asarray(tp[keep]))
  d = np.zeros(train.codes.shape[1], np.float32)
  d[used] = np.asarray(fit, np.float32)
  proj_train = train.codes @ d
  pos_mean, neg_mean = float(proj_train[tp].mean()), float(proj_train[tn].mean())
  threshold = 0.5 * (pos_mean + neg_mean)
  gap = max(pos_mean - neg_mean, 1e-6)
  held = hp | hn
  accuracy = float(np.mean(((test.codes @ d)[held] > threshold) == hp[held]))
  rng = np.random.RandomState(seed)
  negatives = np.flatnonzero(hn)
  rows = rng.choice(negatives, size=min(num_rows, negatives.size), replace=False)
  values = np.linspace(span[0], span[1], steps)
  codes = np.stack([_along(test.codes[i], d[None], np.array([gap]), values)[0]
                    for i in rows])
  other = "rest" if negative is None else str(negative)
  name = f"{other} → {positive}"
  labels = [f"a {test.labels[i]} along {name}" for i in rows]
  return SupervisedDirection(direction=d, scale=gap, threshold=threshold,
                             train_accuracy=float(train_accuracy), accuracy=accuracy,
                             traversal=Traversal(codes, labels, values, "{:.2g}Δ"),
                             name=name)
