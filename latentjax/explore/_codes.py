"""A split of the data in latent space: inputs, labels and codes of a trained run.

    codes = encode_split(run, num_examples=300)       # the test split by default
    codes.codes.shape, codes.labels.shape              # (300, 16), (300,)
    i, j = choose_pairs(codes.labels, num_pairs=3, seed=0)
    decode = jitted_decoder(run.decoder_fn())          # z [..., D] -> images, jitted

Codes are posterior means for a VAE and the encoder output for an autoencoder; a
conditional model is encoded with each example's own label.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class LatentCodes:
  """Examples of one split and their latent codes (numpy, on the host).

  Attributes:
    inputs: [N, ...] model inputs (images [N, H, W, C] in [0, 1] for image data).
    labels: [N] integer class labels, or None for unlabelled data.
    codes: [N, D] latent codes.
    split: the TFDS split they came from.
  """

  inputs: np.ndarray
  labels: np.ndarray | None
  codes: np.ndarray
  split: str

  @property
  def num_examples(self) -> int:
    return int(self.codes.shape[0])

  @property
  def latent_dim(self) -> int:
    return int(self.codes.shape[1])


def label_key_of(run) -> str | None:
  """The batch key of the class label of a run's dataset, or None if unlabelled."""
  spec = run.exp.spec
  return spec.label_key if spec.num_classes and spec.label_key else None


def encode_split(run, split: str | None = None, num_examples: int = 0) -> LatentCodes:
  """Encodes (part of) a split with a trained run, in one ordered pass.

  Args:
    run: a `training.Run`.
    split: TFDS split; None means the split the run is evaluated on (its test split).
    num_examples: how many examples from the start of the split (0: all of it).

  Returns:
    The `LatentCodes` of those examples.

  Raises:
    ValueError: if `num_examples` is negative or the split is empty.
  """
  from latentjax.training._evaluate import eval_batches

  if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 0:
    raise ValueError(f"`num_examples` must be a non-negative int, got {num_examples!r}")
  split = run.exp.eval_split if split is None else split
  input_key, label_key = run.exp.spec.input_key, label_key_of(run)
  encode = jax.jit(run.encode)
  inputs, labels, codes = [], [], []
  for batch in eval_batches(run.exp, split, num_examples):
    x = np.asarray(batch[input_key], np.float32)
    y = None if label_key is None else np.asarray(batch[label_key], np.int64)
    cond = jnp.asarray(y, jnp.int32) if run.conditional else None
    codes.append(np.asarray(encode(jnp.asarray(x), cond)))
    inputs.append(x)
    if y is not None:
      labels.append(y)
  if not codes:
    raise ValueError(f"`split` {split!r} of {run.exp.cfg.data.name!r} has no examples")
  return LatentCodes(inputs=np.concatenate(inputs),
                     labels=np.concatenate(labels) if labels else None,
                     codes=np.concatenate(codes).astype(np.float32), split=split)


