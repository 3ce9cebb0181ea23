"""Making sure a dataset is on disk: build, download, or fail with one clear message.

Built-in datasets (digits, sprites, toy2d) are generated locally on first use. The real
TFDS datasets are downloaded when ``download=True`` and the network allows it; otherwise
`DatasetNotAvailableError` says what is missing and how to prepare it. Entry points print
only that message, so it must stand on its own.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import urllib.parse

import tensorflow as tf
import tensorflow_datasets as tfds
from absl import logging

from latentjax.data._spec import DatasetSpec

_PROBE_TIMEOUT_S = 5.0
_DEFAULT_HOSTS = ("storage.googleapis.com",)
_MAX_REASON_CHARS = 600
_DOWNLOAD_RETRIES = 2  # TFDS's default (10, with back-off) takes minutes to fail offline
_MANUAL_FILES = {
    "celeb_a": ("img_align_celeba.zip", "list_eval_partition.txt", "list_attr_celeba.txt",
                "list_landmarks_align_celeba.txt", "identity_CelebA.txt"),
}
_tf_hidden = False


class DatasetNotAvailableError(RuntimeError):
  """A dataset is not prepared in ``data_dir`` and could not be downloaded."""


def hide_tf_from_accelerators() -> None:
  """Keeps TensorFlow (the input pipeline) off GPUs, which belong to JAX. Idempotent."""
  global _tf_hidden
  if not _tf_hidden:
    with contextlib.suppress(RuntimeError):  # TF already initialised its devices
      tf.config.experimental.set_visible_devices([], "GPU")
    _tf_hidden = True


def _data_dir(data_dir: str | os.PathLike | None) -> str:
  if data_dir:
    return os.path.expanduser(os.fspath(data_dir))
  return os.path.expanduser(os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets"))


def _message(spec: DatasetSpec, builder, data_dir: str, reason: str) -> str:
  """Explains what is missing and the commands that prepare it."""
  base = spec.tfds_name.split("/")[0]
  lines = [
      f"Dataset {spec.name!r} (TFDS {builder.info.full_name}) is not available in data_dir "
      f"{data_dir!r}: {reason}",
      "To prepare it:",
      f"  1. on a machine with internet access, run either "
      f"tfds build {spec.tfds_name} --data_dir=$HOME/tensorflow_datasets "
      f"(the TFDS 4.9 CLI also needs: pip install apache-beam mlcroissant) or "
      f"python -c \"import tensorflow_datasets as tfds; "
      f"tfds.builder('{spec.tfds_name}').download_and_prepare()\"",
      f"  2. copy ~/tensorflow_datasets/{base} to {os.path.join(data_dir, base)} on this "
      f"machine, or point latentjax at the copy: load(..., data_dir=DIR), or "
      f"--config.data.data_dir=DIR for the experiment scripts.",
  ]
  if base in _MANUAL_FILES:
    manual = os.path.join(data_dir, "downloads", "manual")
    lines.append(
        f"  {base} is hosted on Google Drive, which often refuses scripted downloads: fetch "
        f"{', '.join(_MANUAL_FILES[base])} by hand into the manual directory {manual} "
        f"(by default ~/tensorflow_datasets/downloads/manual), then run "
        f"tfds build {base} --data_dir={data_dir} --manual_dir={manual}")
  return "\n".join(lines)


def _download_hosts(builder) -> tuple[str, ...]:
  """Hosts the builder downloads from (from its checksums file), or a default."""
  try:
    urls = builder.url_infos or {}
  except Exception:  # noqa: BLE001 - TFDS may fail to locate its checksums
    urls = {}
  hosts = sorted({urllib.parse.urlparse(u).hostname for u in urls} - {None})
  return tuple(hosts) or _DEFAULT_HOSTS


def _unreachable(hosts: tuple[str, ...]) -> str | None:
  """Returns why none of `hosts` answers on port 443 within a few seconds, or None."""
  errors = []
  for host in hosts:
    try:
      with socket.create_connection((host, 443), timeout=_PROBE_TIMEOUT_S):
        return None
    except OSError as e:
      errors.append(f"{host}: {e}")
  return "no network access (" + "; ".join(errors) + ")"


@contextlib.contextmanager
def _few_retries():
  """Temporarily lowers TFDS's download retries so an offline download fails fast."""
  from tensorflow_datasets.core.download import downloader

  saved = downloader.MAX_RETRIES
  downloader.MAX_RETRIES = _DOWNLOAD_RETRIES
  try:
    yield
  finally:
    downloader.MAX_RETRIES = saved


