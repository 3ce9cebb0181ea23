"""The exploration report of a trained run: one HTML page that opens from disk.

    path = build_report("runs/vae")                          # runs/vae/report.html
    path = build_report("runs/vae", companion_workdir="runs/vae2d",
                        settings=ExploreSettings.small())

Pictures are written to ``<workdir>/explore/`` (PNG, and one GIF) and linked from
``<workdir>/report.html`` by relative paths, or embedded with ``embed_images=True``: then
the HTML file is the whole report and no picture file is left beside it (they are drawn
in a temporary folder). A section may retitle itself by what it shows for the run (the
interpolations of a diffusion run are linear and spherical only).
Sections, in order, each left out when it does not apply to the run: model and
training; evaluation metrics; samples; mode coverage (``toy2d`` data); reconstructions
(runs with an encoder); inversion of test images (runs without one: GANs);
interpolations; arithmetic and attribute directions; traversals; latent scatter and
clusters; geometry (a 2-D latent space: the run's own, or the companion run's); for an
ae or vae, the expected metric of its Gaussian decoder (the variance saved by
``training.fit_decoder_variance``, or one fitted on the test codes): magnification and
geodesics beside the mean-only metric's, and clusters and k-NN accuracy under
Euclidean and both geodesic distances.
Sections about encoded test codes are left out for a GAN; its interpolations are
between random codes, its traversals follow SeFa directions and the principal
directions of inverted test codes. A diffusion run's codes are noise images, its
encoder DDIM inversion: its report adds classifier-free guidance (conditional runs),
denoising trajectories and DDIM inversion, and leaves out geodesics, single-dimension
traversals and the reconstructions section (the inversion section shows them).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
import time
from collections.abc import Callable

import jax

from latentjax import viz
from latentjax.explore import (
    _diffusion_sections,
    _expected_geometry,
    _generator_sections,
    _latent_sections,
    _run_sections,
    _space_sections,
)
from latentjax.explore._codes import label_key_of
from latentjax.explore._context import Context, report_title, run_label, view_run
from latentjax.explore._settings import ExploreSettings

REPORT_NAME = "report.html"
ASSETS_DIR = "explore"


# (title, builder): a builder returns Report.add_section kwargs, or None to leave it out.
SECTIONS = (
    ("Model and training", _run_sections.model_and_training),
    ("Evaluation metrics", _run_sections.evaluation_metrics),
    ("Sample quality, latent space, disentanglement", _run_sections.quality_metrics),
    ("Samples", _run_sections.samples),
    ("Classifier-free guidance", _diffusion_sections.guidance),
    ("Denoising trajectories", _diffusion_sections.trajectories),
    ("Mode coverage", _generator_sections.mode_coverage),
    ("Reconstructions", _run_sections.reconstructions),
    ("Inversion of test images", _generator_sections.inversion),
    ("DDIM inversion", _diffusion_sections.inversion),
    ("Interpolations: linear, spherical and geodesic", _latent_sections.interpolations),
    ("Arithmetic and attribute directions", _latent_sections.arithmetic),
    ("Traversals", _latent_sections.traversals),
    ("Latent scatter and clusters", _space_sections.scatter_and_clusters),
    ("Geometry: magnification factor and geodesics", _space_sections.geometry),
    ("Geometry: the expected metric of a Gaussian decoder", _expected_geometry.expected_metric),
    ("Geometry: clusters and neighbours under each metric", _expected_geometry.metric_clusters),
)


@contextlib.contextmanager
def _picture_folder(html_path: pathlib.Path, embed_images: bool):
  """Where the sections draw their pictures: ``explore/`` beside the HTML file, or, when
  they are embedded in it, a temporary folder removed once the page is written."""
  if embed_images:
    with tempfile.TemporaryDirectory(prefix="latentjax-report-") as folder:
      yield pathlib.Path(folder)
    return
  out_dir = html_path.parent / ASSETS_DIR
  out_dir.mkdir(parents=True, exist_ok=True)
  yield out_dir


class CompanionRunError(ValueError):
  """The companion run does not fit the run it accompanies (latent size, dataset)."""


def build_report(workdir: str, *, companion_workdir: str | None = None,
                 settings: ExploreSettings | None = None, output: str | None = None,
                 embed_images: bool = False,
                 progress: Callable[[str], None] | None = None) -> pathlib.Path:
  """Explores a trained run and writes its HTML report.

  Args:
    workdir: the run folder (``config.json``, checkpoints; ``metrics.json`` and
      ``metrics.jsonl`` are used when present).
    companion_workdir: optional run with a 2-D latent space on the same data, for the
      geometry section when the main run's latent space is not 2-D.
    settings: sizes of the computations (default `ExploreSettings()`).
    output: the HTML file (default ``<workdir>/report.html``).
    embed_images: embed pictures as data URIs in the one HTML file, writing no
      picture files, instead of linking files in ``explore/``.
    progress: optional callable receiving one line per finished section.

  Returns:
    The path of the HTML file.

  Raises:
    FileNotFoundError: if a run folder has no config or checkpoint.
    CompanionRunError: (a ValueError) if the companion run's latent space is not 2-D or
      its dataset differs from the main run's.
  """
  from latentjax import training

  settings = ExploreSettings() if settings is None else settings
  if not isinstance(settings, ExploreSettings):
    raise TypeError(f"`settings` must be an ExploreSettings, got {type(settings).__name__}")
  say = progress or (lambda _: None)
  t0 = time.perf_counter()
  run = training.load_run(workdir)
  crun = None
  if companion_workdir:
    crun = training.load_run(companion_workdir)
    if crun.latent_dim != 2:
      raise CompanionRunError(
          f"`companion_workdir` {companion_workdir!r} must hold a run with a "
          f"2-D latent space, got latent_dim={crun.latent_dim}")
    if crun.exp.cfg.data.name != run.exp.cfg.data.name:
      raise CompanionRunError(
          f"`companion_workdir` {companion_workdir!r} was trained on "
          f"{crun.exp.cfg.data.name!r}, the run on {run.exp.cfg.data.name!r}")
  main = view_run(run, settings)
  companion = None
  if crun is not None:
    companion = view_run(crun, settings, label=f"{run_label(crun)} (companion)")
  html_path = pathlib.Path(output) if output else pathlib.Path(workdir) / REPORT_NAME
  if main.codes is not None:
    say(f"encoded {main.codes.num_examples} {main.codes.split!r} examples "
        f"({time.perf_counter() - t0:.1f}s)")
  else:
    say(f"loaded the {main.label} without an encoder ({time.perf_counter() - t0:.1f}s)")

  labelled = "labelled" if label_key_of(run) else "unlabelled"
  report = viz.Report(
      report_title(run),
      description=(f"{os.path.abspath(workdir)} · step {run.step:,} · {labelled} data · "
                   f"written {time.strftime('%Y-%m-%d %H:%M')}"))
  with _picture_folder(html_path, embed_images) as out_dir:
    ctx = Context(main=main, companion=companion, settings=settings, out_dir=out_dir,
                  key=jax.random.PRNGKey(settings.seed))
    for default_title, fn in SECTIONS:
      t = time.perf_counter()
      content = fn(ctx)
      if content is None:
        continue
      title = content.pop("title", default_title)
      report.add_section(title, **content)
      say(f"{title} ({time.perf_counter() - t:.1f}s)")
    path = report.write(html_path, embed_images=embed_images)  # reads the pictures
  say(f"wrote {path} ({time.perf_counter() - t0:.1f}s in all)")
  return path