def choose_pairs(labels: np.ndarray | None, num_pairs: int, *, seed: int = 0,
                 num_examples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
  """Picks endpoint pairs for interpolations: examples of two different classes.

  Args:
    labels: [N] integer labels, or None (then `num_examples` must be given and pairs
      are distinct random examples).
    num_pairs: how many pairs.
    seed: numpy seed of the choice.
    num_examples: N when `labels` is None.

  Returns:
    (start, end) index arrays [num_pairs] each. With labels, pair p goes between
    two different classes, cycling through the classes so pairs differ.

  Raises:
    ValueError: if `num_pairs` < 1 or there are fewer than two examples.
  """
  if isinstance(num_pairs, bool) or not isinstance(num_pairs, int) or num_pairs < 1:
    raise ValueError(f"`num_pairs` must be a positive int, got {num_pairs!r}")
  rng = np.random.RandomState(seed)
  if labels is None:
    if num_examples is None or num_examples < 2:
      raise ValueError(f"`num_examples` must be >= 2 without labels, got {num_examples!r}")
    starts = rng.randint(0, num_examples, size=num_pairs)
    offsets = rng.randint(1, num_examples, size=num_pairs)
    return starts, (starts + offsets) % num_examples
  labels = np.asarray(labels)
  classes = np.unique(labels)
  if labels.shape[0] < 2:
    raise ValueError(f"`labels` must have at least two examples, got shape {labels.shape}")
  if classes.size < 2:
    idx = rng.permutation(labels.shape[0])
    return idx[:num_pairs] % labels.shape[0], idx[::-1][:num_pairs] % labels.shape[0]
  order = rng.permutation(classes)
  starts, ends = [], []
  for p in range(num_pairs):
    a = order[(2 * p) % classes.size]
    b = order[(2 * p + 1) % classes.size]
    if a == b:
      b = order[(2 * p + 2) % classes.size]
    starts.append(rng.choice(np.flatnonzero(labels == a)))
    ends.append(rng.choice(np.flatnonzero(labels == b)))
  return np.asarray(starts), np.asarray(ends)


def choose_distant_pairs(codes, labels: np.ndarray | None, num_pairs: int, *, seed: int = 0,
                         candidates: int = 8) -> tuple[np.ndarray, np.ndarray]:
  """Like `choose_pairs`, but keeps the pairs farthest apart in latent space.

  Draws ``candidates * num_pairs`` pairs and keeps the `num_pairs` with the largest
  latent distance, at most one per pair of classes: long paths across the latent
  space, which is where geodesics and straight lines differ.

  Args:
    codes: [N, D] codes.
    labels: [N] labels or None.
    num_pairs: how many pairs.
    seed: numpy seed.
    candidates: candidate pairs drawn per pair kept.

  Returns:
    (start, end) index arrays [num_pairs] each (fewer if not enough distinct pairs).
  """
  z = np.asarray(codes, np.float64)
  starts, ends = choose_pairs(labels, num_pairs * candidates, seed=seed,
                              num_examples=z.shape[0])
  dist = np.linalg.norm(z[starts] - z[ends], axis=1)
  keep, seen = [], set()
  for p in np.argsort(-dist, kind="stable"):
    key = (frozenset((int(labels[starts[p]]), int(labels[ends[p]]))) if labels is not None
           else frozenset((int(starts[p]), int(ends[p]))))
    if key in seen:
      continue
    seen.add(key)
    keep.append(p)
    if len(keep) == num_pairs:
      break
  keep = np.asarray(keep, np.int64)
  return starts[keep], ends[keep]


def jitted_decoder(decoder):
  """A batched, jitted numpy version of a one-code decoder: z [..., D] -> x [..., *shape].

  Args:
    decoder: ``z [D] -> x``, the latent_ops convention (``run.decoder_fn()`` is one).

  Returns:
    ``decode(z)`` taking codes with any leading axes ([D], [B, D], [P, T, D]) and
    returning numpy outputs with the same leading axes, via ``jax.jit(jax.vmap(decoder))``.
    The flattened batch is padded to a power of two (at least 8), so the report's many
    batch sizes share a few compilations (each one a whole sampler for a diffusion run).
  """
  fn = jax.jit(jax.vmap(decoder))

  def decode(z) -> np.ndarray:
    z = jnp.asarray(z, jnp.float32)
    if z.ndim == 0:
      raise ValueError(f"`z` must be [..., D], got shape {z.shape}")
    flat = z.reshape(-1, z.shape[-1])
    n = flat.shape[0]
    size = max(8, 1 << max(n - 1, 0).bit_length())
    if n and size > n:
      flat = jnp.concatenate([flat, jnp.repeat(flat[-1:], size - n, axis=0)])
    out = np.asarray(fn(flat))[:n] if n else np.asarray(fn(flat))
    return out.reshape(*z.shape[:-1], *out.shape[1:])

  return decode
