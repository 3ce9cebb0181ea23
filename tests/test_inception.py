"""The FID Inception-v3: architecture sizes, state-dict loading and the feature function."""

import importlib.util

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from latentjax import metrics, models
from latentjax.models import _inception

# Its module-scoped runs are trained once: every test of the file on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_inception")

SHAPES = models.inception_variable_shapes()
FLAT_SHAPES = traverse_util.flatten_dict(SHAPES)


def _size(flat, collection):
  return sum(int(np.prod(v.shape)) for k, v in flat.items() if k[0] == collection)


def _random_variables(seed=0):
  rng = np.random.default_rng(seed)
  flat = {}
  for k, spec in FLAT_SHAPES.items():
    if k[-1] == "var":
      flat[k] = rng.uniform(0.5, 1.5, spec.shape).astype(np.float32)
    else:
      flat[k] = (0.05 * rng.standard_normal(spec.shape)).astype(np.float32)
  return traverse_util.unflatten_dict(flat)


@pytest.fixture(scope="module")
def variables():
  return _random_variables()


@pytest.fixture(scope="module")
def state_dict(variables):
  return models.inception_state_dict(variables)


def test_parameter_count_is_the_fid_inception_v3s():
  # torchvision documents 27,161,264 parameters for inception_v3 (with the auxiliary
  # classifier and 1000 classes). The FID network (pt_inception-2015-12-05) has no
  # auxiliary head and a 1008-way classifier.
  aux = (768 * 128 + 2 * 128) + (128 * 768 * 5 * 5 + 2 * 768) + (768 * 1000 + 1000)
  expected = 27_161_264 - aux - (2048 * 1000 + 1000) + (2048 * 1008 + 1008)
  assert expected == 23_850_960
  assert _size(FLAT_SHAPES, "params") == expected
  # 94 conv + BatchNorm units, each with a 4-entry BN, plus fc weight and bias.
  convs = [k for k in FLAT_SHAPES if k[-2:] == ("conv", "kernel")]
  assert len(convs) == 94 and len(FLAT_SHAPES) == 94 * 5 + 2
  bn_channels = sum(FLAT_SHAPES[k].shape[0] for k in FLAT_SHAPES if k[-1] == "mean")
  assert _size(FLAT_SHAPES, "batch_stats") == 2 * bn_channels == 34_432


def test_state_dict_names_and_shapes_of_landmark_layers(state_dict):
  shapes = {k: v.shape for k, v in state_dict.items()}
  assert shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
  assert shapes["Conv2d_4a_3x3.bn.running_var"] == (192,)
  assert shapes["Mixed_5b.branch_pool.conv.weight"] == (32, 192, 1, 1)
  assert shapes["Mixed_6b.branch7x7_2.conv.weight"] == (128, 128, 1, 7)
  assert shapes["Mixed_6e.branch7x7dbl_5.conv.weight"] == (192, 192, 1, 7)
  assert shapes["Mixed_7a.branch3x3_2.conv.weight"] == (320, 192, 3, 3)
  assert shapes["Mixed_7c.branch3x3dbl_3b.conv.weight"] == (384, 384, 3, 1)
  assert shapes["Mixed_7c.branch_pool.conv.weight"] == (192, 2048, 1, 1)
  assert shapes["fc.weight"] == (1008, 2048) and shapes["fc.bias"] == (1008,)
  assert not any("Aux" in k for k in shapes)


def test_output_shapes_at_299():
  x = jax.ShapeDtypeStruct((2, 299, 299, 3), jnp.float32)
  pool3 = jax.eval_shape(models.InceptionV3().apply, SHAPES, x)
  assert pool3.shape == (2, 2048) and pool3.dtype == jnp.float32
  pool3, logits = jax.eval_shape(models.InceptionV3(with_logits=True).apply, SHAPES, x)
  assert pool3.shape == (2, 2048) and logits.shape == (2, 1008)


def test_too_small_or_non_rgb_input_is_rejected():
  with pytest.raises(ValueError, match="at least 75x75"):
    jax.eval_shape(models.InceptionV3().apply, SHAPES,
                   jax.ShapeDtypeStruct((1, 74, 299, 3), jnp.float32))
  with pytest.raises(ValueError, match=r"\[N, H, W, 3\]"):
    jax.eval_shape(models.InceptionV3().apply, SHAPES,
                   jax.ShapeDtypeStruct((1, 299, 299, 1), jnp.float32))


