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
from latentjax.metrics._feature_network import (
    FeatureNetwork,
    feature_network,
    feature_network_dir,
    load_feature_network,
)

__all__ = [
    "COVERAGE_KEYS",
    "FeatureNetwork",
    "feature_network",
    "feature_network_dir",
    "load_feature_network",
    "mode_coverage",
    "mode_coverage_summary",
    "mode_histogram",
]
