"""Evaluation metrics for generative models and their latent spaces.

Pure functions on arrays: the networks some of them need (feature networks, decoders) are
passed in, and nothing here imports the training loop, the families or the evaluation of
runs (``tests/test_layering.py`` checks it). Statistics are computed in float64 on the host
(NumPy); distance-heavy parts run jitted.

    from latentjax import metrics
    metrics.mode_coverage(samples, means, stddev)            # toy2d mode collapse
    metrics.sample_quality(real_feats, fake_feats)           # FID, KID, PRDC
    metrics.frechet_distance(mu1, sigma1, mu2, sigma2)
    net = training.feature_network("digits", config=cfg)     # the features they compare
    metrics.likelihood_bounds(encode, decode, batches, key)  # ELBO, IWAE-k, bits/dim
    metrics.perceptual_path_length(key, decoder, None, codes_fn)
    metrics.cluster_scores(key, codes, labels)               # {"nmi", "ari", ...}
    metrics.distance_scores(key, {"geodesic": dist}, labels)  # k-medoids, k-NN accuracy
    metrics.disentanglement_scores(encode, metrics.sprites_sampler("32_lite"))
    feats = metrics.inception_feature_fn("pt_inception-2015-12-05.npz")   # FID features
"""

from latentjax.metrics._classes import (
    class_coverage,
    inception_score,
)
from latentjax.metrics._coverage import (
    COVERAGE_KEYS,
    mode_coverage,
    mode_coverage_summary,
    mode_histogram,
)
from latentjax.metrics._disentanglement import (
    DCI_KEYS,
    dci,
    dci_from_importance,
    mig,
    sap,
)
from latentjax.metrics._factor_samplers import (
    FactorSampler,
    GridSampler,
    array_sampler,
    sample_codes_and_factors,
    sprites_sampler,
)
from latentjax.metrics._factor_scores import (
    SCORE_KEYS,
    betavae_score,
    disentanglement_scores,
    factorvae_score,
)
from latentjax.metrics._feature_network import (
    FeatureNetwork,
    feature_network_dir,
)
from latentjax.metrics._frechet import (
    feature_statistics,
    fid_from_features,
    frechet_distance,
    frechet_distance_jax,
)
from latentjax.metrics._inception_features import inception_feature_fn
from latentjax.metrics._information import (
    discrete_entropy,
    discrete_mutual_info,
    discretize,
)
from latentjax.metrics._kid import kid
from latentjax.metrics._latent import (
    cluster_scores,
    geodesic_length_ratio,
    linear_probe_accuracy,
    perceptual_path_length,
)
from latentjax.metrics._likelihood import likelihood_bounds
from latentjax.metrics._prdc import (
    PRDC_KEYS,
    prdc,
)
from latentjax.metrics._riemannian import (
    distance_scores,
    euclidean_distances,
    kmedoids_scores,
    knn_accuracy,
)
from latentjax.metrics._sample_quality import (
    SAMPLE_QUALITY_KEYS,
    sample_quality,
)

__all__ = [
    "COVERAGE_KEYS",
    "DCI_KEYS",
    "FactorSampler",
    "FeatureNetwork",
    "GridSampler",
    "PRDC_KEYS",
    "SAMPLE_QUALITY_KEYS",
    "SCORE_KEYS",
    "array_sampler",
    "betavae_score",
    "class_coverage",
    "cluster_scores",
    "dci",
    "dci_from_importance",
    "discrete_entropy",
    "discrete_mutual_info",
    "discretize",
    "disentanglement_scores",
    "distance_scores",
    "euclidean_distances",
    "factorvae_score",
    "feature_network_dir",
    "feature_statistics",
    "fid_from_features",
    "frechet_distance",
    "frechet_distance_jax",
    "geodesic_length_ratio",
    "inception_feature_fn",
    "inception_score",
    "kid",
    "kmedoids_scores",
    "knn_accuracy",
    "likelihood_bounds",
    "linear_probe_accuracy",
    "mig",
    "mode_coverage",
    "mode_coverage_summary",
    "mode_histogram",
    "perceptual_path_length",
    "prdc",
    "sample_codes_and_factors",
    "sample_quality",
    "sap",
    "sprites_sampler",
]


# Moved to the layer that trains and loads runs; a clear error rather than an upward import.
_MOVED = {"feature_network": "training.feature_network",
          "load_feature_network": "training.load_feature_network"}


def __getattr__(name):
  if name in _MOVED:
    raise AttributeError(
        f"latentjax.metrics.{name} moved to latentjax.{_MOVED[name]} (it trains or loads a "
        f"run, which metrics, pure functions on arrays, do not)")
  raise AttributeError(f"module 'latentjax.metrics' has no attribute {name!r}")
