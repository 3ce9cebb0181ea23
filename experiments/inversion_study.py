"""How well, and how fast, can test images be put into a diffusion model's noise?

    python -m experiments.inversion_study --workdir=runs/ddpm [--embedding_workdir=runs/embed] \\
        [--num_images=64] [--steps=10,20,50,100]

On the first ``--num_images`` test images of the run's dataset (with their labels for a
class-conditional run; its classifier-free guidance, if configured, is part of ``eps``):

1. DDIM inversion then DDIM sampling (Song et al., 2021) at each ``--steps``: the
   per-dimension squared error, images in [-1, 1], beside the DDIM paper's CIFAR-10
   figures (0.014 at 10 steps, 0.0065 at 20, 0.0023 at 50, 0.0009 at 100), and the wall
   time of each direction;
2. the exact inversion of EDICT (Wallace et al., 2023; ``diffusion.exact_invert`` then
   ``exact_sample``) at the same steps: error and wall time; it evaluates ``eps`` twice
   per step in each direction, twice DDIM's evaluations;
3. at the run's ``eval.sampling_steps`` S, the optimisation-based embedding
   (``diffusion.optimize_noise``: Adam on the DDIM reconstruction error, started from
   ``ddim_invert``) and, with ``--embedding_workdir``, the embedding network of a
   ``noise_encoder`` run on this diffusion run (Asperti et al., 2023), at equal wall time.

"Equal wall time" means: the reference time is that of the embedding network's whole
reconstruction (its forward pass, then the S-step DDIM decode; without an embedding run,
the S-step decode alone), for the whole batch of test images. A budget of m times the
reference buys optimize_noise as many Adam iterations k as fit after its start and
finish: ``init (ddim_invert) + k * iteration + decode <= budget``; its error after k
iterations is read from one optimisation of ``--optimize_iters`` iterations (its loss
before step k is the error of the k-th latent). Wall times are of compiled calls
(compilation excluded), the best of ``--repeats``, on whatever device JAX uses.
``<workdir>/inversion_study.json`` holds every figure.
"""

import json
import math
import os
import time

import numpy as np
from absl import flags

from experiments import _cli

_WORKDIR = flags.DEFINE_string("workdir", "runs/ddpm", "A trained diffusion run.")
_EMBEDDING = flags.DEFINE_string("embedding_workdir", "",
                                 "A noise_encoder run on --workdir ('': none).")
_NUM_IMAGES = flags.DEFINE_integer("num_images", 64, "Test images inverted.")
_STEPS = flags.DEFINE_list("steps", ["10", "20", "50", "100"], "DDIM / EDICT step counts.")
_ITERS = flags.DEFINE_integer("optimize_iters", 100, "Adam iterations of optimize_noise.")
_LR = flags.DEFINE_float("optimize_lr", 0.01, "Adam's learning rate in optimize_noise.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed calls of each (the best is kept).")

STUDY_FILE = "inversion_study.json"
# Song et al. (2021), reconstruction error of DDIM inversion on the CIFAR-10 test set.
DDIM_PAPER_CIFAR10 = {10: 0.014, 20: 0.0065, 50: 0.0023, 100: 0.0009}
BUDGET_MULTIPLES = (1, 2, 5, 10, 20, 50, 100)
EQUAL_TIME = (
    "the reference time is the embedding network's whole reconstruction of the batch (its "
    "forward pass, then the S-step DDIM decode; without an embedding run, the decode "
    "alone); a budget of m x reference gives optimize_noise the k Adam iterations with "
    "init (ddim_invert) + k x iteration + decode <= budget (none if even k = 0 does not "
    "fit); wall times of compiled calls, compilation excluded")


def _timed(fn, repeats: int):
  """``(result, seconds)``: ``fn()`` once to compile, then the best of ``repeats`` calls."""
  import jax

  out = jax.block_until_ready(fn())
  best = math.inf
  for _ in range(repeats):
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    best = min(best, time.perf_counter() - t0)
  return out, best


