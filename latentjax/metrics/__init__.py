"""Evaluation metrics for generative models and their latent spaces (host NumPy, floats).

    from latentjax import metrics
    res = metrics.mode_coverage(samples, means, stddev)   # toy2d mode collapse
    res = metrics.perceptual_path_length(key, decoder, None, codes_fn)
    res = metrics.cluster_scores(key, codes, labels)      # {"nmi", "ari", "num_clusters"}
    res = metrics.likelihood_bounds(encode, decode, batches, key)   # ELBO, IWAE-k
"""

from latentjax.metrics._coverage import (
    COVERAGE_KEYS,
    mode_coverage,
    mode_coverage_summary,
    mode_histogram,
)
from latentjax.metrics._latent import (
    cluster_scores,
    geodesic_length_ratio,
    linear_probe_accuracy,
    perceptual_path_length,
)
from latentjax.metrics._likelihood import likelihood_bounds

__all__ = [
    "COVERAGE_KEYS",
    "cluster_scores",
    "geodesic_length_ratio",
    "likelihood_bounds",
    "linear_probe_accuracy",
    "mode_coverage",
    "mode_coverage_summary",
    "mode_histogram",
    "perceptual_path_length",
]
