"""Decoders as arguments of compiled functions: cached only when provably the same.

Latent ops take any callable ``decoder(z) -> x`` that maps **one** code ``z: [D]`` to an
array or a pytree of arrays; batches go through ``jax.vmap``. (A decoder written for
batches can be wrapped as ``lambda z: dec(z[None])[0]``.)

Each op is compiled once and reused for later calls when the decoder is *provably the
same function of its arrays*. The decoder is split like a pytree into

* its **array leaves** (parameters), passed to the compiled function as ordinary traced
  arguments, so new parameter values of the same shapes reuse the compiled code, and
* everything else (functions, tree structure, Python constants), which must be provably
  constant: hashable plain data (``None``, ``bool``, ``int``, ``float``, ``str``,
  ``bytes``, tuples of these, dtypes), unbound Flax modules and their methods such as
  ``module.apply``, Python modules, classes, JAX / NumPy / Flax functions, and Python
  functions whose closure cells, defaults and referenced global names hold only such
  values (user functions among them are checked in turn). These values, not the objects'
  identities alone, are the cache key, so re-assigning a global float compiles again.

A decoder with any other part, such as a lambda that reads a global or closed-over array,
a bound method of an object whose attributes can change, or a bound Flax module, is
**traced afresh on every call** (a new ``jax.jit`` of the op with the decoder closed
over): always correct, never stale, but compiled each time.

Fast repeated calls: pass the parameters explicitly, as leaves of the decoder::

    decoder = functools.partial(model.apply, params)       # Flax
    decoder = jax.tree_util.Partial(fn, params)             # fn(params, z) -> x
    decoder = eqx_module                                    # a pytree module

Calling an op again with new parameters of the same shapes (after a training step, say)
then reuses the compiled code and sees the new values.
"""

import functools
import sys
import types
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

# Top-level packages whose functions are trusted not to read changing state.
_LIBRARIES = frozenset({"jax", "jaxlib", "numpy", "flax", "optax", "chex", "equinox",
                        "math", "operator", "builtins", "functools"})
_PLAIN = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis))
# Containers of the pytree registry whose node data is only keys or None.
_BUILTIN_NODES = (tuple, list, dict, type(None))


class _NotConstant(Exception):
  """Raised inside :func:`_constant_key` for a value that may change between calls."""


class _ById:
  """Hashable stand-in for an unhashable, constant value, compared by identity."""

  __slots__ = ("obj",)

  def __init__(self, obj):
    self.obj = obj

  def __hash__(self):
    return id(self.obj)

  def __eq__(self, other):
    return isinstance(other, _ById) and other.obj is self.obj


def _is_array(leaf) -> bool:
  return isinstance(leaf, (jax.Array, np.ndarray, np.generic))


def _library(obj) -> bool:
  module = getattr(obj, "__module__", None)
  return isinstance(module, str) and module.split(".")[0] in _LIBRARIES


def _code_names(code: types.CodeType) -> set[str]:
  """Global (and attribute) names read by ``code`` and the code nested in it."""
  names = set(code.co_names)
  for const in code.co_consts:
    if isinstance(const, types.CodeType):
      names |= _code_names(const)
  return names


def _hashable(obj):
  try:
    hash(obj)
  except TypeError:
    return _ById(obj)
  return obj


def _function_key(fn: types.FunctionType, seen: set[int]):
  if _library(fn):
    return fn
  if id(fn) in seen:  # recursion: the function's own values are being keyed already
    return ("recursive", fn)
  seen = seen | {id(fn)}
  cells = tuple(_constant_key(cell.cell_contents, seen) if _filled(cell) else ("empty",)
                for cell in fn.__closure__ or ())
  defaults = _constant_key(fn.__defaults__ or (), seen)
  kwdefaults = tuple(sorted((k, _constant_key(v, seen))
                            for k, v in (fn.__kwdefaults__ or {}).items()))
  scope = fn.__globals__
  builtins = scope.get("__builtins__", {})
  builtins = builtins if isinstance(builtins, dict) else vars(builtins)
  names = []
  for name in sorted(_code_names(fn.__code__)):
    if name in scope:
      names.append((name, _constant_key(scope[name], seen)))
    elif name in builtins:
      names.append((name, _hashable(builtins[name])))
  return (types.FunctionType, fn, cells, defaults, kwdefaults, tuple(names))


def _filled(cell) -> bool:
  try:
    cell.cell_contents  # noqa: B018
  except ValueError:
    return False
  return True


