"""The words of the report for each model family: titles, labels, metric rows, captions.

Cheap checks on the functions that name things, with stand-in runs built from the
registered families; the end-to-end reports of each family are in tests/test_explore*.py.
"""

import types

import pytest

from experiments import _cli
from latentjax import explore, training

# family, its config overrides -> (label in tables, the report's title on `digits`).
_FAMILIES = [
    ("ae", {}, "16-D autoencoder", "Latent space of a 16-D autoencoder on digits"),
    ("vae", {}, "16-D VAE", "Latent space of a 16-D VAE on digits"),
    ("vae", {"beta": 4.0}, "16-D β-VAE", "Latent space of a 16-D β-VAE on digits"),
    ("cvae", {}, "16-D conditional VAE", "Latent space of a 16-D conditional VAE on digits"),
    ("gan", {}, "8-D GAN", "Latent space of an 8-D GAN on digits"),
    ("cgan", {}, "8-D conditional GAN", "Latent space of an 8-D conditional GAN on digits"),
    ("diffusion", {}, "diffusion model",
     "Noise space of a diffusion model (8×8×1 = 64-D) on digits"),
    ("cdiffusion", {}, "conditional diffusion model",
     "Noise space of a conditional diffusion model (8×8×1 = 64-D) on digits"),
    ("diffusion", {"latent_run": "runs/vae"}, "latent diffusion model",
     "Noise space of a latent diffusion model (16-D codes of runs/vae) on digits"),
    ("noise_encoder", {"latent_run": "runs/ddpm"}, "noise encoder",
     "Noise space of a noise encoder (8×8×1 = 64-D) on digits"),
    ("classifier", {}, "32-D classifier", "Latent space of a 32-D classifier on digits"),
]
_LATENT = {"ae": 16, "vae": 16, "cvae": 16, "gan": 8, "cgan": 8, "noise_encoder": 64,
           "classifier": 32}
_CONFIG_NAMES = {"AE", "CVAE", "CGAN", "DIFFUSION", "CDIFFUSION", "NOISE_ENCODER", "CLASSIFIER"}


def _stand_in_run(family: str, beta: float = 1.0, latent_run: str = ""):
  """What the naming functions read of a `training.Run`, for a run on `digits`."""
  impl = training.get_family(family)
  latent_dim = _LATENT.get(family, 16 if latent_run else 64)
  cfg = types.SimpleNamespace(
      model=types.SimpleNamespace(family=family, latent_run=latent_run),
      objective=types.SimpleNamespace(beta=beta), data=types.SimpleNamespace(name="digits"))
  exp = types.SimpleNamespace(cfg=cfg, family=family, spec=types.SimpleNamespace(
      input_shape=(8, 8, 1)), is_variational=family in ("vae", "cvae"))
  return types.SimpleNamespace(exp=exp, family=family, family_impl=impl, latent_dim=latent_dim)


@pytest.mark.parametrize("family, overrides, label, title", _FAMILIES,
                         ids=[f"{f}{'-' + '-'.join(o) if o else ''}"
                              for f, o, _, _ in _FAMILIES])
def test_reports_name_each_family_in_words_not_its_config_name(family, overrides, label,
                                                               title):
  run = _stand_in_run(family, **overrides)
  assert explore.run_label(run) == label
  assert explore.report_title(run) == title
  assert not _CONFIG_NAMES & set(title.replace("(", " ").split()), title


def test_metrics_table_names_the_elbo_only_for_runs_that_have_one():
  gan = {"measures": "mode coverage of generator samples", "modes_covered": 8}
  vae = {"measures": "lower bound on log p(x)", "elbo_nats": -30.0, "iwae_nats": -29.0}
  rows = explore.metrics_table({"8-D GAN": gan})
  assert not any("ELBO" in r["metric"] or "IWAE" in r["metric"] for r in rows), rows
  assert rows[0] == {"metric": "what the figures measure",
                     "8-D GAN": "mode coverage of generator samples"}
  assert explore.metrics_table({"16-D VAE": vae})[0]["metric"] == (
      "what the ELBO / IWAE figures are")
  diffusion = {"measures": "denoising loss", "eval_loss": 0.8}
  assert "ELBO" not in explore.metrics_table({"diffusion model": diffusion})[0]["metric"]


def test_metrics_table_says_why_a_reverse_kl_is_absent():
  # metrics.json holds null where no sample was high quality: the histogram is empty.
  gan = {"modes_covered": 0, "high_quality_fraction": 0.0, "reverse_kl": None}
  rows = {r["metric"].split(" (")[0]: r["8-D GAN"]
          for r in explore.metrics_table({"8-D GAN": gan})}
  assert rows["reverse KL of the mode histogram to uniform"] == (
      "undefined: no high-quality sample")
  rows = explore.metrics_table({"a": {"reverse_kl": 0.1}, "b": {"modes_covered": 3}})
  assert rows[-1]["b"] == ""  # a run without the figure stays blank


def test_interpolation_captions_say_what_each_endpoint_is():
  labels = [3, 7, 2]
  assert explore.example_label(2, labels) == "test image 2 (class 2)"
  assert explore.example_label(1, labels, split="train") == "train image 1 (class 7)"
  assert explore.example_label(0, None) == "test image 0"


def test_training_summary_of_a_toy2d_gan_counts_samples_not_test_examples(capsys):
  metrics = {"split": "test", "modes_covered": 7, "high_quality_fraction": 0.9,
             "reverse_kl": 0.05, "num_samples": 2500,
             "measures": "mode coverage of generator samples"}
  _cli.print_summary("/tmp/run", metrics)
  out = capsys.readouterr().out
  assert out.startswith("Evaluation of 2500 generated samples: modes_covered=7"), out
  assert "examples" not in out
  _cli.print_summary("/tmp/run", {"split": "test", "num_examples": 64, "num_samples": 64,
                                    "sample_pixel_std": 0.1})
  out = capsys.readouterr().out
  assert out.startswith("Evaluation on test (64 examples, 64 generated samples): "), out
  _cli.print_summary("/tmp/run", {"split": "test", "num_examples": 64, "elbo_nats": -30.0})
  assert capsys.readouterr().out.startswith("Evaluation on test (64 examples): elbo_nats")
