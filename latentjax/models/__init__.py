"""Flax linen modules: encoders, decoders, the autoencoder composites and GAN networks.

    from latentjax import models
    vae = models.build_model("vae", architecture="mlp", latent_dim=16,
                             hidden_dims=(256, 128), channels=(), input_shape=(8, 8, 1))
    g, d = models.DCGANGenerator(), models.DCGANDiscriminator()   # dcgan32
"""

from latentjax.models._autoencoders import VAE, AutoEncoder
from latentjax.models._code_gaussian import fit_code_gaussian, sample_code_gaussian
from latentjax.models._decoders import ConvDecoder, MLPDecoder
from latentjax.models._encoders import ConvEncoder, MLPEncoder
from latentjax.models._factory import (
    ARCHITECTURES,
    build_model,
    register_family,
    registered_families,
)
from latentjax.models._gan import CONV_IMPLS, OUTPUT_ACTIVATIONS, DCGANGenerator, MLPGenerator
from latentjax.models._gan_discriminators import (
    SPECTRAL_STATS,
    DCGANDiscriminator,
    MLPDiscriminator,
)
from latentjax.models._layers import MLP

__all__ = [
    "ARCHITECTURES",
    "AutoEncoder",
    "CONV_IMPLS",
    "ConvDecoder",
    "ConvEncoder",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLP",
    "MLPDecoder",
    "MLPDiscriminator",
    "MLPEncoder",
    "MLPGenerator",
    "OUTPUT_ACTIVATIONS",
    "SPECTRAL_STATS",
    "VAE",
    "build_model",
    "fit_code_gaussian",
    "register_family",
    "registered_families",
    "sample_code_gaussian",
]
