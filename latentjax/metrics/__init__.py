"""Evaluation metrics for generative models (NumPy on host, float64).

    from latentjax import metrics
    res = metrics.mode_coverage(samples, means, stddev)   # toy2d mode collapse
    metrics.disentanglement_scores(encode, metrics.sprites_sampler("32_lite"))
"""

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
from latentjax.metrics._information import (
    discrete_entropy,
    discrete_mutual_info,
    discretize,
)

__all__ = [
    "COVERAGE_KEYS",
    "DCI_KEYS",
    "SCORE_KEYS",
    "FactorSampler",
    "GridSampler",
    "array_sampler",
    "betavae_score",
    "dci",
    "dci_from_importance",
    "discrete_entropy",
    "discrete_mutual_info",
    "discretize",
    "disentanglement_scores",
    "factorvae_score",
    "mig",
    "mode_coverage",
    "mode_coverage_summary",
    "mode_histogram",
    "sample_codes_and_factors",
    "sap",
    "sprites_sampler",
]