def _constant_key(obj, seen: frozenset | set = frozenset()):
  """A hashable key that determines ``obj``'s behaviour, or raises :class:`_NotConstant`.

  Two objects with equal keys compute the same function of their traced arguments, now
  and later: values that could change (arrays, mutable objects) are not accepted.
  """
  if isinstance(obj, _PLAIN):
    return (type(obj), obj)
  if isinstance(obj, (tuple, frozenset)):
    return (type(obj), tuple(_constant_key(x, seen) for x in obj))
  if isinstance(obj, (type, types.ModuleType, np.dtype, np.ufunc)):
    return obj
  if isinstance(obj, types.FunctionType):
    return _function_key(obj, seen)
  if isinstance(obj, types.BuiltinFunctionType):
    owner = getattr(obj, "__self__", None)
    if owner is None or isinstance(owner, types.ModuleType):
      return obj
    raise _NotConstant(obj)
  if isinstance(obj, types.MethodType):
    return (types.MethodType, _constant_key(obj.__self__, seen),
            _constant_key(obj.__func__, seen))
  if isinstance(obj, functools.partial):
    return (functools.partial, _constant_key(obj.func, seen), _constant_key(obj.args, seen),
            tuple(sorted((k, _constant_key(v, seen)) for k, v in obj.keywords.items())))
  if _is_flax_module(obj):
    if obj.scope is not None:  # a bound module holds its variables
      raise _NotConstant(obj)
    return _hashable(obj)  # frozen dataclass: fields compared by value where hashable
  if callable(obj) and not _is_array(obj):
    wrapped = getattr(obj, "__wrapped__", None)
    if wrapped is not None and _library(type(obj)):  # jax.jit, custom_jvp of a function
      return (type(obj), _constant_key(wrapped, seen))
    if _library(obj) and _library(type(obj)):  # jnp.tanh, jax.nn.relu, ...
      return _hashable(obj)
  raise _NotConstant(obj)


def _is_flax_module(obj) -> bool:
  linen = sys.modules.get("flax.linen")  # not loaded: nothing can be a Flax module
  return linen is not None and isinstance(obj, linen.Module)


def _treedef_key(treedef):
  """Keys the node data of registered pytree classes (``Partial``'s function, ...)."""
  node = treedef.node_data()
  if node is None:  # a leaf
    return ()
  node_type, data = node
  keys = [] if node_type in _BUILTIN_NODES or data is None else [
      (node_type, _constant_key(tuple(data) if isinstance(data, list) else data))]
  for child in treedef.children():
    keys.extend(_treedef_key(child))
  return tuple(keys)


class DecoderDef:
  """The static half of a split decoder: tree structure plus non-array leaves.

  Equal (and equally hashed) when the constant keys of the two decoders' static parts
  are equal, i.e. when they compute the same function of their array leaves.
  """

  __slots__ = ("treedef", "static", "_key", "_hash")

  def __init__(self, treedef, static, key):
    self.treedef = treedef
    self.static = static
    self._key = key
    self._hash = hash(key)

  def __hash__(self):
    return self._hash

  def __eq__(self, other):
    return isinstance(other, DecoderDef) and self._key == other._key

  def rebuild(self, arrays):
    """Re-assembles the decoder from its array leaves."""
    arrays = iter(arrays)
    leaves = [next(arrays) if is_array else leaf for is_array, leaf in self.static]
    return jax.tree_util.tree_unflatten(self.treedef, leaves)


def split_decoder(decoder: Callable) -> tuple[DecoderDef | None, list]:
  """Splits ``decoder`` into a hashable :class:`DecoderDef` and its array leaves.

  Args:
    decoder: any callable; ``functools.partial`` objects are split into function and
      arguments, pytree-registered callables into their leaves.

  Returns:
    ``(decoder_def, arrays)`` with ``decoder_def.rebuild(arrays)`` equivalent to
    ``decoder``, or ``(None, [])`` when a static part of the decoder is not provably
    constant (see the module docstring): such a decoder must not be cached.

  Raises:
    TypeError: if ``decoder`` is not callable.
  """
  if not callable(decoder):
    raise TypeError(f"`decoder` must be a callable decoder(z) -> x, got {decoder!r}")
  if type(decoder) is functools.partial:
    decoder = jax.tree_util.Partial(decoder.func, *decoder.args, **decoder.keywords)
  leaves, treedef = jax.tree_util.tree_flatten(decoder)
  static = tuple((True, None) if _is_array(leaf) else (False, leaf) for leaf in leaves)
  try:
    key = (treedef, _treedef_key(treedef),
           tuple(None if is_array else _constant_key(leaf) for is_array, leaf in static))
    decoder_def = DecoderDef(treedef, static, key)
  except (_NotConstant, TypeError, RecursionError):
    return None, []
  return decoder_def, [leaf for leaf in leaves if _is_array(leaf)]


def decoder_jit(static_argnames: tuple[str, ...] = ()):
  """Decorator: jit ``impl(decoder, *args, **static_kwargs)``, cached when that is safe.

  Positional arguments after the decoder are traced (arrays, pytrees of arrays or None);
  keyword arguments must be hashable and listed in ``static_argnames``. A decoder that
  :func:`split_decoder` can split is compiled once per structure, argument shapes and
  static values, its arrays traced; any other decoder is closed over by a new
  ``jax.jit`` on every call, so it is never stale.

  Args:
    static_argnames: names of the static keyword arguments of ``impl``.

  Returns:
    A decorator producing ``fn(decoder, *args, **kwargs)``; ``fn.compiled`` is the cached
    jitted function of ``(decoder_def, arrays, *args, **kwargs)``.
  """

  def wrap(impl):

    def inner(decoder_def, arrays, *args, **kwargs):
      return impl(decoder_def.rebuild(arrays), *args, **kwargs)

    compiled = jax.jit(inner, static_argnums=0, static_argnames=static_argnames)

    @functools.wraps(impl)
    def call(decoder, *args, **kwargs):
      decoder_def, arrays = split_decoder(decoder)
      if decoder_def is None:
        fresh = jax.jit(functools.partial(impl, decoder), static_argnames=static_argnames)
        return fresh(*args, **kwargs)
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
