"""Flax linen modules: encoders, decoders and the autoencoder composites.

    from latentjax import models
    vae = models.build_model("vae", architecture="mlp", latent_dim=16,
                             hidden_dims=(256, 128), channels=(), input_shape=(8, 8, 1))
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
from latentjax.models._layers import MLP

__all__ = [
    "ARCHITECTURES",
    "AutoEncoder",
    "ConvDecoder",
    "ConvEncoder",
    "MLP",
    "MLPDecoder",
    "MLPEncoder",
    "VAE",
    "build_model",
    "fit_code_gaussian",
    "register_family",
    "registered_families",
    "sample_code_gaussian",
]
