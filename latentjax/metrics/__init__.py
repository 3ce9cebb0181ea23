"""Evaluation metrics for generative models (NumPy on host, float64).

    from latentjax import metrics
    res = metrics.mode_coverage(samples, means, stddev)   # toy2d mode collapse
    feats = metrics.inception_feature_fn("pt_inception-2015-12-05.npz")   # FID features
"""

from latentjax.metrics._coverage import (
    COVERAGE_KEYS,
    mode_coverage,
    mode_coverage_summary,
    mode_histogram,
)
from latentjax.metrics._inception_features import inception_feature_fn

__all__ = [
    "COVERAGE_KEYS",
    "inception_feature_fn",
    "mode_coverage",
    "mode_coverage_summary",
    "mode_histogram",
]