def test_average_pools_leave_padding_out_of_the_mean():
  x = jnp.full((1, 5, 5, 2), 3.0)
  np.testing.assert_array_equal(_inception._avg_pool_3x3(x), x)  # borders too


def test_resize_for_inception_bilinear_half_pixel_and_range():
  # A 1x2 image [0, 1]: output column j samples input coordinate (j + 0.5) * 2/299 - 0.5.
  img = jnp.asarray([[[[0.0], [1.0]]]])
  out = np.asarray(models.resize_for_inception(img))
  assert out.shape == (1, 299, 299, 3)
  coord = np.clip((np.arange(299) + 0.5) * 2 / 299 - 0.5, 0.0, 1.0)
  np.testing.assert_allclose(out[0, 0, :, 0], 2 * coord - 1, atol=1e-6)
  np.testing.assert_array_equal(out[..., 0], out[..., 2])  # grey replicated
  np.testing.assert_array_equal(out[:, 0], out[:, 298])    # constant along rows
  x = jnp.linspace(-1.0, 1.0, 299 * 299 * 3).reshape(1, 299, 299, 3)
  np.testing.assert_array_equal(models.resize_for_inception(x, input_range="signed"), x)
  with pytest.raises(ValueError, match="input_range"):
    models.resize_for_inception(x, input_range="0-255")
  with pytest.raises(ValueError, match="images"):
    models.resize_for_inception(jnp.zeros((1, 8, 8, 2)))


def test_state_dict_uses_oihw_kernels_and_out_in_dense(variables, state_dict):
  k = np.asarray(variables["params"]["Mixed_6b"]["branch7x7_2"]["conv"]["kernel"])  # HWIO
  w = state_dict["Mixed_6b.branch7x7_2.conv.weight"]                                  # OIHW
  assert k.shape == (1, 7, 128, 128)
  assert w[5, 3, 0, 6] == k[0, 6, 3, 5]
  fc = np.asarray(variables["params"]["fc"]["kernel"])
  assert state_dict["fc.weight"][7, 11] == fc[11, 7]
  bn = variables["batch_stats"]["Conv2d_1a_3x3"]["bn"]
  np.testing.assert_array_equal(state_dict["Conv2d_1a_3x3.bn.running_var"], bn["var"])
  np.testing.assert_array_equal(state_dict["Conv2d_1a_3x3.bn.weight"],
                                variables["params"]["Conv2d_1a_3x3"]["bn"]["scale"])


def test_npz_round_trip_gives_identical_variables(tmp_path, variables, state_dict):
  path = tmp_path / "pt_inception.npz"
  np.savez(path, **state_dict, **{"Conv2d_1a_3x3.bn.num_batches_tracked": np.int64(7)})
  loaded = models.load_inception_params(path)
  flat = traverse_util.flatten_dict(loaded)
  assert flat.keys() == FLAT_SHAPES.keys()
  for key, value in traverse_util.flatten_dict(variables).items():
    assert flat[key].dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(flat[key]), value, err_msg=str(key))


def test_missing_key_names_the_first_absent_one(tmp_path, state_dict):
  order = [_inception._torch_key(k) for k in FLAT_SHAPES]
  path = tmp_path / "partial.npz"
  np.savez(path, **{k: state_dict[k] for k in order[:3]})
  with pytest.raises(ValueError, match=f"no key '{order[3]}'"):
    models.load_inception_params(path)


def test_wrong_shape_names_the_key(tmp_path, monkeypatch, state_dict):
  path = tmp_path / "in_memory.npz"
  path.write_bytes(b"")
  bad = dict(state_dict, **{"Mixed_6a.branch3x3.conv.weight": np.zeros((384, 288, 1, 1))})
  monkeypatch.setattr(_inception, "_read_state_dict", lambda p: bad)
  with pytest.raises(ValueError, match=r"'Mixed_6a.branch3x3.conv.weight'.*shape "
                     r"\(384, 288, 1, 1\), expected \(384, 288, 3, 3\)"):
    models.load_inception_params(path)