def _tfds_serves(builder, split: str | None) -> bool:
  """Whether TFDS itself can serve a split without prepared files.

  True under ``tfds.testing.mock_data`` (which replaces reading, not the builders), and for
  any other mechanism TFDS offers to read a dataset from elsewhere; False for a plain
  builder whose files are absent (TFDS then raises before reading anything).
  """
  if split is None:
    return False
  try:
    builder.as_dataset(split=split, shuffle_files=False)
  except Exception:  # noqa: BLE001 - TFDS raises AssertionError, ValueError, ... when absent
    return False
  return True


@contextlib.contextmanager
def _quiet_tfds():
  """TFDS without its download banner, progress bars and warnings, for local builds.

  A built-in dataset downloads nothing, yet TFDS announces "Downloading and preparing
  dataset Unknown size ...", warns that the new folder has no dataset_info.json and
  draws progress bars for each split; the build is one line of its own instead.
  """
  bars = getattr(tfds.core.utils.tqdm_utils, "_active", True)
  verbosity = logging.get_verbosity()
  tfds.display_progress_bar(False)
  logging.set_verbosity(logging.ERROR)
  try:
    with contextlib.redirect_stdout(io.StringIO()):
      yield
  finally:
    logging.set_verbosity(verbosity)
    tfds.display_progress_bar(bars)


def prepare_builder(spec: DatasetSpec, *, data_dir=None, download: bool = True,
                    split: str | None = None):
  """Returns a TFDS builder that can serve the data, building or downloading it if needed.

  TFDS is asked first: a prepared dataset, or one TFDS can serve without files (for
  example under ``tfds.testing.mock_data``), is used as it is; only then is the network
  probed for a download.

  Args:
    spec: the dataset's spec.
    data_dir: TFDS data directory; None for TFDS's default (``$TFDS_DATA_DIR`` or
      ``~/tensorflow_datasets``).
    download: whether a real TFDS dataset may be downloaded. Built-in datasets are always
      generated locally when missing (nothing is downloaded).
    split: the split that will be read, used to ask TFDS whether it can serve it.

  Returns:
    A prepared ``tfds.core.DatasetBuilder``.

  Raises:
    DatasetNotAvailableError: when the data is absent and cannot be prepared here.
  """
  resolved = _data_dir(data_dir)
  with _quiet_tfds() if spec.builtin else contextlib.nullcontext():
    builder = tfds.builder(spec.tfds_name, data_dir=resolved)
    prepared = builder.is_prepared()
  if prepared or _tfds_serves(builder, split):
    return builder
  if spec.builtin:
    print(f"Building the built-in dataset {spec.name!r} in {resolved} (first use only; "
          "nothing is downloaded)", flush=True)
    with _quiet_tfds():
      builder.download_and_prepare()
    return builder
  if not download:
    raise DatasetNotAvailableError(
        _message(spec, builder, resolved, "it is not prepared there and download=False."))
  reason = _unreachable(_download_hosts(builder))
  if reason is None:
    try:
      with _few_retries():
        builder.download_and_prepare()
      return builder
    except Exception as e:  # noqa: BLE001 - any failure gets the same clear message
      reason = f"{type(e).__name__}: {e}".strip()[:_MAX_REASON_CHARS]
  raise DatasetNotAvailableError(
      _message(spec, builder, resolved, f"downloading it failed: {reason}"))
