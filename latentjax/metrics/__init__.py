"""Evaluation metrics for generative models (NumPy on host, float64; JAX for distances).

    from latentjax import metrics
    res = metrics.mode_coverage(samples, means, stddev)   # toy2d mode collapse
    metrics.sample_quality(real_features, fake_features)  # FID, KID, PRDC
    metrics.inception_score(probs), metrics.class_coverage(labels, num_classes)
"""

from latentjax.metrics._classes import class_coverage, inception_score
from latentjax.metrics._coverage import (
    COVERAGE_KEYS,
    mode_coverage,
    mode_coverage_summary,
    mode_histogram,
)
from latentjax.metrics._frechet import (
    feature_statistics,
    fid_from_features,
    frechet_distance,
    frechet_distance_jax,
)
from latentjax.metrics._kid import kid
from latentjax.metrics._prdc import PRDC_KEYS, prdc
from latentjax.metrics._sample_quality import SAMPLE_QUALITY_KEYS, sample_quality

__all__ = [
    "COVERAGE_KEYS",
    "PRDC_KEYS",
    "SAMPLE_QUALITY_KEYS",
    "class_coverage",
    "feature_statistics",
    "fid_from_features",
    "frechet_distance",
    "frechet_distance_jax",
    "inception_score",
    "kid",
    "mode_coverage",
    "mode_coverage_summary",
    "mode_histogram",
    "prdc",
    "sample_quality",
]
