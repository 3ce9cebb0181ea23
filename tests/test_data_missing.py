"""Real TFDS datasets that are not on disk: one clear `DatasetNotAvailableError`, fast."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from latentjax import data
from latentjax.data import _prepare


def test_error_is_a_runtime_error():
  assert issubclass(data.DatasetNotAvailableError, RuntimeError)


def test_missing_mnist_without_download_says_how_to_prepare_it(tmp_path):
  start = time.perf_counter()
  with pytest.raises(data.DatasetNotAvailableError) as info:
    data.load("mnist", "train", batch_size=8, data_dir=tmp_path, download=False)
  assert time.perf_counter() - start < 10
  message = str(info.value)
  assert message.startswith(f"Dataset 'mnist' (TFDS mnist/3.0.1) is not available in "
                            f"data_dir '{tmp_path}': it is not prepared there and "
                            f"download=False.")
  assert "tfds build mnist" in message
  assert "download_and_prepare" in message  # the command that needs no TFDS CLI extras
  assert os.path.join(str(tmp_path), "mnist") in message
  assert "data_dir=DIR" in message and "--config.data.data_dir=DIR" in message
  assert list(tmp_path.iterdir()) == []  # nothing written


def test_manual_download_hint_for_celeb_a(tmp_path):
  with pytest.raises(data.DatasetNotAvailableError) as info:
    data.load("celeb_a", "train", batch_size=8, data_dir=tmp_path, download=False)
  message = str(info.value)
  assert "img_align_celeba.zip" in message and "list_attr_celeba.txt" in message
  assert os.path.join(str(tmp_path), "downloads", "manual") in message
  assert "~/tensorflow_datasets/downloads/manual" in message


def test_any_download_failure_is_wrapped(tmp_path, monkeypatch):
  """Whatever TFDS raises while downloading becomes the same error, with its reason."""
  monkeypatch.setattr(_prepare, "_unreachable", lambda hosts: None)  # pretend online

  def fail(self, **kwargs):
    del kwargs
    from tensorflow_datasets.core.download import downloader

    assert downloader.MAX_RETRIES == _prepare._DOWNLOAD_RETRIES  # fails fast offline
    raise ConnectionError("HTTPSConnectionPool: Max retries exceeded")

  import tensorflow_datasets as tfds

  monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", fail)
  with pytest.raises(data.DatasetNotAvailableError,
                     match="downloading it failed: ConnectionError: HTTPSConnectionPool"):
    data.load("fashion_mnist", "train", batch_size=8, data_dir=tmp_path)
  from tensorflow_datasets.core.download import downloader

  assert downloader.MAX_RETRIES == 10  # restored


def test_download_attempt_fails_fast_in_a_fresh_process(tmp_path):
  """With download=True and no network, the real code path ends within the time limit.

  TFDS 4.9.10 needs `importlib_resources` to download (etils >= 1.13 dropped it); if it
  is missing, the standard library's `importlib.resources` stands in so that the
  network path itself is exercised.
  """
  code = textwrap.dedent(f"""
      import importlib.util, sys, importlib.resources
      if importlib.util.find_spec("importlib_resources") is None:
        sys.modules["importlib_resources"] = importlib.resources
      from latentjax import data
      try:
        data.load("mnist", "train", batch_size=8, data_dir={str(tmp_path)!r}, download=True)
        print("DOWNLOADED")  # a machine with network access
      except data.DatasetNotAvailableError as e:
        print("NOT AVAILABLE:", e)
  """)
  env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
  start = time.perf_counter()
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, env=env)
  elapsed = time.perf_counter() - start
  assert out.returncode == 0, out.stderr[-2000:]
  # Fast: a few seconds of network probing on top of importing TF and JAX (~10 s on a busy
  # 2-core machine), not TFDS's default minutes of download retries.
  assert elapsed < 60, f"the offline download attempt took {elapsed:.0f} s"
  if "DOWNLOADED" not in out.stdout:
    assert "NOT AVAILABLE: Dataset 'mnist'" in out.stdout
    assert "downloading it failed" in out.stdout and "tfds build mnist" in out.stdout
