"""Mode coverage of samples from a known mixture (the ``toy2d`` ring and grid benchmarks).

The standard GAN mode-collapse measures of Metz et al. (2017), VEEGAN (Srivastava et al.,
2017) and PacGAN (Lin et al., 2018), for equal-weight mixtures of isotropic Gaussians::

    from latentjax.data._toy2d import toy2d_modes, toy2d_stddev
    res = metrics.mode_coverage(samples, toy2d_modes("ring8"), toy2d_stddev("ring8"))
    res["modes_covered"], res["high_quality_fraction"], res["reverse_kl"]
    metrics.mode_coverage_summary([res_seed0, res_seed1, res_seed2])   # mean and s.e.

Computed in float64 NumPy on host: these are evaluation numbers, not training losses.
"""

import math
from collections.abc import Mapping, Sequence

import numpy as np

from latentjax.metrics._features import as_matrix

COVERAGE_KEYS = ("modes_covered", "high_quality_fraction", "reverse_kl")


def mode_histogram(samples, means, stddev: float, threshold: float = 3.0) -> np.ndarray:
  """Counts of high-quality samples by nearest mode.

  Args:
    samples: [N, D] points.
    means: [K, D] mode centres.
    stddev: the components' standard deviation (per coordinate), > 0.
    threshold: a sample is high quality when its Euclidean distance to the nearest
      mean is at most ``threshold * stddev``.

  Returns:
    int64 [K]: for each mode, the number of high-quality samples nearest to it (ties go
    to the lower mode index).

  Raises:
    ValueError: wrong ranks, mismatched D, N or K < 1, stddev or threshold not > 0.
  """
  samples = as_matrix("samples", samples, "[N, D]", finite=False)
  means = as_matrix("means", means, "[K, D]", finite=False)
  if samples.shape[0] < 1:
    raise ValueError(f"`samples` must hold N >= 1 points, got shape {samples.shape}")
  if means.shape[0] < 1:
    raise ValueError(f"`means` must hold K >= 1 modes, got shape {means.shape}")
  if samples.shape[1] != means.shape[1]:
    raise ValueError(
        f"`means` must be [K, D] with D = {samples.shape[1]} (the last axis of `samples`), "
        f"got shape {means.shape}")
  if not np.isscalar(stddev) and np.ndim(stddev) != 0:
    raise ValueError(f"`stddev` must be a positive scalar, got shape {np.shape(stddev)}")
  if not float(stddev) > 0:
    raise ValueError(f"`stddev` must be > 0, got {stddev}")
  if not float(threshold) > 0:
    raise ValueError(f"`threshold` must be > 0, got {threshold}")
  # Nearest mean from [N, K] squared distances (no [N, K, D] array), then the exact
  # distance to it, free of the expansion's cancellation.
  sq = (np.sum(samples**2, axis=1)[:, None] - 2.0 * samples @ means.T
        + np.sum(means**2, axis=1)[None, :])
  nearest = np.argmin(sq, axis=1)
  dist = np.linalg.norm(samples - means[nearest], axis=1)
  good = dist <= float(threshold) * float(stddev)
  return np.bincount(nearest[good], minlength=means.shape[0]).astype(np.int64)


def mode_coverage(samples, means, stddev: float, threshold: float = 3.0) -> dict:
  """Modes covered, fraction of high-quality samples, and reverse KL to uniform.

  A sample is *high quality* when its Euclidean distance to the nearest mean is at most
  ``threshold * stddev``; a mode is *covered* when at least one high-quality sample is
  nearest to it. ``reverse_kl`` is KL(q || p) between q, the normalised histogram of the
  high-quality samples over their nearest modes, and p = 1/K, the true mixture weights:
  sum_k q_k log(K q_k), in nats, with 0 log 0 = 0. This is the "reverse KL" of PacGAN's
  2-D ring/grid tables (whose evaluation code histograms the samples within 3 standard
  deviations of their nearest mode). Empty modes need no smoothing (p has no zeros): the
  value is 0 for a uniform histogram and log K when every high-quality sample sits at one
  mode. It is NaN when no sample is high quality (q is then undefined); look at
  ``high_quality_fraction`` first.

  Args:
    samples: [N, D] generated points, N >= 1.
    means: [K, D] mode centres, e.g. ``toy2d_modes("ring8")``.
    stddev: the components' standard deviation (per coordinate), > 0, e.g.
      ``toy2d_stddev("ring8")``.
    threshold: the high-quality radius in standard deviations (3 in the papers).

  Returns:
    ``{"modes_covered": int, "high_quality_fraction": float, "reverse_kl": float}``.

  Raises:
    ValueError: wrong ranks, mismatched D, N or K < 1, stddev or threshold not > 0.

  Example:
    >>> mode_coverage(toy2d_modes("ring8"), toy2d_modes("ring8"), 0.02)
    {'modes_covered': 8, 'high_quality_fraction': 1.0, 'reverse_kl': 0.0}
  """
  counts = mode_histogram(samples, means, stddev, threshold)
  n = np.shape(samples)[0]
  total = int(counts.sum())
  if total == 0:
    reverse_kl = math.nan
  else:
    q = counts[counts > 0] / total
    reverse_kl = float(max(np.sum(q * np.log(q * len(counts))), 0.0))
  return {
      "modes_covered": int(np.count_nonzero(counts)),
      "high_quality_fraction": total / n,
      "reverse_kl": reverse_kl,
  }


def mode_coverage_summary(results: Sequence[Mapping[str, float]]) -> dict:
  """Mean and standard error of ``mode_coverage`` results over runs (e.g. seeds).

  Args:
    results: one ``mode_coverage`` dict per run.

  Returns:
    ``{key: {"mean": float, "stderr": float}}`` for each of ``modes_covered``,
    ``high_quality_fraction`` and ``reverse_kl``, plus ``"num_runs": int``. The standard
    error is the sample standard deviation (ddof = 1) over sqrt(num_runs): NaN for a
    single run. A NaN ``reverse_kl`` in any run (no high-quality samples) makes its
    mean NaN.

  Raises:
    ValueError: if ``results`` is empty or a result lacks a key.
  """
  results = list(results)
  if not results:
    raise ValueError("`results` must hold at least one mode_coverage result, got none")
  summary: dict = {"num_runs": len(results)}
  for key in COVERAGE_KEYS:
    missing = [i for i, r in enumerate(results) if key not in r]
    if missing:
      raise ValueError(f"`results`[{missing[0]}] has no {key!r}; expected keys "
                       f"{', '.join(COVERAGE_KEYS)}")
    values = np.asarray([float(r[key]) for r in results], np.float64)
    mean = float(np.mean(values))
    stderr = (float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1
              else math.nan)
    summary[key] = {"mean": mean, "stderr": stderr}
  return summary
