"""Evaluation of an embedding network (``noise_encoder`` run) against DDIM inversion.

``noise_encoder_metrics`` (during training and at the end), on ``eval.num_examples``
test images ``x`` (with their labels for a conditional diffusion run):

  * ``embed_recon_mse``: per-dimension squared error, in [-1, 1] image units (as the DDIM
    paper reports it), of ``decode(E(x))``: one network pass, then the diffusion run's
    sampler;
  * ``invert_recon_mse``: the same for DDIM inversion (the diffusion run's own
    ``Run.encode`` at its ``eval.sampling_steps``) sampled back with deterministic DDIM
    (eta = 0) at as many steps: the decoder the inversion inverts, whatever the run's
    sampler;

and on ``eval.num_sample_images`` generated pairs ``(z, x = decode(z))``, ``z ~ N(0, I)``:

  * ``embed_noise_mse``: ``mean((E(x) - z)^2)``, the training loss on fresh pairs;
  * ``invert_noise_mse``: ``mean((ddim_invert(x) - z)^2)``, the same for DDIM inversion.

Batches are padded to ``data.eval_batch_size``, so each network and sampler compiles once.
"""

import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.training._keys import EVAL_KEY

Array = jax.Array
_NUM_SHOWN = 16


def _parts(exp, enc_vars):
  """``(diffusion run, dec(z, y), ddim_dec(z, y), emb(x, y))``: the run's decoder, its
  deterministic DDIM decoder and the embedding; compiled once per shape, not per call."""
  from latentjax.training._family_diffusion import _jitted, ddim_static
  from latentjax.training._family_noise_encoder import _jitted_embed, diffusion_run

  drun = diffusion_run(exp.cfg)
  decode, dstatic = drun.family_impl.decoding(drun.exp)
  dvars, ddim = drun.variables, ddim_static(dstatic)
  return (drun, lambda z, y: _jitted(decode)(dstatic, dvars, z, y),
          lambda z, y: _jitted(decode)(ddim, dvars, z, y),
          lambda x, y: _jitted_embed(exp.model, enc_vars, x, y))


def _pad(a: np.ndarray | None, size: int):
  if a is None or len(a) == size:
    return a
  return np.concatenate([a, np.repeat(a[-1:], size - len(a), axis=0)])


def noise_encoder_metrics(exp, enc_vars, key: Array, num_examples: int | None = None,
                          *, keep: int = 0) -> dict:
  """The figures of the module docstring (floats) and ``num_examples``, ``num_pairs``.

  Args:
    exp: the embedding run's Experiment.
    enc_vars: the embedding network's variables.
    key: the evaluation key (draws the generated pairs).
    num_examples: test images (None: ``eval.num_examples``; 0: the whole split).
    keep: also return the first ``keep`` test images and both reconstructions, under
      ``"_images"`` as ``(x, embedding recon, inversion recon)`` arrays in [0, 1].

  Raises:
    ValueError: for an empty evaluation split.
  """
  from latentjax.training._evaluate import eval_batches

  drun, dec, ddim_dec, emb = _parts(exp, enc_vars)
  ev, size = exp.cfg.eval, exp.cfg.data.eval_batch_size
  n = ev.num_examples if num_examples is None else num_examples
  sums, count, shown = {"embed": 0.0, "invert": 0.0}, 0, []
  for batch in eval_batches(exp, exp.eval_split, n):
    x = np.asarray(batch[exp.spec.input_key], np.float32)
    valid = len(x)
    y = batch[exp.label_key] if exp.label_key else None
    xp, yp = _pad(x, size), _pad(None if y is None else np.asarray(y, np.int32), size)
    inverted = drun.family_impl.encode(drun, xp, yp)
    recons = {"embed": dec(emb(xp, yp), yp), "invert": ddim_dec(inverted, yp)}
    for name, r in recons.items():
      r = np.asarray(r)[:valid]
      sums[name] += float(np.sum(np.square(2.0 * (r - x))))  # [-1, 1] units
    if len(shown) * size < keep:
      shown.append((x, *(np.asarray(recons[k])[:valid] for k in ("embed", "invert"))))
    count += valid
  if count == 0:
    raise ValueError(f"evaluation split {exp.eval_split!r} of {exp.cfg.data.name!r} is empty")
  dims = int(np.prod(exp.spec.input_shape))
  out = {"embed_recon_mse": sums["embed"] / (count * dims),
         "invert_recon_mse": sums["invert"] / (count * dims), "num_examples": count}
  out.update(_pair_errors(exp, drun, dec, emb, key, ev.num_sample_images, size))
  if keep:
    out["_images"] = tuple(np.concatenate(parts)[:keep] for parts in zip(*shown, strict=True))
  return out


def _pair_errors(exp, drun, dec, emb, key: Array, num: int, size: int) -> dict:
  """Noise-prediction errors on ``num`` generated pairs, in batches of ``size``."""
  d = int(np.prod(exp.spec.input_shape))
  classes = exp.spec.num_classes if exp.label_key else 0
  sums, seen = {"embed": 0.0, "invert": 0.0}, 0
  for i in range(math.ceil(num / size)):
    kz, ky = jax.random.split(jax.random.fold_in(key, i))
    z = jax.random.normal(kz, (size, d))
    y = jax.random.randint(ky, (size,), 0, classes) if classes else None
    x = dec(z, y)
    take = min(size, num - seen)
    # Generated images need not lie in [0, 1] (Run.encode's check is for user input).
    inverted = drun.family_impl.encode(drun, x, y)
    for name, z_hat in (("embed", emb(x, y)), ("invert", inverted)):
      sums[name] += float(jnp.sum(jnp.square(z_hat - z)[:take]))
    seen += take
  return {"embed_noise_mse": sums["embed"] / (seen * d),
          "invert_noise_mse": sums["invert"] / (seen * d), "num_pairs": seen}


def noise_encoder_report(run, key: Array, write_images: bool) -> dict:
  """The figures of an embedding run's ``metrics.json``; writes ``reconstructions.png``."""
  from latentjax import viz

  exp = run.exp
  from latentjax.training._family_noise_encoder import diffusion_run

  drun_ev = diffusion_run(exp.cfg).exp.cfg.eval
  enc_vars = run.family_impl.encoder_variables(exp, run.state)
  out = noise_encoder_metrics(exp, enc_vars, jax.random.fold_in(key, EVAL_KEY),
                              keep=_NUM_SHOWN if write_images else 0)
  images = out.pop("_images", None)
  out.update(diffusion_run=exp.cfg.model.latent_run, sampler=drun_ev.sampler,
             sampling_steps=drun_ev.sampling_steps)
  out["measures"] = (
      "per-dimension squared error ([-1, 1] units) of the diffusion run's "
      f"{drun_ev.sampler} decoding ({drun_ev.sampling_steps} steps) of the embedding "
      "network's noise (embed_recon_mse), and of DDIM inversion sampled back with "
      f"deterministic DDIM (eta = 0, {drun_ev.sampling_steps} steps; invert_recon_mse), on "
      "test images; squared error of either noise on generated (noise, image) pairs")
  out = {k: None if isinstance(v, float) and not math.isfinite(v) else v
         for k, v in out.items()}
  if images is not None and jax.process_index() == 0:
    x, embedded, inverted = images
    viz.image_grid(np.concatenate([x, embedded, inverted]), ncols=len(x),
                   path=os.path.join(run.workdir, "reconstructions.png"))
    out["images"] = ["reconstructions.png"]
  return out
