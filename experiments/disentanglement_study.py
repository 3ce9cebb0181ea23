"""β-VAE on sprites over β and seeds, scored as Locatello et al. (2019) do.

    python -m experiments.disentanglement_study --workdir=runs/locatello \\
        --betas=1,4,8,16 --seeds=0,1,2 --num_steps=5000

Trains ``configs/betavae_sprites.py`` (10 latents, conv encoder/decoder, sprites/32_lite)
for each β and seed into ``<workdir>/beta<β>_seed<seed>`` (finished runs are reused),
scores the encoder means of each (MIG, SAP, DCI, β-VAE and FactorVAE scores, into the
run's ``scores.json``, with its test ELBO and IWAE-100 bound), and prints the mean ±
standard deviation over seeds per β; ``study.json`` in ``--workdir`` holds every run's
figures. The protocol's sizes are ``config.eval``'s:
10,000 / 5,000 points for MIG, SAP and DCI; ``--intervention_points`` training points
(half as many for evaluation) for the β-VAE and FactorVAE scores, whose cost grows as
64 images per point (the protocol's 10,000 take about 15 minutes per run on 2 CPU cores).
"""

import dataclasses
import json
import os

import numpy as np
from absl import flags

from experiments import _cli

_WORKDIR = flags.DEFINE_string("workdir", "runs/locatello", "Folder of the study's runs.")
_BETAS = flags.DEFINE_list("betas", ["1", "4", "8", "16"], "Values of objective.beta.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds of each β.")
_STEPS = flags.DEFINE_integer("num_steps", 5000, "Training steps of each run.")
_INTERVENTION = flags.DEFINE_integer(
    "intervention_points", 2000, "Training points of the β-VAE / FactorVAE scores.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "TFDS data directory ('': TFDS default).")

SCORES_FILE = "scores.json"
SCORES = ("mig", "sap", "dci_disentanglement", "dci_completeness",
          "dci_informativeness_test", "betavae_eval_accuracy", "factorvae_eval_accuracy",
          "iwae_100_nats")


def _config(beta: float, seed: int):
  from configs import betavae_sprites

  c = betavae_sprites.get_config()
  c.objective.beta = beta
  c.seed = seed
  c.train.num_steps = _STEPS.value
  c.train.checkpoint_every_steps = _STEPS.value
  c.train.progress_bar = False
  c.eval.num_intervention_points = _INTERVENTION.value
  c.data.data_dir = _DATA_DIR.value
  return c


def _run(beta: float, seed: int) -> dict:
  """Trains (if needed) and scores one run; returns its figures (also in scores.json)."""
  import jax

  from latentjax import training

  workdir = os.path.join(_WORKDIR.value, f"beta{beta:g}_seed{seed}")
  path = os.path.join(workdir, SCORES_FILE)
  settings = {"step": _STEPS.value, "intervention_points": _INTERVENTION.value}
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    if saved.get("settings") == settings:
      return saved["scores"]
  if not os.path.exists(os.path.join(workdir, "metrics.json")):
    training.train_and_evaluate(_config(beta, seed), workdir)
  with open(os.path.join(workdir, "metrics.json")) as f:
    final = json.load(f)
  run = training.load_run(workdir)
  if run.step != _STEPS.value:
    raise ValueError(f"{workdir} is at step {run.step}, not --num_steps={_STEPS.value}")
  run = dataclasses.replace(run, exp=dataclasses.replace(
      run.exp, cfg=dataclasses.replace(run.exp.cfg, eval=dataclasses.replace(
          run.exp.cfg.eval, num_intervention_points=_INTERVENTION.value))))
  scores = training.quality_metrics(run, jax.random.PRNGKey(run.exp.cfg.seed), latent=False,
                                    bounds=False)
  scores["iwae_100_nats"] = final.get("iwae_nats")
  scores["elbo_nats"] = final.get("elbo_nats")
  with open(path, "w") as f:
    json.dump({"settings": settings, "scores": scores}, f, indent=2)
  return scores


def summarize(results: dict) -> list[dict]:
  """Per β: the mean and standard deviation (ddof=1) over seeds of each score."""
  rows = []
  for beta, runs in results.items():
    row = {"beta": beta, "seeds": len(runs)}
    for k in SCORES:
      values = np.array([r[k] for r in runs if r.get(k) is not None], np.float64)
      if len(values):
        row[k] = (float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0)
    rows.append(row)
  return rows


def main(argv):
  del argv
  results = {}
  for beta in (float(b) for b in _BETAS.value):
    results[f"{beta:g}"] = []
    for seed in (int(s) for s in _SEEDS.value):
      print(f"β = {beta:g}, seed {seed} ...", flush=True)
      results[f"{beta:g}"].append(_cli.run_or_exit(_run, beta, seed))
  rows = summarize(results)
  with open(os.path.join(_WORKDIR.value, "study.json"), "w") as f:
    json.dump({"runs": results, "summary": rows}, f, indent=2)
  print("β    " + "".join(f"{k:>26}" for k in SCORES))
  for row in rows:
    cells = "".join(f"{row[k][0]:>17.3f} ± {row[k][1]:<6.3f}" if k in row else f"{'':>26}"
                    for k in SCORES)
    print(f"{row['beta']:<5}{cells}")
  print(f"Written to {os.path.join(_WORKDIR.value, 'study.json')}")


if __name__ == "__main__":
  _cli.main(main)
