"""The main job on built-in data: train, evaluate and explore a VAE on `digits`.

    python -m experiments.demo --workdir=runs/demo        # what `make demo` runs

1. trains configs/vae_digits.py (16-D latent) in --workdir and evaluates it (test ELBO
   and IWAE-100 bound in nats, sample and reconstruction grids);
2. trains the 2-D-latent companion configs/vae2d_digits.py in <workdir>/companion_2d,
   whose latent plane the report draws the magnification factor and geodesics on;
3. trains (once, then cached) the digits feature network and adds the quality metrics
   of experiments/evaluate.py: FID / KID / precision / recall of samples and
   reconstructions, linear probe and clusters of codes, IWAE-1/10/100;
4. explores both and writes <workdir>/report.html, a page that opens from disk.

About 3 minutes on 2 CPU cores. Re-running reuses finished runs (and resumes
interrupted ones), so only the report is rebuilt. LATENTJAX_SMALL=1 makes the
exploration quick and rough.
"""

import json
import os
import time

from absl import app, flags

from experiments import _cli

_WORKDIR = flags.DEFINE_string("workdir", "runs/demo", "Run folder for the demo.")
_STEPS = flags.DEFINE_integer("num_steps", None, "Training steps of the 16-D VAE.")
_COMPANION_STEPS = flags.DEFINE_integer(
    "companion_steps", None, "Training steps of the 2-D companion VAE.")
_DATA_DIR = flags.DEFINE_string("data_dir", "", "TFDS data directory ('': TFDS default).")

COMPANION_DIR = "companion_2d"
MAIN_STEPS = 5000  # ~50 s on 2 CPU cores.
COMPANION_STEPS = 4000  # ~40 s.


def _finished(config, workdir: str) -> dict | None:
  """The metrics of a run already trained to `config`'s steps and evaluated, else None."""
  from latentjax import training

  path = os.path.join(workdir, "metrics.json")
  if not os.path.exists(path):
    return None
  try:
    trained = training.read_config(workdir)
  except FileNotFoundError:
    return None
  if json.loads(config.to_json()) != json.loads(trained.to_json()):
    return None
  with open(path) as f:
    metrics = json.load(f)
  if not training.has_checkpoint(workdir):
    return None
  ckpt = training.Checkpointer(workdir, read_only=True)
  try:
    latest = ckpt.latest_step()
  finally:
    ckpt.close()
  steps = config.train.num_steps
  return metrics if metrics.get("step") == steps and latest == steps else None


def _train(config, workdir: str, what: str) -> dict:
  from latentjax import training

  t = time.perf_counter()
  metrics = _finished(config, workdir)
  if metrics is not None:
    print(f"{what}: reusing the finished run in {workdir}")
    return metrics
  print(f"{what}: training {config.train.num_steps} steps in {workdir} ...", flush=True)
  metrics = _cli.run_or_exit(training.train_and_evaluate, config, workdir)
  print(f"{what}: trained and evaluated in {time.perf_counter() - t:.0f}s "
        f"(test ELBO {metrics['elbo_nats']:.2f} nats)", flush=True)
  return metrics


def net_accuracy(quality: dict) -> float:
  """The test accuracy of the feature network named in a quality block."""
  with open(os.path.join(quality["feature_network"], "metrics.json")) as f:
    return float(json.load(f)["accuracy_label"])


def _quality(workdir: str, metrics: dict, data_dir: str) -> dict:
  """Adds the sample-quality, latent and likelihood metrics (experiments/evaluate.py's)."""
  from configs import common
  from latentjax import metrics as metrics_lib
  from latentjax import training

  if metrics.get("quality"):
    print("[3/4] quality metrics: reusing metrics.json")
    return metrics
  t = time.perf_counter()
  cached = metrics_lib.feature_network_dir("digits")
  print(f"[3/4] feature network of digits ({cached}) and quality metrics ...", flush=True)
  classifier = common.classifier_config("digits")
  classifier.data.data_dir = data_dir
  net = _cli.run_or_exit(training.feature_network, "digits", config=classifier)
  metrics = _cli.run_or_exit(training.evaluate, workdir, quality=True, feature_net=net)
  q = metrics["quality"]
  print(f"[3/4] done in {time.perf_counter() - t:.0f}s: samples FID {q['samples_fid']:.2f}, "
        f"precision {q['samples_precision']:.2f}, recall {q['samples_recall']:.2f}; "
        f"IWAE-100 {q['iwae_100_nats']:.2f} nats", flush=True)
  return metrics


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from configs import vae2d_digits, vae_digits
  from latentjax import explore

  t0 = time.perf_counter()
  workdir = _WORKDIR.value
  config = vae_digits.get_config()
  config.train.num_steps = _STEPS.value or MAIN_STEPS
  companion = vae2d_digits.get_config()
  companion.train.num_steps = _COMPANION_STEPS.value or COMPANION_STEPS
  for c in (config, companion):
    c.data.data_dir = _DATA_DIR.value
  metrics = _train(config, workdir, f"[1/4] VAE, {config.model.latent_dim}-D latent")
  companion_dir = None
  if config.model.latent_dim != 2:
    companion_dir = os.path.join(workdir, COMPANION_DIR)
    _train(companion, companion_dir, "[2/4] companion VAE, 2-D latent")
  metrics = _quality(workdir, metrics, config.data.data_dir)
  print("[4/4] exploring the latent spaces ...", flush=True)
  report = _cli.run_or_exit(explore.build_report, workdir, companion_workdir=companion_dir,
                            settings=explore.ExploreSettings.from_env(),
                            progress=lambda line: print(f"  {line}", flush=True))
  minutes = (time.perf_counter() - t0) / 60
  print()
  print(f"Test ELBO:     {metrics['elbo_nats']:.2f} nats per image "
        f"({metrics['num_examples']} test digits)")
  print(f"Test IWAE-{metrics['iwae_num_samples']}: {metrics['iwae_nats']:.2f} nats per image")
  print(f"  (each a {metrics['measures']})")
  q = metrics["quality"]
  print(f"Samples vs test digits, in the features of the digits classifier "
        f"({100 * net_accuracy(q):.1f}% test accuracy): FID {q['samples_fid']:.2f}, "
        f"precision {q['samples_precision']:.2f}, recall {q['samples_recall']:.2f}, "
        f"{q['samples_classes_covered']} of 10 classes")
  print(f"Done in {minutes:.1f} min. Runs: {os.path.abspath(workdir)}"
        + (f" and {os.path.abspath(companion_dir)}" if companion_dir else ""))
  print(f"TensorBoard: tensorboard --logdir {workdir}")
  print("Open the report in a browser:")
  print(f"  {report.resolve()}")


if __name__ == "__main__":
  _cli.main(main)
