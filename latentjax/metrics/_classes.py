"""Classifier-based sample quality: Inception Score and class coverage.

    metrics.inception_score(probs, num_splits=10)       # {"is_mean", "is_std"}
    metrics.class_coverage(predicted_labels, 10)        # classes hit, KL to uniform
    metrics.class_coverage(predicted, 10, reference_labels=train_labels)

``probs`` are a classifier's softmax outputs p(y|x) on generated samples (Inception on
ImageNet classes for the published Inception Score, or any classifier of the data set's
classes); ``predicted_labels`` their argmax. NumPy float64 on host.
"""

import numpy as np

from latentjax.metrics._features import check_positive_int


def _probabilities(probs) -> np.ndarray:
  try:
    p = np.asarray(probs, dtype=np.float64)
  except (TypeError, ValueError) as err:
    raise TypeError(f"`probs` must be a numeric [N, C] array, got {type(probs).__name__}") from err
  if p.ndim != 2 or p.shape[1] < 1:
    raise ValueError(f"`probs` must be [N, C] (rank 2, C >= 1), got shape {p.shape}")
  if not np.isfinite(p).all():
    raise ValueError("`probs` holds NaN or inf values")
  if (p < 0).any():
    raise ValueError(f"`probs` must be non-negative, got a minimum of {p.min()}")
  sums = p.sum(axis=1)
  worst = int(np.argmax(np.abs(sums - 1.0))) if len(sums) else 0
  if len(sums) and abs(sums[worst] - 1.0) > 1e-3:
    raise ValueError(f"`probs` rows must sum to 1 (softmax outputs); row {worst} sums to "
                     f"{sums[worst]}")
  return p


def inception_score(probs, num_splits: int = 10) -> dict:
  """Inception Score (Salimans et al., 2016): exp(E_x KL(p(y|x) || p(y))) per split.

  The rows are cut into ``num_splits`` contiguous splits of (nearly) equal size
  (``np.array_split``: no row is dropped); in each, p(y) is the mean of its rows and the
  score is exp of the mean over its rows of sum_c p(c|x) log(p(c|x) / p(c)), with
  0 log 0 = 0. The score is 1 when every sample gets the same prediction and C when
  the predictions are confident (one-hot) and uniform over C classes.

  Args:
    probs: [N, C] class probabilities of generated samples; rows non-negative, summing
      to 1 (within 1e-3), N >= num_splits.
    num_splits: number of splits, >= 1 (10 in the original evaluation).

  Returns:
    ``{"is_mean": float, "is_std": float}``: mean and standard deviation (ddof = 0)
    of the per-split scores.

  Raises:
    ValueError: wrong rank, NaN or inf, negative entries, rows not summing to 1,
      num_splits < 1 or above N.

  Example:
    >>> inception_score(np.eye(4)[np.arange(8) % 4], num_splits=2)
    {'is_mean': 4.0, 'is_std': 0.0}
  """
  p = _probabilities(probs)
  num_splits = check_positive_int("num_splits", num_splits)
  if num_splits > p.shape[0]:
    raise ValueError(f"`num_splits` must be at most the number of samples N = {p.shape[0]} "
                     f"of `probs`, got {num_splits}")
  scores = []
  for part in np.array_split(p, num_splits, axis=0):
    marginal = part.mean(axis=0)
    # The marginal is > 0 wherever a row is, so the logarithms below are finite.
    ratio = np.where(part > 0, part / np.where(marginal > 0, marginal, 1.0)[None, :], 1.0)
    kl = np.sum(part * np.log(ratio), axis=1)
    scores.append(float(np.exp(np.mean(kl))))
  scores = np.asarray(scores)
  return {"is_mean": float(np.mean(scores)), "is_std": float(np.std(scores))}


def _labels(name: str, labels, num_classes: int) -> np.ndarray:
  arr = np.asarray(labels)
  if arr.ndim != 1:
    raise ValueError(f"`{name}` must be [N] (rank 1), got shape {arr.shape}")
  if arr.shape[0] < 1:
    raise ValueError(f"`{name}` must hold N >= 1 labels, got shape {arr.shape}")
  if not np.issubdtype(arr.dtype, np.integer):
    raise ValueError(f"`{name}` must hold integer class labels, got dtype {arr.dtype}")
  low, high = int(arr.min()), int(arr.max())
  if low < 0 or high >= num_classes:
    raise ValueError(f"`{name}` must lie in [0, num_classes = {num_classes}), got values "
                     f"in [{low}, {high}]")
  return arr.astype(np.int64)


def class_coverage(predicted_labels, num_classes: int, reference_labels=None, *,
                   pseudo_count: float = 1.0) -> dict:
  """Classes the generated samples hit, and KL of their class histogram to a reference.

  ``class_kl`` is KL(q || p) = sum_c q_c log(q_c / p_c) in nats, q the normalised
  histogram of ``predicted_labels`` and p the reference: uniform (1 / num_classes) when
  ``reference_labels`` is None, else the histogram of ``reference_labels`` smoothed by
  adding ``pseudo_count`` to every class count (Laplace smoothing), so that a class the
  reference lacks gives a large finite term instead of inf. q is not smoothed: a class
  no sample hits contributes 0 (0 log 0 = 0) and never inf. With a uniform reference
  ``class_kl`` is log(num_classes) - H(q): 0 for a balanced histogram, log(num_classes)
  when every sample has one class.

  Args:
    predicted_labels: [N] int class predictions of generated samples, in
      [0, num_classes), N >= 1.
    num_classes: the number of classes C >= 1.
    reference_labels: optional [R] int labels of real data (e.g. the training labels),
      in [0, num_classes), R >= 1.
    pseudo_count: count added to each class of the reference histogram, >= 0 (0: no
      smoothing, so KL may be inf). Unused for the uniform reference.

  Returns:
    ``{"classes_covered": int, "class_coverage": float, "class_kl": float}``: classes
    with at least one predicted sample, that number over num_classes, and the KL.

  Raises:
    ValueError: labels not rank 1, empty, not integers or out of range; num_classes
      not an integer >= 1; pseudo_count negative or not finite.

  Example:
    >>> class_coverage(np.array([0, 0, 1, 1]), 4)
    {'classes_covered': 2, 'class_coverage': 0.5, 'class_kl': 0.6931471805599453}
  """
  num_classes = check_positive_int("num_classes", num_classes)
  if not (np.isscalar(pseudo_count) and np.isfinite(pseudo_count) and pseudo_count >= 0):
    raise ValueError(f"`pseudo_count` must be a finite number >= 0, got {pseudo_count!r}")
  predicted = _labels("predicted_labels", predicted_labels, num_classes)
  counts = np.bincount(predicted, minlength=num_classes).astype(np.float64)
  q = counts / counts.sum()
  if reference_labels is None:
    p = np.full(num_classes, 1.0 / num_classes)
  else:
    reference = _labels("reference_labels", reference_labels, num_classes)
    ref_counts = np.bincount(reference, minlength=num_classes) + float(pseudo_count)
    p = ref_counts / ref_counts.sum()
  hit = q > 0
  with np.errstate(divide="ignore"):
    kl = float(np.sum(q[hit] * (np.log(q[hit]) - np.log(p[hit]))))
  covered = int(np.count_nonzero(hit))
  return {"classes_covered": covered, "class_coverage": covered / num_classes,
          "class_kl": max(kl, 0.0)}
