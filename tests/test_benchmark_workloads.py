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
