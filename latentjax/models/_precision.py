"""Mixed precision at the apply boundary: float32 parameters, bfloat16 arithmetic.

Parameters, optimizer state and batch statistics stay float32; only the arithmetic of the
network runs in the compute dtype. Two pieces do it, for any flax linen module and with no
change to the modules themselves:

  * the floating parameters are cast to the compute dtype where they enter ``apply``, so
    gradients flow back through the cast and arrive in float32, the parameters' own dtype;
  * a method interceptor (``flax.linen.intercept_methods``) casts the floating inputs of
    every flax layer (Dense, Conv, ConvTranspose, Embed, the norms) whose parameters were
    cast to the compute dtype, so constants made inside a module in float32 (one-hot
    labels, timestep embeddings) do not promote the rest of the network back to float32
    (a network closed over in float32 is left alone), and casts the floating
    outputs of the applied module itself to float32, so losses and metrics are reduced in
    float32.

Normalisation layers keep their statistics in float32 (flax reduces in float32). A layer
wrapped in ``nn.SpectralNorm`` divides its kernel by a float32 singular value, so it
computes in float32::

    loss_fn = with_compute_dtype(loss_fn, "bfloat16")     # loss_fn(params, *rest)
    out = apply_in_dtype(model, variables, x, compute_dtype="bfloat16")
"""

import functools
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array

COMPUTE_DTYPES = ("float32", "bfloat16")

# The flax layers whose floating inputs are cast; subclasses (FastConvTranspose) included.
_LAYERS = tuple(getattr(nn, name) for name in (
    "Dense", "DenseGeneral", "Einsum", "Conv", "ConvTranspose", "ConvLocal", "Embed",
    "GroupNorm", "LayerNorm", "BatchNorm", "RMSNorm") if hasattr(nn, name))


def check_compute_dtype(compute_dtype: str, name: str = "compute_dtype") -> jnp.dtype:
  """The jnp dtype of a compute-dtype name.

  Args:
    compute_dtype: "float32" or "bfloat16".
    name: how error messages call the argument.

  Returns:
    ``jnp.float32`` or ``jnp.bfloat16``.

  Raises:
    ValueError: naming ``name`` for any other value.

  Example:
    >>> check_compute_dtype("bfloat16")
    dtype(bfloat16)
  """
  if not isinstance(compute_dtype, str) or compute_dtype not in COMPUTE_DTYPES:
    raise ValueError(f"`{name}` must be one of {', '.join(map(repr, COMPUTE_DTYPES))}, "
                     f"got {compute_dtype!r}")
  return jnp.dtype(compute_dtype)


def cast_floating(tree, dtype):
  """``tree`` with every floating-point array leaf cast to ``dtype`` (others unchanged).

  Args:
    tree: any pytree (parameters, a batch, a model output).
    dtype: the target floating dtype.

  Returns:
    The same structure; integer, boolean and non-array leaves are left as they are.

  Example:
    >>> cast_floating({"w": jnp.ones(2), "n": jnp.arange(2)}, jnp.bfloat16)["w"].dtype
    dtype(bfloat16)
  """
  dtype = jnp.dtype(dtype)

  def cast(x):
    if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != dtype:
      return jnp.asarray(x).astype(dtype)
    return x

  return jax.tree.map(cast, tree)


def _is_root(module: nn.Module) -> bool:
  # The module ``apply`` was called on is bound to a scope; every other one to a module.
  return not isinstance(module.parent, nn.Module)


def _computes_in(module: nn.Module, dtype) -> bool:
  # A layer of a network whose parameters were cast (not one closed over in float32).
  params = module.variables.get("params", {})
  return all(x.dtype == dtype for x in jax.tree.leaves(params)
             if jnp.issubdtype(x.dtype, jnp.floating))


def _interceptor(dtype):
  def intercept(next_fun, args, kwargs, context):
    module = context.module
    if isinstance(module, _LAYERS) and _computes_in(module, dtype):
      args, kwargs = cast_floating((args, kwargs), dtype)
    out = next_fun(*args, **kwargs)
    if _is_root(module):
      out = jax.tree.map(
          lambda x: x.astype(jnp.float32) if getattr(x, "dtype", None) == dtype else x, out)
    return out

  return intercept


def apply_in_dtype(module: nn.Module, variables: dict, *args, compute_dtype: str = "float32",
                   **kwargs):
  """``module.apply(variables, *args, **kwargs)`` computed in ``compute_dtype``.

  Args:
    module: an unbound flax module.
    variables: its variables; ``variables["params"]`` (float32) is cast to the compute
      dtype for the call, the other collections (batch statistics) are not.
    *args, **kwargs: what ``module.apply`` takes (``method=``, ``mutable=``, ``rngs=``...).
    compute_dtype: "float32" (a plain ``apply``) or "bfloat16".

  Returns:
    What ``apply`` returns, with floating outputs in float32; mutated collections (with
    ``mutable=``) in float32 as well.

  Raises:
    ValueError: for an unknown ``compute_dtype``.

  Example:
    >>> y = apply_in_dtype(nn.Dense(3), params, x, compute_dtype="bfloat16")  # float32 y
  """
  dtype = check_compute_dtype(compute_dtype)
  if dtype == jnp.float32:
    return module.apply(variables, *args, **kwargs)
  variables = dict(variables)
  if "params" in variables:
    variables["params"] = cast_floating(variables["params"], dtype)
  with nn.intercept_methods(_interceptor(dtype)):
    out = module.apply(variables, *args, **kwargs)
  if kwargs.get("mutable", False) is not False:
    out, mutated = out
    out = (out, cast_floating(mutated, jnp.float32))
  return out


def with_compute_dtype(fn: Callable, compute_dtype: str) -> Callable:
  """Wraps ``fn(params, *rest)`` so that every flax ``apply`` in it computes in the dtype.

  The float32 ``params`` are cast to the compute dtype on entry (their gradients come
  back in float32) and the interceptor of this module is active while ``fn`` runs (at
  trace time, so it also holds inside ``jax.jit``); floating results that come out in
  the compute dtype are cast to float32. Parameters that ``fn`` closes over (a frozen
  network) are not cast, so those networks compute in float32.

  Args:
    fn: e.g. a loss ``(params, model_state, batch, keys) -> (loss, (metrics, state))``.
    compute_dtype: "float32" (``fn`` itself is returned) or "bfloat16".

  Returns:
    The wrapped function, of the same signature.

  Raises:
    ValueError: for an unknown ``compute_dtype``.

  Example:
    >>> loss_fn = with_compute_dtype(make_vae_loss(model), "bfloat16")
  """
  dtype = check_compute_dtype(compute_dtype)
  if dtype == jnp.float32:
    return fn

  @functools.wraps(fn)
  def wrapped(params, *rest, **kwargs):
    with nn.intercept_methods(_interceptor(dtype)):
      out = fn(cast_floating(params, dtype), *rest, **kwargs)
    return jax.tree.map(
        lambda x: x.astype(jnp.float32) if getattr(x, "dtype", None) == dtype else x, out)

  return wrapped
