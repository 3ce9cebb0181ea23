"""Flax linen modules: encoders, decoders, autoencoders, GAN networks and the diffusion U-Net.

    from latentjax import models
    vae = models.build_model("vae", architecture="mlp", latent_dim=16,
                             hidden_dims=(256, 128), channels=(), input_shape=(8, 8, 1))
    g, d = models.DCGANGenerator(), models.DCGANDiscriminator()   # dcgan32
    eps_hat = models.UNet().apply(variables, x_t, t)              # unet32 diffusion U-Net
    pool3 = models.InceptionV3().apply(models.load_inception_params(path), x)   # FID net
"""

from latentjax.kernels._conv import (
    CONV_IMPLS,
    conv_compiler_options,
    conv_general_dilated_fast,
    conv_general_dilated_fn,
    conv_transpose_fast,
    resolve_conv_impl,
)
from latentjax.models._autoencoders import VAE, AutoEncoder
from latentjax.models._classifier import Classifier
from latentjax.models._code_gaussian import fit_code_gaussian, sample_code_gaussian
from latentjax.models._conv_layers import (
    FastConvTranspose,
    UpsampleConv,
    conv_layer,
    conv_transpose_layer,
    upsample_conv_layer,
    upsample_conv_phases,
)
from latentjax.models._decoders import ConvDecoder, MLPDecoder
from latentjax.models._denoisers import MLPDenoiser
from latentjax.models._encoders import ConvEncoder, MLPEncoder
from latentjax.models._factory import (
    ARCHITECTURES,
    build_model,
    register_family,
    registered_families,
)
from latentjax.models._gan import OUTPUT_ACTIVATIONS, DCGANGenerator, MLPGenerator
from latentjax.models._gan_discriminators import (
    SPECTRAL_STATS,
    DCGANDiscriminator,
    MLPDiscriminator,
)
from latentjax.models._inception import (
    InceptionV3,
    inception_state_dict,
    inception_variable_shapes,
    load_inception_params,
    resize_for_inception,
)
from latentjax.models._layers import MLP
from latentjax.models._norm import FastGroupNorm, group_norm, group_norm_layer
from latentjax.models._precision import (
    COMPUTE_DTYPES,
    apply_in_dtype,
    cast_floating,
    check_compute_dtype,
    with_compute_dtype,
)
from latentjax.models._unet import UNET_PRESETS, UNet, timestep_embedding, unet_preset

__all__ = [
    "ARCHITECTURES",
    "AutoEncoder",
    "COMPUTE_DTYPES",
    "CONV_IMPLS",
    "Classifier",
    "ConvDecoder",
    "ConvEncoder",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "FastConvTranspose",
    "FastGroupNorm",
    "InceptionV3",
    "MLP",
    "MLPDecoder",
    "MLPDenoiser",
    "MLPDiscriminator",
    "MLPEncoder",
    "MLPGenerator",
    "OUTPUT_ACTIVATIONS",
    "SPECTRAL_STATS",
    "UNET_PRESETS",
    "UNet",
    "UpsampleConv",
    "VAE",
    "apply_in_dtype",
    "build_model",
    "cast_floating",
    "check_compute_dtype",
    "conv_compiler_options",
    "conv_general_dilated_fast",
    "conv_general_dilated_fn",
    "conv_layer",
    "conv_transpose_fast",
    "conv_transpose_layer",
    "fit_code_gaussian",
    "group_norm",
    "group_norm_layer",
    "inception_state_dict",
    "inception_variable_shapes",
    "load_inception_params",
    "register_family",
    "registered_families",
    "resize_for_inception",
    "resolve_conv_impl",
    "sample_code_gaussian",
    "timestep_embedding",
    "unet_preset",
    "upsample_conv_layer",
    "upsample_conv_phases",
    "with_compute_dtype",
]
