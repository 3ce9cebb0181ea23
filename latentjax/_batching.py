"""Applying a function over many examples in fixed-size batches (one compilation).

    out = apply_in_batches(fn, x, batch_size=256)     # x [N, ...] -> fn's outputs [N, ...]

Every call of ``fn`` gets exactly ``min(batch_size, N)`` examples: the last batch is padded
by repeating its last example (so the padding stays in the data's range) and the padded
rows of the outputs are dropped. A jitted ``fn`` therefore compiles once, whatever N is.
"""

from collections.abc import Callable

import jax
import numpy as np


def apply_in_batches(fn: Callable, x, batch_size: int):
  """``fn`` over the leading axis of ``x`` in batches of one size, outputs concatenated.

  Args:
    fn: maps a pytree of arrays with leading axis B to a pytree of arrays with leading
      axis B (anything NumPy can read: jax arrays are fetched batch by batch).
    x: a pytree of arrays, all with the same leading size N >= 1.
    batch_size: B, the examples per call (at most N are used).

  Returns:
    The outputs of ``fn`` as NumPy arrays with leading axis N, in example order.

  Raises:
    ValueError: for a ``batch_size`` below 1, an empty or ragged ``x``, or outputs of ``fn``
      without the batch's leading size.
  """
  if int(batch_size) < 1:
    raise ValueError(f"`batch_size` must be >= 1, got {batch_size}")
  leaves = jax.tree_util.tree_leaves(x)
  if not leaves:
    raise ValueError("`x` holds no arrays")
  n = int(np.shape(leaves[0])[0]) if np.ndim(leaves[0]) else 0
  if n < 1 or any(np.ndim(v) == 0 or np.shape(v)[0] != n for v in leaves):
    raise ValueError(f"`x` must be arrays with one leading size N >= 1, got shapes "
                     f"{[np.shape(v) for v in leaves]}")
  size = min(int(batch_size), n)
  parts = []
  for start in range(0, n, size):
    count = min(size, n - start)
    chunk = jax.tree_util.tree_map(lambda v, s=start, c=count: _padded(v, s, c, size), x)
    out = jax.tree_util.tree_map(np.asarray, fn(chunk))
    for v in jax.tree_util.tree_leaves(out):
      if np.ndim(v) == 0 or v.shape[0] != size:
        raise ValueError(f"`fn` must return arrays with the batch's leading size {size}, "
                         f"got shape {np.shape(v)}")
    parts.append(jax.tree_util.tree_map(lambda v, c=count: v[:c], out))
  return jax.tree_util.tree_map(lambda *vs: np.concatenate(vs, axis=0), *parts)


def _padded(v, start: int, count: int, size: int) -> np.ndarray:
  chunk = np.asarray(v[start:start + count])
  if count < size:
    chunk = np.concatenate([chunk, np.repeat(chunk[-1:], size - count, axis=0)], axis=0)
  return chunk
