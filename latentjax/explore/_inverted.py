"""Test examples seen through a generator: their inverted codes, and its own directions.

A GAN has no encoder, so the report finds the codes of real test images by inverting
the generator (`latent_ops.invert`: Adam on the reconstruction error from random
starts) and, for an unconditional generator, also by the hybrid: a small MLP inverse
encoder trained on the generator's own samples (`latent_ops.fit_inverse_encoder`)
gives the start that `latent_ops.invert` refines.

    inv = inverted_split(view, settings, key)     # InvertedSplit, cached on the view
    inv.codes, inv.errors, inv.hybrid_errors      # [N, D], [N], [N] or None
    kernel = first_layer_kernel(run)               # [D, H], or None
    tr = sefa_traversal(kernel, num=4, steps=9, sigmas=2.5, base=z)
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo
from latentjax.explore._codes import label_key_of
from latentjax.explore._directions import Traversal, _along

_ENCODER_WIDTHS = (256, 256)  # Hidden layers of the inverse encoder.
_ENCODER_BATCH = 64


@dataclasses.dataclass(frozen=True)
class InvertedSplit:
  """Test examples and the codes that make the generator draw them.

  Attributes:
    inputs: [N, ...] test examples (images in [0, 1]).
    labels: [N] class labels, or None for unlabelled data.
    codes: [N, D] codes from `latent_ops.invert` (random starts).
    errors: [N] mean squared error of each reconstruction.
    encoder_errors: [N] errors of the inverse encoder's codes alone, or None.
    hybrid_codes: [N, D] codes of the hybrid inversion (encoder start, then
      `latent_ops.invert`), or None when it was not run.
    hybrid_errors: [N] their errors, or None.
    split: the TFDS split of the examples.
  """

  inputs: np.ndarray
  labels: np.ndarray | None
  codes: np.ndarray
  errors: np.ndarray
  encoder_errors: np.ndarray | None
  hybrid_codes: np.ndarray | None
  hybrid_errors: np.ndarray | None
  split: str

  @property
  def num_examples(self) -> int:
    return int(self.codes.shape[0])


def load_split(run, split: str | None = None, num_examples: int = 0):
  """(inputs [N, ...], labels [N] or None) of the first examples of a split."""
  from latentjax.training._evaluate import eval_batches

  split = run.exp.eval_split if split is None else split
  input_key, label_key = run.exp.spec.input_key, label_key_of(run)
  xs, ys = [], []
  for batch in eval_batches(run.exp, split, num_examples):
    xs.append(np.asarray(batch[input_key], np.float32))
    if label_key is not None:
      ys.append(np.asarray(batch[label_key], np.int64))
  if not xs:
    raise ValueError(f"`split` {split!r} of {run.exp.cfg.data.name!r} has no examples")
  return np.concatenate(xs), (np.concatenate(ys) if ys else None), split


def _mlp_encoder(params, x):
  """Inverse encoder ``x [B, ...] -> z [B, D]``: an MLP with ReLU hidden layers."""
  h = x.reshape(x.shape[0], -1)
  for w, b in params[:-1]:
    h = jax.nn.relu(h @ w + b[None])
  w, b = params[-1]
  return h @ w + b[None]


def _init_encoder(key, in_dim: int, latent_dim: int):
  widths = (in_dim, *_ENCODER_WIDTHS, latent_dim)
  keys = jax.random.split(key, len(widths) - 1)
  return [(jax.random.normal(k, (a, b)) * jnp.sqrt(2.0 / a), jnp.zeros((b,)))
          for k, a, b in zip(keys, widths[:-1], widths[1:], strict=True)]


def _invert_grouped(view, x, groups, key, *, num_steps, num_restarts):
  """`latent_ops.invert` per class (conditional runs) or once; returns (codes, errors)."""
  d = view.run.latent_dim
  codes, errors = np.zeros((len(x), d), np.float32), np.zeros((len(x),), np.float32)
  for label in dict.fromkeys(groups):
    idx = np.array([i for i, g in enumerate(groups) if g == label])
    generator, _ = view.decoder_for(label)
    res = lo.invert(generator, jnp.asarray(x[idx]), jax.random.fold_in(key, idx[0]),
                    latent_dim=d, num_steps=num_steps, num_restarts=num_restarts)
    codes[idx], errors[idx] = np.asarray(res.codes), np.asarray(res.errors)
  return codes, errors


def inverted_split(view, settings, key) -> InvertedSplit:
  """Inverts the first ``settings.num_inversions`` test examples (once per view).

  Args:
    view: the report's `RunView` of a run without an encoder.
    settings: the `ExploreSettings` (counts and steps).
    key: PRNG key of the random starts and of the inverse encoder.

  Returns:
    The `InvertedSplit`. A conditional generator is inverted with each example's own
    label; the hybrid is run for unconditional generators only (the inverse encoder
    does not see the label) and when ``settings.inverse_encoder_steps > 0``.
  """
  if "inverted" in view.cache:
    return view.cache["inverted"]
  s, run = settings, view.run
  x, y, split = load_split(run, num_examples=s.num_inversions)
  groups = [int(c) for c in y] if run.conditional else [None] * len(x)
  codes, errors = _invert_grouped(view, x, groups, jax.random.fold_in(key, 0),
                                  num_steps=s.inversion_steps,
                                  num_restarts=s.inversion_restarts)
  enc_err = hybrid = hybrid_err = None
  if not run.conditional and s.inverse_encoder_steps > 0:
    params = _init_encoder(jax.random.fold_in(key, 1), int(np.prod(x.shape[1:])),
                           run.latent_dim)
    fit = lo.fit_inverse_encoder(jax.random.fold_in(key, 2), view.decoder, _mlp_encoder,
                                 params, latent_dim=run.latent_dim,
                                 num_steps=s.inverse_encoder_steps,
                                 batch_size=_ENCODER_BATCH)
    start = lo.encode_inverse(view.decoder, _mlp_encoder, fit.params, jnp.asarray(x))
    res = lo.invert(view.decoder, jnp.asarray(x), jax.random.fold_in(key, 3),
                    num_steps=s.inversion_steps, z_init=start.codes)
    enc_err = np.asarray(start.errors)
    hybrid, hybrid_err = np.asarray(res.codes), np.asarray(res.errors)
  out = InvertedSplit(inputs=x, labels=y, codes=codes, errors=errors, encoder_errors=enc_err,
                      hybrid_codes=hybrid, hybrid_errors=hybrid_err, split=split)
  view.cache["inverted"] = out
  return out


def first_layer_kernel(run) -> np.ndarray | None:
  """The rows of the generator's first Dense kernel that multiply z: [D, H], or None.

  The DCGAN generator's ``project`` layer or the MLP generator's first layer; the rows
  of an appended class label (conditional generators) are dropped.
  """
  params = run.params
  layer = params.get("project") or params.get("mlp", {}).get("dense_0")
  if not layer or "kernel" not in layer or np.ndim(layer["kernel"]) != 2:
    return None
  return np.asarray(layer["kernel"], np.float32)[:run.latent_dim]


def sefa_traversal(kernel, *, num: int, steps: int, sigmas: float, base) -> Traversal:
  """Traversals of `base` along the SeFa directions of a first-layer kernel.

  Args:
    kernel: [D, H] first Dense kernel (rows: latent dimensions).
    num: directions (capped at D).
    steps: values per row, evenly spaced in [-sigmas, sigmas].
    sigmas: half-range, in prior standard deviations (directions are unit vectors, so
      one unit is one standard deviation of z ~ N(0, I) along them).
    base: [D] code to move.

  Returns:
    The `Traversal` [num, steps, D]; row labels give each direction's share of the
    eigenvalues of kernel kernelᵀ.
  """
  kernel = np.asarray(kernel, np.float32)
  num = int(min(num, kernel.shape[0]))
  dirs = np.asarray(lo.sefa_directions(jnp.asarray(kernel), num), np.float32)
  eig = np.linalg.eigvalsh(kernel.astype(np.float64) @ kernel.T.astype(np.float64))[::-1]
  share = eig[:num] / max(eig.sum(), 1e-12)
  values = np.linspace(-sigmas, sigmas, steps)
  labels = [f"SeFa {k + 1} ({100 * share[k]:.0f}%)" for k in range(num)]
  return Traversal(_along(np.asarray(base, np.float32), dirs, np.ones(num), values),
                   labels, values)
