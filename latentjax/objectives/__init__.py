"""Losses and bounds: autoencoder reconstruction, (beta-)VAE negative ELBO, IWAE, GAN losses.

All log-densities are summed per example and reported in nats.

    loss_fn = objectives.make_vae_loss(vae, beta=4.0, likelihood="bernoulli")
    loss, (metrics, _) = loss_fn(params, {}, batch, keys)
    gan = objectives.get_gan_loss("non_saturating")
    d_loss, g_loss = gan.d_loss(d_real, d_fake), gan.g_loss(d_fake)
"""

from latentjax.objectives._adversarial import (
    GAN_LOSSES,
    GANLoss,
    get_gan_loss,
    gradient_norms,
    gradient_penalty,
    hinge_d_loss,
    hinge_g_loss,
    non_saturating_d_loss,
    non_saturating_g_loss,
    r1_penalty,
    register_gan_loss,
    wasserstein_d_loss,
    wasserstein_g_loss,
)
from latentjax.objectives._autoencoding import (
    binarize_batch,
    elbo_bound,
    iwae_bound,
    make_ae_loss,
    make_vae_loss,
)
from latentjax.objectives._classification import make_classifier_loss
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
    "GAN_LOSSES",
    "GANLoss",
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
    "get_gan_loss",
    "gradient_norms",
    "gradient_penalty",
    "hinge_d_loss",
    "hinge_g_loss",
    "iwae_bound",
    "likelihood_mean",
    "log_likelihood",
    "make_ae_loss",
    "make_classifier_loss",
    "make_vae_loss",
    "non_saturating_d_loss",
    "non_saturating_g_loss",
    "r1_penalty",
    "register_gan_loss",
    "standard_normal_log_density",
    "wasserstein_d_loss",
    "wasserstein_g_loss",
]
