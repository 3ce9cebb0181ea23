"""The progress bar: one rate, an ETA, the losses of the run's family.

It showed two rates that disagreed (tqdm's average over every update, compilation
included, beside the window's ``steps_s``), only ``loss`` (a GAN's ``d_loss``), nothing
at all for ``:smoke`` configs, and a full bar "8/8" for a finished run before it was
evaluated.
"""

import shutil

from configs import dcgan_digits, vae_digits
from latentjax import training
from latentjax.training import _loop
from latentjax.training._families import get_family
from tests._helpers import smoke_config


def test_progress_text_has_one_rate_and_an_eta():
  metrics = {"d_loss": 1.3812, "g_loss": 0.69312, "steps_per_sec": 212.4, "d_real": 0.1}
  assert (_loop.progress_text(metrics, ("d_loss", "g_loss"), 1000)
          == "d_loss=1.381, g_loss=0.6931, 212 step/s, ETA 0:05")
  assert (_loop.progress_text({"loss": 2.0, "steps_per_sec": 0.5}, ("loss", "kl"), 4000)
          == "loss=2, 0.5 step/s, ETA 2:13:20")


def test_each_family_names_the_losses_its_step_reports():
  assert get_family("gan").progress_metrics(None) == ("d_loss", "g_loss")
  assert get_family("vae").progress_metrics(None) == ("loss", "kl")
  assert get_family("diffusion").progress_metrics(None) == ("loss",)
  assert dcgan_digits.get_config("smoke").train.progress_bar
  assert vae_digits.get_config("smoke").train.progress_bar


def test_a_finished_run_says_so_instead_of_a_full_bar(vae_smoke_run, tfds_data_dir, tmp_path,
                                                      capsys):
  workdir = tmp_path / "run"
  shutil.copytree(vae_smoke_run, workdir)
  config = smoke_config(vae_digits, tfds_data_dir)  # vae_smoke_run's config
  capsys.readouterr()
  assert training.train(config, str(workdir)) == {}
  out, err = capsys.readouterr()
  assert out == f"{workdir}: already trained to step 8 of 8, nothing to train\n"
  assert "8/8" not in err
