"""Evaluation metrics for generative models (NumPy on host, float64).

    from latentjax import metrics
    res = metrics.mode_coverage(samples, means, stddev)   # toy2d mode collapse
"""

from latentjax.metrics._coverage import (
    COVERAGE_KEYS,
    mode_coverage,
    mode_coverage_summary,
    mode_histogram,
)

__all__ = [
    "COVERAGE_KEYS",
    "mode_coverage",
    "mode_coverage_summary",
    "mode_histogram",
]
