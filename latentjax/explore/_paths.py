"""Linear, spherical and geodesic paths between codes, and their decoded lengths.

Every path is measured the same way, on a fine resampling of the continuous path:
`latent_ops.curve_length` sums the distances between consecutive decoded points, so a
32-point geodesic and an exact straight line are compared fairly.

    paths = interpolation_paths(decoder, z0, z1, num_points=32, geodesic_steps=500)
    lengths = decoded_lengths(decoder, paths, z0, z1, resolution=256)   # method -> [P]
    frames = path_frames(paths, z0, z1, num_frames=10)             # method -> [P, 10, D]
    example_label(12, labels)              # "test image 12 (class 2)": a path's endpoint
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo

METHODS = ("linear", "slerp", "geodesic")
METHOD_NAMES = {"linear": "linear", "slerp": "spherical (slerp)", "geodesic": "geodesic"}


def _as_pairs(z0, z1) -> tuple[jax.Array, jax.Array]:
  z0 = jnp.asarray(z0, jnp.float32)
  z1 = jnp.asarray(z1, jnp.float32)
  if z0.ndim != 2:
    raise ValueError(f"`z0` must be [P, D], got shape {z0.shape}")
  if z1.shape != z0.shape:
    raise ValueError(f"`z1` must have the shape of `z0` {z0.shape}, got shape {z1.shape}")
  return z0, z1


def interpolation_paths(decoder, z0, z1, *, num_points: int = 32, geodesic_steps: int = 500,
                        methods=METHODS) -> dict[str, np.ndarray]:
  """Paths between pairs of codes, one array per method.

  Args:
    decoder: ``z [..., D] -> x``, any JAX-traceable callable.
    z0: [P, D] start codes.
    z1: [P, D] end codes.
    num_points: points per path (endpoints included).
    geodesic_steps: optimisation steps of `latent_ops.geodesic` (started from the
      straight line).
    methods: a subset of ("linear", "slerp", "geodesic").

  Returns:
    method -> [P, num_points, D] numpy paths.

  Raises:
    ValueError: on mismatched shapes or an unknown method.
  """
  z0, z1 = _as_pairs(z0, z1)
  unknown = sorted(set(methods) - set(METHODS))
  if unknown:
    raise ValueError(f"`methods` has unknown method(s) {unknown}; known: {', '.join(METHODS)}")
  out = {}
  for m in methods:
    if m == "geodesic":
      path = lo.geodesic(decoder, z0, z1, num_points=num_points, num_steps=geodesic_steps)
    else:
      path = lo.interpolate(z0, z1, num_points, method=m)
    out[m] = np.asarray(path, np.float32)
  return out


def path_frames(paths: Mapping[str, np.ndarray], z0, z1, num_frames: int) -> dict:
  """Points at which to decode each path for display: method -> [P, num_frames, D].

  Linear and spherical paths are recomputed exactly at `num_frames` points; any other
  path (a geodesic) is resampled evenly in latent arc length along its polyline
  (`latent_ops.resample_curve`).
  """
  z0, z1 = _as_pairs(z0, z1)
  out = {}
  for m, p in paths.items():
    if m in ("linear", "slerp"):
      out[m] = np.asarray(lo.interpolate(z0, z1, num_frames, method=m), np.float32)
    else:
      out[m] = np.asarray(lo.resample_curve(jnp.asarray(p), num_frames), np.float32)
  return out


def decoded_lengths(decoder, paths: Mapping[str, np.ndarray], z0, z1, *,
                    resolution: int = 256) -> dict[str, np.ndarray]:
  """Decoded lengths of paths, each measured on a fine resampling of the path.

  Linear and spherical paths are recomputed exactly at `resolution` points; any other
  path (a geodesic) is measured along its continuous polyline, every segment split
  into ``ceil((resolution - 1) / (T - 1))`` pieces (`latent_ops.curve_length` with
  `subdivisions`).

  Args:
    decoder: ``z [D] -> x``, JAX-traceable.
    paths: method -> [P, T, D] paths between `z0` and `z1`.
    z0: [P, D] start codes.
    z1: [P, D] end codes.
    resolution: points of the fine resampling (>= 2).

  Returns:
    method -> [P] numpy lengths (sums of Euclidean distances between consecutive
    decoded points).

  Raises:
    ValueError: on mismatched shapes or `resolution` < 2.
  """
  z0, z1 = _as_pairs(z0, z1)
  if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
    raise ValueError(f"`resolution` must be an int >= 2, got {resolution!r}")
  out = {}
  for m, p in paths.items():
    if m in ("linear", "slerp"):
      fine = lo.interpolate(z0, z1, resolution, method=m)
      out[m] = np.asarray(lo.curve_length(decoder, fine), np.float64)
    else:
      p = jnp.asarray(p, jnp.float32)
      sub = max(1, math.ceil((resolution - 1) / (p.shape[-2] - 1)))
      out[m] = np.asarray(lo.curve_length(decoder, p, subdivisions=sub), np.float64)
  return out


def strip_label(method: str) -> str:
  """Human name of a path method for strip rows and tables."""
  return METHOD_NAMES.get(method, method)


def methods_title(methods) -> str:
  """What a set of path methods is called in a heading: "linear, spherical and geodesic"."""
  names = [METHOD_NAMES.get(m, m).split(" (")[0] for m in methods]
  return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def example_label(index: int, labels=None, *, split: str = "test", noun: str = "image") -> str:
  """Names an example of a split for captions: "test image 12 (class 2)".

  Args:
    index: its position in the split (as read in order by `encode_split`).
    labels: [N] class labels of the split's examples read, or None (unlabelled).
    split: the split's name.
    noun: what an example is.
  """
  name = f"{split} {noun} {int(index)}"
  return name if labels is None else f"{name} (class {labels[index]})"
