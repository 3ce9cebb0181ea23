"""The benchmark's workloads (``python -m experiments.benchmark``), one module each.

``models`` (the conv VAE step and the input pipeline), ``gan`` (the DCGAN step),
``unet`` (the diffusion U-Net's step and sampler), ``convlayers`` (single convolution
layers), ``metrics`` (the sample-quality statistics) and ``peak`` (the machine's matmul
peak the others are measured against). They are not entry points.
"""

from experiments.workloads import convlayers, gan, metrics, models, peak, unet

__all__ = ["convlayers", "gan", "metrics", "models", "peak", "unet"]
