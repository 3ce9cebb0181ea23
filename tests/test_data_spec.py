"""`latentjax.data` public surface and `get_spec`: no data is read here."""

import os
import subprocess
import sys

import pytest

from latentjax import data

EXPECTED = {
    # name: (input_key, input_shape, num_classes, builtin, train_split, test_split)
    "digits": ("image", (8, 8, 1), 10, True, "train", "test"),
    "mnist": ("image", (28, 28, 1), 10, False, "train", "test"),
    "fashion_mnist": ("image", (28, 28, 1), 10, False, "train", "test"),
    "cifar10": ("image", (32, 32, 3), 10, False, "train", "test"),
    "celeb_a": ("image", (64, 64, 3), 0, False, "train", "test"),
    "dsprites": ("image", (64, 64, 1), 0, False, "train[:90%]", "train[90%:]"),
    "shapes3d": ("image", (64, 64, 3), 0, False, "train[:90%]", "train[90%:]"),
    "sprites": ("image", (64, 64, 1), 0, True, "train[:90%]", "train[90%:]"),
    "sprites/64": ("image", (64, 64, 1), 0, True, "train[:90%]", "train[90%:]"),
    "sprites/32": ("image", (32, 32, 1), 0, True, "train[:90%]", "train[90%:]"),
    "sprites/32_lite": ("image", (32, 32, 1), 0, True, "train[:90%]", "train[90%:]"),
    "sprites/16_lite": ("image", (16, 16, 1), 0, True, "train[:90%]", "train[90%:]"),
    "toy2d": ("point", (2,), 8, True, "train", "test"),
    "toy2d/ring8": ("point", (2,), 8, True, "train", "test"),
    "toy2d/grid25": ("point", (2,), 25, True, "train", "test"),
}
DSPRITES_KEYS = tuple(sorted(
    f"{p}_{f}" for p in ("label", "value")
    for f in ("shape", "scale", "orientation", "x_position", "y_position")))


def test_public_names_exist():
  for name in data.__all__:
    assert hasattr(data, name), name


def test_every_known_name_has_a_spec():
  assert data.known_datasets() == ("celeb_a", "cifar10", "digits", "dsprites",
                                   "fashion_mnist", "mnist", "shapes3d", "sprites", "toy2d")
  assert {n.split("/")[0] for n in EXPECTED} == set(data.known_datasets())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_get_spec(name):
  spec = data.get_spec(name)
  key, shape, classes, builtin, train, test = EXPECTED[name]
  assert isinstance(spec, data.DatasetSpec)
  assert (spec.input_key, spec.input_shape, spec.num_classes) == (key, shape, classes)
  assert (spec.builtin, spec.train_split, spec.test_split) == (builtin, train, test)
  assert spec.label_key == ("label" if classes else None)
  assert spec.value_range == (None if key == "point" else (0.0, 1.0))
  assert spec.name.split("/")[0] == name.split("/")[0] and spec.tfds_name == spec.name
  hash(spec)  # usable as a static jit argument
  with pytest.raises(AttributeError):
    spec.name = "other"  # frozen


def test_spec_defaults_configs_and_extra_keys():
  assert data.get_spec("sprites").name == "sprites/64"
  assert data.get_spec("toy2d").name == "toy2d/ring8"
  assert data.get_spec("digits").name == "digits"
  for name in ("sprites/16_lite", "dsprites"):
    spec = data.get_spec(name)
    assert spec.extra_keys == DSPRITES_KEYS
    assert spec.factor_names == data.SPRITES_FACTOR_NAMES
    assert spec.factor_sizes == (3, 6, 40, 32, 32)
  shapes3d = data.get_spec("shapes3d")
  assert shapes3d.factor_sizes == (10, 10, 10, 8, 4, 15)
  assert "label_floor_hue" in shapes3d.extra_keys and "value_orientation" in shapes3d.extra_keys
  assert data.get_spec("celeb_a").extra_keys == ("attributes",)
  assert data.get_spec("digits").extra_keys == () and data.get_spec("digits").factor_sizes == ()


def test_image_size_option():
  assert data.get_spec("celeb_a", image_size=128).input_shape == (128, 128, 3)
  assert data.get_spec("digits", image_size=16).input_shape == (16, 16, 1)
  with pytest.raises(ValueError, match="`image_size` does not apply to 'toy2d'"):
    data.get_spec("toy2d", image_size=8)
  with pytest.raises(ValueError, match="`image_size` must be a positive int"):
    data.get_spec("mnist", image_size=0)


def test_unknown_name_suggests_one_and_lists_every_name_with_its_configs():
  expected = ("Unknown dataset 'mnits' (did you mean 'mnist'?); known: celeb_a, cifar10, "
              "digits, dsprites, fashion_mnist, mnist, shapes3d, sprites, sprites/16_lite, "
              "sprites/32, sprites/32_lite, sprites/64, toy2d, toy2d/grid25, toy2d/ring8")
  with pytest.raises(ValueError) as info:
    data.get_spec("mnits")
  assert str(info.value) == expected
  with pytest.raises(ValueError, match=r"Unknown dataset 'mnits' \(did you mean 'mnist'"):
    data.load("mnits", "train", batch_size=2)
  with pytest.raises(ValueError, match=r"Unknown dataset 'qqq'; known: celeb_a"):
    data.get_spec("qqq")  # nothing close: no suggestion
  with pytest.raises(ValueError, match=r"for dataset 'sprites' \(did you mean '32_lite'\?\)"):
    data.get_spec("sprites/32_lit")


def test_unknown_config_lists_known_ones():
  with pytest.raises(ValueError, match=r"Unknown config '48' for dataset 'sprites'; "
                                       r"known: 16_lite, 32, 32_lite, 64"):
    data.get_spec("sprites/48")
  with pytest.raises(ValueError, match="Unknown config 'x' for dataset 'mnist'; known: none"):
    data.get_spec("mnist/x")
  with pytest.raises(TypeError, match="`name` must be a str"):
    data.get_spec(3)


def test_import_is_lazy_and_builds_nothing(tmp_path):
  """`import latentjax` stays free of TF; `import latentjax.data` registers, writes nothing."""
  code = (
      "import sys, latentjax\n"
      "assert 'tensorflow' not in sys.modules, 'import latentjax pulled in TensorFlow'\n"
      "import latentjax.data, tensorflow_datasets as tfds\n"
      "for name in ('digits', 'sprites', 'toy2d'):\n"
      "  assert tfds.builder_cls(name).name == name\n")
  env = {**os.environ, "TFDS_DATA_DIR": str(tmp_path / "tfds"), "HOME": str(tmp_path)}
  subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120,
                 capture_output=True)
  assert not (tmp_path / "tfds").exists()
  assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