def _mse(a, b) -> float:
  """Per-dimension squared error of two [-1, 1] image batches."""
  return float(np.mean(np.square(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def _load(workdir: str, num_images: int):
  """``(run, static, x [N, H, W, C] in [0, 1], y or None)``; a pixel-space diffusion run."""
  from latentjax import training
  from latentjax.training._evaluate import eval_batches

  run = training.load_run(workdir)
  if run.exp.family not in ("diffusion", "cdiffusion") or run.exp.cfg.model.latent_run:
    raise ValueError(f"--workdir={workdir!r} is a {run.exp.family!r} run"
                     f"{' of latent codes' if run.exp.cfg.model.latent_run else ''}; the "
                     f"study needs a diffusion run of images")
  _, static = run.family_impl.decoding(run.exp)
  if not static.rescale:
    raise ValueError(f"--workdir={workdir!r} models {run.exp.spec.input_key!r} data, not "
                     f"images in [0, 1]")
  batch = next(eval_batches(run.exp, run.exp.eval_split, num_images, batch_size=num_images))
  x = np.asarray(batch[run.exp.spec.input_key], np.float32)
  y = np.asarray(batch[run.exp.label_key], np.int32) if run.exp.label_key else None
  return run, static, x, y


def _with_steps(static, num_steps: int):
  """The run's decoding constants with a deterministic ``num_steps``-step DDIM sampler."""
  from latentjax.training._family_diffusion import ddim_static

  return ddim_static(static, num_steps)


def _ddim_and_exact(run, static, x, y, steps, repeats: int):
  """Rows of parts 1 and 2: DDIM and EDICT round trips at each step count."""
  import jax.numpy as jnp

  from latentjax import diffusion
  from latentjax.diffusion._inversion import EDICT_MIX
  from latentjax.training._family_diffusion import (
      _jitted,
      decode_noise,
      eps_function,
      invert_to_noise,
      make_schedule,
  )

  v, x0 = run.variables, 2.0 * x - 1.0
  yj = None if y is None else jnp.asarray(y)
  eps = eps_function(static, v, yj)
  s = make_schedule(static.objective)
  ddim, exact = [], []
  for n in steps:
    sn = _with_steps(static, n)
    z, t_inv = _timed(lambda sn=sn: _jitted(invert_to_noise)(sn, v, x, yj), repeats)
    rec, t_dec = _timed(lambda sn=sn, z=z: _jitted(decode_noise)(sn, v, z, yj), repeats)
    ddim.append({"steps": n, "mse": _mse(2.0 * np.asarray(rec) - 1.0, x0),
                 "paper_cifar10_mse": DDIM_PAPER_CIFAR10.get(n), "invert_s": t_inv,
                 "sample_s": t_dec, "round_trip_s": t_inv + t_dec, "eps_evals": 2 * n})
    pair, t_inv = _timed(lambda n=n: diffusion.exact_invert(s, eps, x0, n), repeats)
    (rec, _), t_dec = _timed(lambda n=n, p=pair: diffusion.exact_sample(s, eps, p, n), repeats)
    exact.append({"steps": n, "mse": _mse(rec, x0), "invert_s": t_inv, "sample_s": t_dec,
                  "round_trip_s": t_inv + t_dec, "eps_evals": 4 * n,
                  "mix": EDICT_MIX})
  return ddim, exact


def _equal_time(run, static, x, y, embedding_workdir, iters: int, lr: float, repeats: int):
  """Part 3: the embedding network and optimize_noise at equal wall time."""
  import jax.numpy as jnp

  from latentjax import diffusion, training
  from latentjax.training._family_diffusion import (
      _jitted,
      decode_noise,
      eps_function,
      invert_to_noise,
      make_schedule,
  )

  steps = static.eval.sampling_steps
  sn, v, x0 = _with_steps(static, steps), run.variables, 2.0 * x - 1.0
  yj = None if y is None else jnp.asarray(y)
  out = {"meaning": EQUAL_TIME, "sampling_steps": steps, "embedding": None}
  z, t_inv = _timed(lambda: _jitted(invert_to_noise)(sn, v, x, yj), repeats)
  rec, t_dec = _timed(lambda: _jitted(decode_noise)(sn, v, z, yj), repeats)
  out["ddim_invert"] = {"mse": _mse(2.0 * np.asarray(rec) - 1.0, x0), "total_s": t_inv + t_dec}
  reference = t_dec
  if embedding_workdir:
    erun = training.load_run(embedding_workdir)
    named = erun.exp.cfg.model.latent_run
    if erun.exp.family != "noise_encoder" or os.path.realpath(named) != os.path.realpath(
        run.workdir):
      raise ValueError(f"--embedding_workdir={embedding_workdir!r} is not a noise_encoder run "
                       f"of --workdir={run.workdir!r} (family {erun.exp.family!r}, "
                       f"model.latent_run={named!r})")
    ze, t_enc = _timed(lambda: erun.encode(x, yj), repeats)
    rec, t_edec = _timed(lambda: _jitted(decode_noise)(sn, v, ze, yj), repeats)
    out["embedding"] = {"workdir": embedding_workdir, "step": erun.step,
                        "mse": _mse(2.0 * np.asarray(rec) - 1.0, x0), "encode_s": t_enc,
                        "decode_s": t_edec, "total_s": t_enc + t_edec}
    reference = t_enc + t_edec
  eps = eps_function(static, v, yj)
  s = make_schedule(static.objective)
  (_, losses), t_opt = _timed(
      lambda: diffusion.optimize_noise(s, eps, x0, steps, num_iters=iters, learning_rate=lr),
      repeats)
  losses = np.asarray(losses, np.float64)
  t_iter = max(t_opt - t_inv, 0.0) / iters
  out["optimize"] = {"iterations_run": iters, "learning_rate": lr, "init_s": t_inv,
                     "iteration_s": t_iter, "decode_s": t_dec, "total_s": t_opt + t_dec,
                     "start_mse": float(losses[0]), "final_mse": float(losses[-1])}
  out["reference_s"] = reference
  out["reference"] = "embedding forward + decode" if embedding_workdir else "decode"
  rows = []
  for m in BUDGET_MULTIPLES:
    budget = m * reference
    spare = budget - t_inv - t_dec
    k = None if spare < 0 else (int(spare / t_iter) if t_iter > 0 else iters - 1)
    row = {"multiple": m, "budget_s": budget, "iterations": k, "capped": False, "mse": None}
    if k is not None:
      row["capped"] = k > iters - 1
      row["iterations"] = min(k, iters - 1)
      row["mse"] = float(losses[row["iterations"]])
    rows.append(row)
  out["budgets"] = rows
  return out


def study(workdir: str, *, embedding_workdir: str = "", num_images: int = 64,
          steps=(10, 20, 50, 100), optimize_iters: int = 100, optimize_lr: float = 0.01,
          repeats: int = 3) -> dict:
  """Runs the study of the module docstring; writes ``<workdir>/inversion_study.json``.

  Args:
    workdir: a trained pixel-space ``diffusion`` / ``cdiffusion`` run.
    embedding_workdir: a ``noise_encoder`` run on it, or "".
    num_images: test images, >= 1.
    steps: DDIM / EDICT step counts, each in ``[1, objective.num_timesteps]``.
    optimize_iters: Adam iterations of ``optimize_noise`` (>= 1).
    optimize_lr: its learning rate (> 0).
    repeats: timed calls per measurement (>= 1), after one compiling call.

  Returns:
    The figures (also in the JSON file).

  Raises:
    ValueError: for bad arguments, a run that is not a diffusion run of images, or an
      embedding run of another diffusion run.

  Example:
    >>> out = study("runs/ddpm", embedding_workdir="runs/embed", steps=(10, 50))
  """
  steps = tuple(int(n) for n in steps)
  if not steps or min(steps) < 1:
    raise ValueError(f"`steps` must be step counts >= 1, got {steps}")
  for name, value in (("num_images", num_images), ("optimize_iters", optimize_iters),
                      ("repeats", repeats)):
    if value < 1:
      raise ValueError(f"`{name}` must be >= 1, got {value}")
  if not optimize_lr > 0:
    raise ValueError(f"`optimize_lr` must be > 0, got {optimize_lr}")
  run, static, x, y = _load(workdir, num_images)
  ddim, exact = _ddim_and_exact(run, static, x, y, steps, repeats)
  out = {"workdir": workdir, "step": run.step, "dataset": run.exp.cfg.data.name,
         "split": run.exp.eval_split, "num_images": len(x), "conditional": y is not None,
         "guidance_scale": static.eval.guidance_scale,
         "units": "per-dimension mean squared error, images in [-1, 1]; seconds for the "
                  "whole batch, compiled, best of repeats",
         "ddim": ddim, "exact": exact,
         "exact_cost": "EDICT evaluates eps twice per step in each direction: 2x DDIM",
         "equal_time": _equal_time(run, static, x, y, embedding_workdir, optimize_iters,
                                   optimize_lr, repeats)}
  with open(os.path.join(workdir, STUDY_FILE), "w") as f:
    json.dump(out, f, indent=2)
  return out


def _print(out: dict) -> None:
  print(f"{out['num_images']} test images of {out['dataset']} ({out['split']}); {out['units']}")
  print(f"{'steps':>6} {'DDIM mse':>10} {'paper':>8} {'DDIM s':>8} {'EDICT mse':>10} "
        f"{'EDICT s':>8}")
  for d, e in zip(out["ddim"], out["exact"], strict=True):
    paper = f"{d['paper_cifar10_mse']:.4g}" if d["paper_cifar10_mse"] is not None else "-"
    print(f"{d['steps']:>6} {d['mse']:>10.3g} {paper:>8} {d['round_trip_s']:>8.3f} "
          f"{e['mse']:>10.3g} {e['round_trip_s']:>8.3f}")
  print(f"(paper: DDIM, CIFAR-10; {out['exact_cost']})")
  eq = out["equal_time"]
  print(f"\nEqual wall time at S = {eq['sampling_steps']} steps: {eq['meaning']}.")
  if eq["embedding"]:
    e = eq["embedding"]
    print(f"embedding network: mse {e['mse']:.3g} in {e['total_s']:.3f} s")
  d = eq["ddim_invert"]
  print(f"ddim_invert (optimize_noise's start): mse {d['mse']:.3g} in {d['total_s']:.3f} s")
  print(f"{'budget':>8} {'seconds':>9} {'iters':>6} {'optimize mse':>13}")
  for r in eq["budgets"]:
    it = "-" if r["iterations"] is None else f"{r['iterations']}{'+' if r['capped'] else ''}"
    mse = "does not fit" if r["mse"] is None else f"{r['mse']:.3g}"
    print(f"{r['multiple']:>7}x {r['budget_s']:>9.3f} {it:>6} {mse:>13}")


def main(argv):
  del argv
  out = _cli.run_or_exit(study, _WORKDIR.value, embedding_workdir=_EMBEDDING.value,
                         num_images=_NUM_IMAGES.value, steps=_STEPS.value,
                         optimize_iters=_ITERS.value, optimize_lr=_LR.value,
                         repeats=_REPEATS.value)
  _print(out)
  print(f"Written to {os.path.join(_WORKDIR.value, STUDY_FILE)}")


if __name__ == "__main__":
  _cli.main(main)
