"""Decoders as arguments of compiled functions, without retracing.

Latent ops take any callable ``decoder(z) -> x`` that maps **one** code ``z: [D]`` to an
array or a pytree of arrays; batches go through ``jax.vmap``. (A decoder written for
batches can be wrapped as ``lambda z: dec(z[None])[0]``.)

To compile each op once per decoder, the decoder is split like a pytree into

* its **array leaves** (parameters), passed to the compiled function as ordinary traced
  arguments, so new parameter values of the same shapes reuse the compiled code, and
* everything else (the function, tree structure, Python constants), a hashable static
  key; unhashable parts are keyed by identity.

``functools.partial(model.apply, params)`` (a bound Flax ``apply``), ``jax.tree_util.Partial``
and pytree modules (Equinox) split into function + parameters; a plain function or lambda is
static as a whole, so calling an op again with *the same object* reuses the compiled code,
while a new lambda per call compiles again (keep a reference to it, or jit around the call).
"""

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np


class _ById:
  """Hashable stand-in for an unhashable static leaf, compared by identity."""

  __slots__ = ("obj",)

  def __init__(self, obj):
    self.obj = obj

  def __hash__(self):
    return id(self.obj)

  def __eq__(self, other):
    return isinstance(other, _ById) and other.obj is self.obj


def _static_key(leaf):
  try:
    hash(leaf)
  except TypeError:
    return _ById(leaf)
  return leaf


def _is_array(leaf) -> bool:
  return isinstance(leaf, (jax.Array, np.ndarray, np.generic))


class DecoderDef:
  """The static half of a split decoder: tree structure plus non-array leaves."""

  __slots__ = ("treedef", "static", "_hash")

  def __init__(self, treedef, static):
    self.treedef = treedef
    self.static = static
    self._hash = hash((treedef, static))

  def __hash__(self):
    return self._hash

  def __eq__(self, other):
    return (isinstance(other, DecoderDef) and self.treedef == other.treedef
            and len(self.static) == len(other.static)
            and all(a is b or a == b for a, b in zip(self.static, other.static, strict=True)))

  def rebuild(self, arrays):
    """Re-assembles the decoder from its array leaves."""
    arrays = iter(arrays)
    leaves = [next(arrays) if s is None else (s.obj if isinstance(s, _ById) else s)
              for s in self.static]
    return jax.tree_util.tree_unflatten(self.treedef, leaves)


def split_decoder(decoder: Callable) -> tuple[DecoderDef, list]:
  """Splits ``decoder`` into a hashable :class:`DecoderDef` and its array leaves.

  Args:
    decoder: any callable; ``functools.partial`` objects are split into function and
      arguments, pytree-registered callables into their leaves.

  Returns:
    ``(decoder_def, arrays)`` with ``decoder_def.rebuild(arrays)`` equivalent to ``decoder``.

  Raises:
    TypeError: if ``decoder`` is not callable.
  """
  if not callable(decoder):
    raise TypeError(f"`decoder` must be a callable decoder(z) -> x, got {decoder!r}")
  if type(decoder) is functools.partial:
    decoder = jax.tree_util.Partial(decoder.func, *decoder.args, **decoder.keywords)
  leaves, treedef = jax.tree_util.tree_flatten(decoder)
  static = tuple(None if _is_array(leaf) else _static_key(leaf) for leaf in leaves)
  arrays = [leaf for leaf in leaves if _is_array(leaf)]
  try:
    return DecoderDef(treedef, static), arrays
  except TypeError:  # an unhashable node in the tree structure: key the whole decoder
    return DecoderDef(jax.tree_util.tree_structure(0), (_ById(decoder),)), []


def decoder_jit(static_argnames: tuple[str, ...] = ()):
  """Decorator: jit ``impl(decoder, *args, **static_kwargs)`` keyed on the split decoder.

  Positional arguments after the decoder are traced (arrays, pytrees of arrays or None);
  keyword arguments must be hashable and listed in ``static_argnames``.

  Args:
    static_argnames: names of the static keyword arguments of ``impl``.

  Returns:
    A decorator producing ``fn(decoder, *args, **kwargs)`` that compiles once per decoder
    structure, argument shapes and static values.
  """

  def wrap(impl):

    def inner(decoder_def, arrays, *args, **kwargs):
      return impl(decoder_def.rebuild(arrays), *args, **kwargs)

    compiled = jax.jit(inner, static_argnums=0, static_argnames=static_argnames)

    @functools.wraps(impl)
    def call(decoder, *args, **kwargs):
      decoder_def, arrays = split_decoder(decoder)
      return compiled(decoder_def, arrays, *args, **kwargs)

    call.compiled = compiled
    return call

  return wrap


def flat_decoder(decoder: Callable) -> Callable:
  """Returns ``f(z: [D]) -> [O]``: all leaves of ``decoder(z)`` flattened and concatenated."""

  def f(z):
    leaves = jax.tree_util.tree_leaves(decoder(z))
    if not leaves:
      raise ValueError("`decoder` must return an array or a non-empty pytree of arrays")
    flat = [jnp.ravel(leaf) for leaf in leaves]
    return flat[0] if len(flat) == 1 else jnp.concatenate(flat)

  return f


def decode_flat(decoder: Callable, z):
  """Decodes codes ``z: [..., D]`` to flat outputs ``[..., O]`` with ``jax.vmap``."""
  f = flat_decoder(decoder)
  batch = z.shape[:-1]
  out = jax.vmap(f)(z.reshape((-1, z.shape[-1])))
  return out.reshape(batch + out.shape[-1:])
