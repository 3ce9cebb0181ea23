r"""Explores a trained run's latent space and writes a self-contained HTML report.

    python -m experiments.explore --workdir=runs/vae_digits
    python -m experiments.explore --workdir=runs/vae_digits \
        --companion_workdir=runs/vae2d_digits          # + geometry of a 2-D latent space
    python -m experiments.explore --workdir=runs/vae_digits --small --embed_images

A GAN run (`gan`, `cgan`) has no encoder: its report inverts test images through the
generator instead of encoding them, and shows mode coverage on `toy2d` data.

Writes <workdir>/report.html (pictures in <workdir>/explore/, or embedded with
--embed_images) and prints its path. Open it in a browser straight from disk.
"""

from absl import app, flags

from experiments import _cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Run folder written by experiments.train.")
_COMPANION = flags.DEFINE_string(
    "companion_workdir", None,
    "Optional run with a 2-D latent space on the same data, for the geometry section "
    "(e.g. one trained with configs/vae2d_digits.py).")
_OUTPUT = flags.DEFINE_string("output", None, "HTML file (default: <workdir>/report.html).")
_EMBED = flags.DEFINE_bool("embed_images", False, "Embed pictures in the HTML file.")
_SMALL = flags.DEFINE_bool(
    "small", False, "Small, fast settings (also chosen by LATENTJAX_SMALL=1).")
flags.mark_flag_as_required("workdir")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from latentjax import explore, training

  training.keep_freed_host_memory()  # each compiled step reuses its host buffers
  settings = explore.ExploreSettings.small() if _SMALL.value else (
      explore.ExploreSettings.from_env())
  try:
    path = _cli.run_or_exit(explore.build_report, _WORKDIR.value,
                            companion_workdir=_COMPANION.value, settings=settings,
                            output=_OUTPUT.value, embed_images=_EMBED.value,
                            progress=lambda line: print(f"  {line}", flush=True))
  except explore.CompanionRunError as e:  # --companion_workdir names a run that does not fit
    _cli.fail(f"--companion_workdir: {e}")
  print(f"Report: {path.resolve()}")


if __name__ == "__main__":
  _cli.main(main)
