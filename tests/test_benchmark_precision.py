"""benchmark --compute_dtype and --profile: variants side by side, traces of the timed windows."""

import glob
import os

import jax.numpy as jnp
import ml_collections
import pytest

from experiments import benchmark, workloads


def _fake_make_run(calls):
  def make_run(config, impl, compute_dtype):
    calls.append((impl, compute_dtype))
    compiled = lambda state, x: (state + x, {"loss": jnp.float32(1.0)})
    return compiled, jnp.zeros(()), (jnp.ones(()),), 0.5, 10.0

  return make_run


def _config(**extra):
  c = ml_collections.ConfigDict({"batch_size": 4, "conv_impls": ("xla", "fast"),
                                 "timing": {"num_windows": 2, "window_steps": 2}})
  for k, v in extra.items():
    c[k] = v
  return c


def test_every_implementation_is_timed_in_every_compute_dtype(tmp_path):
  calls = []
  out = workloads.models.compare_conv_impls(
      _config(compute_dtypes=("float32", "bfloat16"), profile_dir=str(tmp_path)),
      _fake_make_run(calls), model_flops=8.0, head={"batch_size": 4})
  assert calls == [("xla", "float32"), ("xla", "bfloat16"), ("fast", "float32"),
                   ("fast", "bfloat16")]
  for impl in ("xla", "fast"):
    for dtype in ("float32", "bfloat16"):
      assert out[f"examples_per_s_{impl}_{dtype}"] > 0
    assert out[f"bfloat16_over_float32_{impl}"] == pytest.approx(
        out[f"examples_per_s_{impl}_bfloat16"] / out[f"examples_per_s_{impl}_float32"])
  assert out["fast_over_xla_bfloat16"] == pytest.approx(
      out["examples_per_s_fast_bfloat16"] / out["examples_per_s_xla_bfloat16"])
  traces = glob.glob(os.path.join(tmp_path, "plugins", "profile", "*", "*.xplane.pb"))
  assert len(traces) == 1 and os.path.getsize(traces[0]) > 0


def test_one_dtype_keeps_the_unsuffixed_names():
  out = workloads.models.compare_conv_impls(_config(conv_impls=("xla",)), _fake_make_run([]),
                                         model_flops=8.0, head={})
  assert out["examples_per_s"] > 0
  assert (out["conv_impl"], out["compute_dtype"]) == ("xla", "float32")


def test_unknown_or_repeated_compute_dtype_fails_naming_the_option():
  with pytest.raises(ValueError, match="`compute_dtype` must be one of 'float32', 'bfloat16'"):
    benchmark.run_workloads(["convlayers"], smoke=True, compute_dtypes=["float16"])
  with pytest.raises(ValueError, match="twice"):
    benchmark.run_workloads(["convlayers"], smoke=True, compute_dtypes=["bfloat16"] * 2)
