"""Bad command lines, as a user types them: one ``error:`` line naming the key, no traceback.

Each invocation is the real entry point in a process of its own (`run_entry_points`: the
processes are forked from one that imported the dependencies once); one case runs in a
fresh interpreter, start to exit. Before these fixes an unknown override key, a missing
config file, an unknown ``:arg`` and a damaged checkpoint printed tracebacks, a NaN
learning rate trained until the NaN stop, and a bad split or batch size failed late with
a message that did not name the key.
"""

import os
import shutil

import pytest

from configs import vae_digits
from latentjax import training
from tests._helpers import run_entry_points, run_module, smoke_config

# Its module-scoped runs are trained once: every test of the file on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_cli_errors")

_COMMON = [  # (arguments after --config=..., what the error line must name)
    (["--config.train.num_stepz=10"], "config.train.num_stepz"),
    (["--config.optim.learning_rate=nan"], "config.optim.learning_rate"),
]
_FAMILY_CONFIGS = ("ae_digits", "vae_digits", "cvae_digits", "betavae_sprites")
_ONCE = [
    (["--config.train.num_steps=abc"], "--config.train.num_steps=abc"),
    (["--config.model.latent_dim=-3"], "config.model.latent_dim"),
    (["--config.objective.beta=inf"], "config.objective.beta"),
    (["--config.objective.beta=-2.0"], "config.objective.beta must be >= 0, got -2.0"),
    (["--config.model.family=vea"], "config.model.family"),
    (["--config.model.hidden_dims=abc"], "config.model.hidden_dims"),
    (["--config.objective.binarize=maybe"], "--config.objective.binarize=maybe"),
    (["--config.data.name=mnits"], "config.data.name"),
    (["--config.data.train_split=trian"], "config.data.train_split"),
    (["--config.data.eval_split=tset"], "config.data.eval_split"),
    (["--config.data.batch_size=4096"], "config.data.batch_size"),
    (["--config.train.parallel=xmap"], "config.train.parallel"),
]
_OTHER_FAMILIES = [  # (config, arguments, what the error line must name): one value error
    # each for the families after the autoencoders, and one unknown key per family
    ("gan_ring8", ["--config.objective.n_critic=0"], "config.objective.n_critic"),
    ("gan_ring8", ["--config.objective.gan_loss=hinj"], "config.objective.gan_loss"),
    ("gan_ring8", ["--config.objective.r1_weight=-1"], "config.objective.r1_weight"),
    ("gan_ring8", ["--config.model.architecture=conv"], "config.model.architecture"),
    ("dcgan_digits", ["--config.gan.n_critic=2"], "config.gan.n_critic"),
    ("cgan_digits", ["--config.data.name=toy2d/ring8"], "config.data.name='toy2d/ring8'"),
    ("ddpm_digits", ["--config.objective.num_timesteps=1"], "config.objective.num_timesteps"),
    ("ddpm_digits", ["--config.eval.sampling_stpes=10"], "config.eval.sampling_stpes"),
    ("cddpm_digits", ["--config.objective.p_uncond=1.5"], "config.objective.p_uncond"),
    ("classifier_digits", ["--config.optim.learning_rate=inf"], "config.optim.learning_rate"),
    ("embed_digits", ["--config.model.latent_run=/nonexistent"],
     "config.model.latent_run"),
]


def _check(proc, *needles):
  errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
  assert proc.returncode == 1, proc.stderr[-2000:]
  assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
  assert len(errors) == 1, proc.stderr[-2000:]
  for needle in needles:
    assert needle in errors[0], errors[0]


def _train_args(config, workdir, data_dir, *extra):
  return ("experiments.train", [f"--config={config}", f"--workdir={workdir}",
                                f"--config.data.data_dir={data_dir}", *extra])


def test_bad_overrides_for_every_family_give_one_error_line(tfds_data_dir, tmp_path):
  # The unknown key for each autoencoder family, the NaN value for one (the value
  # checks are the families' shared optimiser section).
  cases = [(f"configs/{name}.py:smoke", *_COMMON[0]) for name in _FAMILY_CONFIGS]
  cases += [("configs/vae_digits.py:smoke", *_COMMON[1])]
  cases += [("configs/vae_digits.py:smoke", args, needle) for args, needle in _ONCE]
  cases += [(f"configs/{name}.py:smoke", args, needle)
            for name, args, needle in _OTHER_FAMILIES]
  cases += [("configs/nope.py", [], "--config=configs/nope.py: no such config file; "),
            ("configs/vae_digits.py:smok", [], "Unknown config argument 'smok'")]
  empty = tmp_path / "empty_tfds"  # a dataset that is not there, and may not be downloaded
  empty.mkdir()
  missing = _train_args("configs/vae_digits.py:smoke", tmp_path / "missing", empty,
                        "--config.data.name=mnist", "--config.data.download=False")
  *runs, missing_run = run_entry_points(
      [_train_args(c[0], tmp_path / f"run{i}", tfds_data_dir, *c[1])
       for i, c in enumerate(cases)] + [missing])
  for (config, args, needle), proc in zip(cases, runs, strict=True):
    try:
      _check(proc, needle)
    except AssertionError as e:
      raise AssertionError(f"{config} {' '.join(args)}: {e}") from None
  _check(missing_run, "mnist", "tfds build")


def test_a_bad_override_in_a_fresh_interpreter_gives_one_error_line(tfds_data_dir, tmp_path):
  module, args = _train_args("configs/vae_digits.py:smoke", tmp_path, tfds_data_dir,
                             "--config.train.num_stepz=10")
  _check(run_module(module, *args, timeout=300), "config.train.num_stepz")


@pytest.fixture(scope="module")
def trained_run(tfds_data_dir, tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("trained"))
  training.train(smoke_config(vae_digits, tfds_data_dir), workdir, until_step=4)
  return workdir


def _damaged_copy(run, dest):
  shutil.copytree(run, dest)
  meta = os.path.join(training.checkpoint_dir(dest), "4", "meta", "metadata")
  with open(meta, "w") as f:
    f.write('{"step": 4, "batch')
  return dest


def test_damaged_runs_and_mismatched_resumes_give_one_error_line(
    trained_run, vae_smoke_run, tfds_data_dir, tmp_path):
  damaged = _damaged_copy(trained_run, str(tmp_path / "damaged"))
  mismatched = shutil.copytree(trained_run, str(tmp_path / "mismatched"))
  config, one_device = "configs/vae_digits.py:smoke", "--config.train.num_devices=1"
  nothing = tmp_path / "nothing"
  runs = run_entry_points([
      _train_args(config, damaged, tfds_data_dir, one_device),
      ("experiments.evaluate", [f"--workdir={damaged}"]),
      _train_args(config, mismatched, tfds_data_dir, one_device,
                  "--config.data.batch_size=32"),
      ("experiments.evaluate", [f"--workdir={nothing}"]),
      ("experiments.explore", [f"--workdir={nothing}"]),
      ("experiments.explore", [f"--workdir={vae_smoke_run}",  # a companion that does not fit
                               f"--companion_workdir={vae_smoke_run}", "--small"]),
  ])
  needles = [["damaged: step 4"], ["damaged: step 4"], ["config.data.batch_size: 16 in the run"],
             ["config.json not found"], ["config.json not found"],
             ["--companion_workdir", "2-D latent"]]
  for needle, proc in zip(needles, runs, strict=True):
    _check(proc, *needle)
