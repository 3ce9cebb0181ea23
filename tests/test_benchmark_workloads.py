"""The convvae32 and pipeline benchmark workloads: checksums against BENCHMARKS.md."""

import pytest

from experiments import _bench_models, benchmark


def test_convvae32_model_flops_and_parameters_match_benchmarks_md():
  # The figures the workload reports, from its real network and FLOP count.
  checks = _bench_models.convvae32_checksums(benchmark.load_config("convvae32"))
  assert checks["parameters"] == 1_119_811  # BENCHMARKS.md checksums
  assert checks["model_gflop_per_step"] == pytest.approx(7.550, abs=1e-3)


def test_conv_vae_forward_macs_counts_each_layer_of_the_network():
  # 32x32x3 -> conv 32 -> 64 -> 128 (4x4, stride 2) -> Dense 256 | Dense 2048 -> back.
  assert _bench_models.conv_vae_forward_macs((32, 32, 3), (32, 64, 128), 128) == [
      16 * 16 * 32 * 16 * 3, 8 * 8 * 64 * 16 * 32, 4 * 4 * 128 * 16 * 64,
      4 * 4 * 128 * 256, 128 * 4 * 4 * 128,
      4 * 4 * 16 * 128 * 64, 8 * 8 * 16 * 64 * 32, 16 * 16 * 16 * 32 * 3]


def test_convvae32_and_pipeline_smoke(tfds_data_dir, monkeypatch):
  config = benchmark.load_config("pipeline", smoke=True)
  config.data_dir = tfds_data_dir
  monkeypatch.setattr(benchmark, "load_config",
                      lambda name, smoke=False: config if name == "pipeline"
                      else __import__(f"configs.bench_{name}", fromlist=["x"]).get_config(
                          "smoke" if smoke else None))
  results = benchmark.run_workloads(["convvae32", "pipeline"], smoke=True)
  vae = results["workloads"]["convvae32"]
  assert vae["parameters"] == 1_119_811  # BENCHMARKS.md: the same network
  assert vae["examples_per_s"] > 0 and vae["compile_s"] > 0
  assert vae["model_gflop_per_step"] == pytest.approx(7.550 * 4 / 128, rel=1e-3)
  assert 0 < vae["fraction_of_matmul_peak"]
  assert results["workloads"]["pipeline"]["digits_batches_per_s"] > 0


def test_conv_impl_option_reports_each_implementation_side_by_side():
  results = benchmark.run_workloads(["convvae32", "convlayers"], smoke=True,
                                    conv_impls=["xla", "fast"])
  vae = results["workloads"]["convvae32"]
  assert vae["parameters"] == 1_119_811
  assert vae["examples_per_s_xla"] > 0 and vae["examples_per_s_fast"] > 0
  assert vae["fast_over_xla"] == pytest.approx(
      vae["examples_per_s_fast"] / vae["examples_per_s_xla"])
  assert 0 < vae["fraction_of_matmul_peak_fast"]
  layers = results["workloads"]["convlayers"]
  for name in ("conv_0", "conv_1", "deconv_0", "deconv_1"):
    for part in ("forward", "input_grad", "weight_grad"):
      assert layers[f"{name}_{part}_xla_gflops"] > 0
      assert layers[f"{name}_{part}_fast_gflops"] > 0
  assert layers["all_layers_fast_over_xla"] > 0


def test_unknown_conv_impl_lists_the_valid_ones():
  with pytest.raises(ValueError, match="`conv_impl` must be one of 'auto', 'xla', 'fast'"):
    benchmark.run_workloads(["convlayers"], smoke=True, conv_impls=["xla", "cudnn"])
  with pytest.raises(ValueError, match="twice"):
    benchmark.run_workloads(["convlayers"], smoke=True, conv_impls=["fast", "fast"])
