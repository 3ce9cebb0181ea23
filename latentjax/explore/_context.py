"""What the report's sections share: the explored runs, the settings, where to write.

    view = view_run(training.load_run("runs/vae"), ExploreSettings())
    ctx = Context(main=view, companion=None, settings=settings, out_dir=path, key=key)
"""

from __future__ import annotations

import dataclasses
import pathlib
import re
from collections.abc import Callable

import jax
import numpy as np

from latentjax.explore._codes import LatentCodes, encode_split, jitted_decoder
from latentjax.explore._settings import ExploreSettings
from latentjax.explore._summary import read_metrics_json

# Distinct streams of the report's randomness, folded into the seed's key.
KMEANS_KEY, SAMPLE_KEY, PAIR_KEY, INVERT_KEY, COVERAGE_KEY = 0, 1, 2, 3, 4


@dataclasses.dataclass(frozen=True, eq=False)
class RunView:
  """A trained run seen through its test split.

  Attributes:
    run: the `training.Run`.
    label: short name used in tables ("16-D VAE").
    codes: the encoded test split; None for a run without an encoder (a GAN), whose
      test examples are inverted instead (`explore.inverted_split`).
    decoder: ``z -> x`` for unconditional runs, None for conditional ones.
    decode: jitted numpy version of `decoder` (None for conditional runs).
    metrics: its ``metrics.json``, or None.
    decode_labelled: jitted ``run.decode(z [B, D], y [B] or None) -> x``.
  """

  run: object
  label: str
  codes: LatentCodes | None
  decoder: Callable | None
  decode: Callable | None
  metrics: dict | None
  decode_labelled: Callable
  _by_class: dict = dataclasses.field(default_factory=dict, repr=False)
  cache: dict = dataclasses.field(default_factory=dict, repr=False)

  def decoder_for(self, label: int | None) -> tuple[Callable, Callable]:
    """(JAX decoder ``z [D] -> x``, jitted numpy decoder) for codes of a class.

    For a conditional run the decoder is ``run.decoder_fn(label)``: the label is
    an array leaf, so latent ops compile once for all classes. For an unconditional
    run, the run's own decoder.
    """
    if not self.run.conditional:
      return self.decoder, self.decode
    label = int(label)
    if label not in self._by_class:
      # A pytree decoder with the label as a traced leaf: latent ops compile it once for
      # every class (a closure over the run would be traced afresh on every call).
      dec = self.run.decoder_fn(label)
      self._by_class[label] = (dec, jitted_decoder(dec))
    return self._by_class[label]

  @property
  def is_image(self) -> bool:
    return len(self.run.exp.spec.input_shape) == 3

  @property
  def family(self) -> str:
    return self.run.exp.family

  @property
  def has_encoder(self) -> bool:
    return self.run.family_impl.has_encoder


@dataclasses.dataclass(frozen=True, eq=False)
class Context:
  """Everything a section needs.

  Attributes:
    main: the explored run.
    companion: an optional 2-D-latent run of the same data (geometry section).
    settings: the `ExploreSettings`.
    out_dir: where pictures are written.
    key: the report's base PRNG key.
  """

  main: RunView
  companion: RunView | None
  settings: ExploreSettings
  out_dir: pathlib.Path
  key: jax.Array

  def path(self, name: str) -> pathlib.Path:
    return self.out_dir / name


# How the report names each family (config.model.family); another family is named by its
# config name with spaces ("noise_encoder" -> "noise encoder").
_FAMILY_NAMES = {"ae": "autoencoder", "vae": "VAE", "cvae": "conditional VAE", "gan": "GAN",
                 "cgan": "conditional GAN", "diffusion": "diffusion model",
                 "cdiffusion": "conditional diffusion model"}


def _is_diffusion(run) -> bool:
  from latentjax.training._family_diffusion import DiffusionFamily

  return isinstance(run.family_impl, DiffusionFamily)


def _is_noise_space(run) -> bool:
  """Whether the codes are a diffusion model's noise x_T (decoding is its sampler)."""
  return not run.family_impl.latent_geometry


def family_name(run) -> str:
  """The kind of model, in words: "VAE", "β-VAE", "conditional GAN", "latent diffusion model"."""
  name = run.exp.family
  words = _FAMILY_NAMES.get(name, name.replace("_", " "))
  if run.exp.is_variational and run.exp.cfg.objective.beta != 1:
    words = words.replace("VAE", "β-VAE")
  if _is_diffusion(run) and run.exp.cfg.model.latent_run:
    words = words.replace("diffusion model", "latent diffusion model")
  return words


def run_label(run) -> str:
  """Short name of a run in tables and captions.

  "16-D VAE", "8-D conditional VAE", "16-D autoencoder", "8-D GAN"; a model whose codes
  are noise is named by its kind alone ("diffusion model"): its dimension is the noise's,
  which `report_title` spells out.
  """
  if _is_noise_space(run):
    return family_name(run)
  return f"{run.latent_dim}-D {family_name(run)}"


def _with_article(words: str) -> str:
  """ "a 16-D VAE", "an 8-D GAN", "an autoencoder" (by the sound of the first word)."""
  vowel = words[:1].lower() in "aeio8" or re.match(r"1[18](\D|$)", words)
  return f"{'an' if vowel else 'a'} {words}"


def report_title(run) -> str:
  """The report's title: what the latent space is, of which model, on which data.

  "Latent space of a 16-D VAE on digits"; a diffusion model's codes are its noise:
  "Noise space of a diffusion model (8×8×1 = 64-D) on digits", "Noise space of a latent
  diffusion model (16-D codes of runs/vae) on digits".
  """
  data = run.exp.cfg.data.name
  if not _is_noise_space(run):
    return f"Latent space of {_with_article(run_label(run))} on {data}"
  if _is_diffusion(run) and run.exp.cfg.model.latent_run:
    size = f"{run.latent_dim}-D codes of {run.exp.cfg.model.latent_run}"
  else:
    shape = tuple(run.exp.spec.input_shape)
    size = f"{'×'.join(str(d) for d in shape)} = {run.latent_dim}-D"
  return f"Noise space of {_with_article(family_name(run))} ({size}) on {data}"


def view_run(run, settings: ExploreSettings, label: str | None = None) -> RunView:
  """Encodes a run's test split (when it has an encoder) and prepares its decoder."""
  codes = None
  if run.family_impl.has_encoder:
    codes = encode_split(run, num_examples=settings.num_examples)
  decoder = None if run.conditional else run.decoder_fn()
  return RunView(run=run, label=label or run_label(run), codes=codes, decoder=decoder,
                 decode=None if decoder is None else jitted_decoder(decoder),
                 metrics=read_metrics_json(run.workdir), decode_labelled=jax.jit(run.decode))


def key_for(ctx: Context, stream: int) -> jax.Array:
  """An independent key of the report's randomness."""
  return jax.random.fold_in(ctx.key, stream)


def class_names(view: RunView) -> list[str] | None:
  """Names of the classes of the run's data ("0" ... "9" for digits)."""
  n = view.run.exp.spec.num_classes
  return [str(k) for k in range(n)] if n else None


def finite(values) -> bool:
  return bool(np.all(np.isfinite(np.asarray(values, np.float64))))
