"""Losses and bounds: autoencoder reconstruction, (beta-)VAE negative ELBO, IWAE.

All log-densities are summed per example and reported in nats.

    loss_fn = objectives.make_vae_loss(vae, beta=4.0, likelihood="bernoulli")
    loss, (metrics, _) = loss_fn(params, {}, batch, keys)
"""

from latentjax.objectives._autoencoding import (
    binarize_batch,
    elbo_bound,
    iwae_bound,
    make_ae_loss,
    make_vae_loss,
)
from latentjax.objectives._likelihoods import (
    LIKELIHOODS,
    bernoulli_log_likelihood,
    binarize,
    binarize_per_example,
    continuous_bernoulli_log_likelihood,
    continuous_bernoulli_mean,
    describe_bound,
    describe_likelihood,
    diag_gaussian_log_density,
    gaussian_kl,
    gaussian_log_likelihood,
    likelihood_mean,
    log_likelihood,
    standard_normal_log_density,
)

__all__ = [
    "LIKELIHOODS",
    "bernoulli_log_likelihood",
    "binarize",
    "binarize_batch",
    "binarize_per_example",
    "continuous_bernoulli_log_likelihood",
    "continuous_bernoulli_mean",
    "describe_bound",
    "describe_likelihood",
    "diag_gaussian_log_density",
    "elbo_bound",
    "gaussian_kl",
    "gaussian_log_likelihood",
    "iwae_bound",
    "likelihood_mean",
    "log_likelihood",
    "make_ae_loss",
    "make_vae_loss",
    "standard_normal_log_density",
]
