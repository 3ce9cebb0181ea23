"""Building a built-in dataset says so in one line, and nothing about downloads.

TFDS announced "Downloading and preparing dataset Unknown size (download: Unknown
size, ...)", warned that the new folder "has no dataset_info.json" and drew progress
bars, although a built-in dataset is generated locally and nothing is downloaded.
"""

import tensorflow_datasets as tfds

from latentjax.data import _prepare
from latentjax.data._spec import get_spec


def test_first_build_of_a_builtin_dataset_prints_one_line(tmp_path, capfd):
  spec = get_spec("toy2d")
  builder = _prepare.prepare_builder(spec, data_dir=str(tmp_path))
  out, err = capfd.readouterr()
  assert builder.is_prepared()
  assert out.splitlines() == [f"Building the built-in dataset 'toy2d/ring8' in {tmp_path} "
                              "(first use only; nothing is downloaded)"]
  assert "Downloading" not in out + err and "dataset_info.json" not in err
  assert "examples/s" not in err  # no progress bars
  assert tfds.core.utils.tqdm_utils._active  # TFDS's own setting is restored

  _prepare.prepare_builder(spec, data_dir=str(tmp_path))  # prepared: silent
  out, err = capfd.readouterr()
  assert out == "" and "dataset_info.json" not in err
