"""Every metric that applies to a run, end to end: evaluate(quality=True), the
evaluate entry point, and the metrics logged during training (eval.quality_every_steps).

Smoke runs on the built-in data; the feature network is the briefly trained digits
classifier of conftest (its features are real, its accuracy modest: what is checked is
that every metric is computed on the right things, with values in their ranges).
"""

import json
import math
import os

import jax
import numpy as np
import pytest

from configs import betavae_sprites, cvae_digits, dcgan_digits, vae_digits
from latentjax import explore, training
from latentjax.training._config import ConfigError
from tests._helpers import run_module, smoke_config

SAMPLE_KEYS = ("fid", "kid_mean", "kid_std", "precision", "recall", "density", "coverage",
               "classes_covered", "class_coverage", "class_kl", "is_mean")
FRACTIONS = ("precision", "recall", "coverage", "class_coverage")


def _smoke(module, data_dir, **eval_keys):
  return smoke_config(module, data_dir, eval=eval_keys)


@pytest.fixture
def vae_run(vae_smoke_run):
  return vae_smoke_run  # the session's vae_digits smoke run


def _check_sample_scores(q, prefix):
  for k in SAMPLE_KEYS:
    v = q[f"{prefix}_{k}"]
    assert isinstance(v, (int, float)) and math.isfinite(v), (prefix, k, v)
  for k in FRACTIONS:
    assert 0.0 <= q[f"{prefix}_{k}"] <= 1.0
  assert q[f"{prefix}_fid"] >= 0 and q[f"{prefix}_is_mean"] >= 1.0 - 1e-6
  assert 1 <= q[f"{prefix}_classes_covered"] <= 10


def test_vae_run_gets_sample_reconstruction_latent_and_likelihood_metrics(
    vae_run, digits_feature_net):
  net, _ = digits_feature_net
  out = training.evaluate(vae_run, quality=True, feature_net=net, write_images=False)
  with open(os.path.join(vae_run, "metrics.json")) as f:
    assert json.load(f) == out
  q = out["quality"]
  assert q["feature_network"] == net.workdir and q["quality_num_examples"] == 64
  _check_sample_scores(q, "samples")
  _check_sample_scores(q, "recon")
  assert "samples_label_accuracy" not in q  # unconditional
  assert 0.0 <= q["probe_accuracy_label"] <= 1.0
  assert -1.0 <= q["cluster_ari_label"] <= 1.0 and 0.0 <= q["cluster_nmi_label"] <= 1.0
  assert q["ppl"] >= 0 and q["ppl_features"] == "feature network"
  assert 0.0 < q["geodesic_ratio"] <= 1.0 + 1e-2
  # The bounds of the evaluation split, in nats and bits/dim, for k = 1 and the smoke
  # config's eval.num_iwae_samples = 4 (1, 10, 100 by default).
  assert q["bounds_num_examples"] == 64
  assert q["iwae_1_nats"] <= q["iwae_4_nats"] + 0.5
  assert q["iwae_4_bits_per_dim"] == pytest.approx(-q["iwae_4_nats"] / (64 * math.log(2)))
  # The report's quality table shows them, one row per metric.
  rows = {r["metric"]: r["vae"] for r in explore.quality_table({"vae": out, "other": None})}
  assert rows["samples: FID (lower is better)"] == q["samples_fid"]
  assert rows["reconstructions: precision (fraction of samples on the data manifold)"] == (
      q["recon_precision"])
  assert rows["linear-probe accuracy of the codes (classes)"] == q["probe_accuracy_label"]


def test_a_conditional_run_scores_samples_against_the_class_requested(
    tfds_data_dir, digits_feature_net, tmp_path):
  from latentjax.training import _quality

  net, _ = digits_feature_net
  training.train(_smoke(cvae_digits, tfds_data_dir), str(tmp_path))
  run = training.load_run(str(tmp_path))
  key = jax.random.PRNGKey(run.exp.cfg.seed)
  q = training.quality_metrics(run, key, net, latent=False, bounds=False)
  # Samples are drawn for classes 0, 1, ..., 9, 0, ... in turn; the classifier's verdict.
  fake = _quality.generated_images(
      run, jax.random.fold_in(jax.random.fold_in(key, _quality.EVAL_KEY), _quality._SAMPLES),
      q["quality_num_examples"])
  predicted = next(iter(net.predict(fake).values()))
  want = np.mean(predicted == np.arange(len(fake)) % 10)
  assert q["samples_label_accuracy"] == pytest.approx(float(want))
  rows = {r["metric"]: r["c"] for r in explore.quality_table({"c": {"quality": q}})}
  assert rows["samples: classified as the class requested (conditional)"] == (
      q["samples_label_accuracy"])


def test_gan_run_gets_sample_metrics_and_path_length(tfds_data_dir, digits_feature_net,
                                                     tmp_path):
  net, _ = digits_feature_net
  training.train(_smoke(dcgan_digits, tfds_data_dir), str(tmp_path))
  run = training.load_run(str(tmp_path))
  q = training.quality_metrics(run, jax.random.PRNGKey(run.exp.cfg.seed), net)
  _check_sample_scores(q, "samples")
  assert not any(k.startswith("recon_") or k.startswith("probe_") for k in q)  # no encoder
  assert q["ppl"] >= 0


def test_betavae_on_sprites_gets_disentanglement_scores(tfds_data_dir, tmp_path):
  training.train(_smoke(betavae_sprites, tfds_data_dir), str(tmp_path))
  # The quality metrics alone (evaluate's own report and the IWAE sweep are the VAE test's).
  run = training.load_run(str(tmp_path))
  q = training.quality_metrics(run, jax.random.PRNGKey(run.exp.cfg.seed), None, bounds=False)
  for k in ("mig", "sap", "dci_disentanglement", "dci_completeness",
            "betavae_eval_accuracy", "factorvae_eval_accuracy"):
    assert 0.0 <= q[k] <= 1.0, (k, q[k])
  for name in ("shape", "scale", "orientation", "x_position", "y_position"):
    assert 0.0 <= q[f"probe_accuracy_{name}"] <= 1.0
  assert q["ppl_features"] == "data" and "samples_fid" not in q  # no feature network given


def test_quality_metrics_are_logged_during_training(tfds_data_dir, digits_feature_net,
                                                    tmp_path):
  net, _ = digits_feature_net
  config = _smoke(vae_digits, tfds_data_dir, quality_every_steps=4,
                  feature_network=net.workdir)
  training.train(config, str(tmp_path))
  records = training.read_metrics(str(tmp_path), split="eval")
  assert [r["step"] for r in records] == [4, 8]
  assert all(r["samples_fid"] >= 0 and 0 <= r["samples_precision"] <= 1 for r in records)


def test_quality_during_training_without_a_feature_network_fails_before_training(
    tfds_data_dir, tmp_path):
  config = _smoke(vae_digits, tfds_data_dir, quality_every_steps=4,
                  feature_network=str(tmp_path / "nothing"))
  with pytest.raises(ConfigError, match="config.eval.feature_network"):
    training.train(config, str(tmp_path / "run"))
  assert not os.path.exists(tmp_path / "run" / "checkpoints")


@pytest.mark.slow
def test_evaluate_entry_point_uses_the_cached_feature_network_and_prints_a_table(
    vae_run, digits_feature_net):
  _, cache = digits_feature_net
  proc = run_module("experiments.evaluate", f"--workdir={vae_run}",
                    env={"LATENTJAX_CACHE": cache}, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "samples_fid" in proc.stdout and "probe_accuracy_label" in proc.stdout
  assert f"Written to {vae_run}/metrics.json" in proc.stdout
