"""Array kernels below the networks: XLA:CPU-fast convolutions with every gradient.

    from latentjax import kernels
    y = kernels.conv_general_dilated_fast(x, w, (2, 2), "SAME",
                                          dimension_numbers=("NHWC", "HWIO", "NHWC"))
    conv = kernels.conv_general_dilated_fn(kernels.resolve_conv_impl("auto"))
    step = jax.jit(step, compiler_options=kernels.conv_compiler_options("auto"))

Pure JAX functions on arrays (no Flax): ``latentjax.models`` builds its layers on them
and re-exports these names, so ``models.conv_general_dilated_fast`` is the same function.
"""

from latentjax.kernels._conv import (
    CONV_IMPLS,
    conv_compiler_options,
    conv_general_dilated_fast,
    conv_general_dilated_fn,
    conv_transpose_fast,
    conv_transpose_padding,
    resolve_conv_impl,
)

__all__ = [
    "CONV_IMPLS",
    "conv_compiler_options",
    "conv_general_dilated_fast",
    "conv_general_dilated_fn",
    "conv_transpose_fast",
    "conv_transpose_padding",
    "resolve_conv_impl",
]