def test_unexpected_or_non_finite_entries_are_rejected(tmp_path, monkeypatch, state_dict):
  path = tmp_path / "in_memory.npz"
  path.write_bytes(b"")
  extra = dict(state_dict, **{"AuxLogits.fc.weight": np.zeros((1000, 768), np.float32)})
  monkeypatch.setattr(_inception, "_read_state_dict", lambda p: extra)
  with pytest.raises(ValueError, match="unexpected key 'AuxLogits.fc.weight'"):
    models.load_inception_params(path)
  bad = dict(state_dict)
  bad["Mixed_5c.branch1x1.bn.bias"] = np.full((64,), np.nan, np.float32)
  monkeypatch.setattr(_inception, "_read_state_dict", lambda p: bad)
  with pytest.raises(ValueError, match="'Mixed_5c.branch1x1.bn.bias'.*finite"):
    models.load_inception_params(path)


def test_bad_paths(tmp_path):
  with pytest.raises(FileNotFoundError, match="missing.npz"):
    models.load_inception_params(tmp_path / "missing.npz")
  other = tmp_path / "weights.h5"
  other.write_bytes(b"x")
  with pytest.raises(ValueError, match=r"\.npz, \.pth or \.pt"):
    models.load_inception_params(other)


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch installed")
def test_pth_without_torch_says_to_convert(tmp_path):
  pth = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
  pth.write_bytes(b"x")
  with pytest.raises(ImportError, match="convert the file to .npz"):
    models.load_inception_params(pth)


class _ChannelMeans(nn.Module):
  """Stands in for the network: [N, 299, 299, 3] -> the per-channel means [N, 3]."""

  def __call__(self, x):
    assert x.shape[1:] == (299, 299, 3)
    return jnp.mean(x, axis=(1, 2))


def test_feature_fn_batches_pads_resizes_and_compiles_once(monkeypatch, variables):
  traces = []
  real_resize = _inception.resize_for_inception
  monkeypatch.setattr(_inception, "resize_for_inception",
                      lambda x: traces.append(x.shape) or real_resize(x))
  monkeypatch.setattr(_inception, "InceptionV3", _ChannelMeans)
  feats = metrics.inception_feature_fn(variables, batch_size=2)
  levels = np.asarray([0.0, 0.25, 1.0], np.float32)
  grey = np.broadcast_to(levels[:, None, None, None], (3, 16, 16, 1))
  out = feats(grey)
  assert out.dtype == np.float32
  # Constant images stay constant under the resize; [0, 1] -> [-1, 1]; grey -> RGB.
  np.testing.assert_allclose(out, np.repeat(2 * levels[:, None] - 1, 3, axis=1), atol=1e-6)
  assert traces == [(2, 16, 16, 1)]  # two batches (the second padded), one compilation
  feats(grey[:2])
  assert len(traces) == 1
  feats(np.zeros((5, 8, 8, 3)))  # a new image shape compiles once more
  assert traces == [(2, 16, 16, 1), (2, 8, 8, 3)]


def test_feature_fn_runs_the_network_independently_of_batch_mates(monkeypatch, variables):
  monkeypatch.setattr(_inception, "INCEPTION_SIZE", 75)  # the smallest size: a fast test
  feats = metrics.inception_feature_fn(variables, batch_size=2)
  images = np.random.default_rng(1).uniform(0.0, 1.0, (3, 8, 8, 3)).astype(np.float32)
  out = feats(images)
  assert out.shape == (3, 2048) and out.dtype == np.float32
  assert np.all(np.isfinite(out)) and np.std(out) > 0
  # Same compiled shape; image 2 was padded with a black image before, not now.
  np.testing.assert_allclose(feats(images[[2, 0]]), out[[2, 0]], rtol=1e-5, atol=1e-7)


def test_feature_fn_rejects_bad_input(variables):
  with pytest.raises(ValueError, match="batch_size"):
    metrics.inception_feature_fn(variables, batch_size=0)
  feats = metrics.inception_feature_fn(variables)
  with pytest.raises(ValueError, match=r"\[0, 1\].*\[0.0, 255.0\].*255"):
    feats(np.linspace(0.0, 255.0, 2 * 8 * 8 * 3).reshape(2, 8, 8, 3))
  with pytest.raises(ValueError, match=r"shape \(2, 8, 8\)"):
    feats(np.zeros((2, 8, 8)))
  with pytest.raises(ValueError, match="C = 1 or 3"):
    feats(np.zeros((2, 8, 8, 4)))
  with pytest.raises(ValueError, match="N >= 1"):
    feats(np.zeros((0, 8, 8, 3)))
  with pytest.raises(ValueError, match="finite"):
    feats(np.full((1, 8, 8, 3), np.nan))
