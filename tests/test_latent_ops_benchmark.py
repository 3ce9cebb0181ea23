"""The geodesic benchmark workload end to end on its smoke config, and the registry."""

import json

import jax
import pytest

from experiments import benchmark


@pytest.mark.slow
def test_geodesic_workload_smoke():
  results = benchmark.run_workloads(["geodesic"], smoke=True)
  figures = results["workloads"]["geodesic"]
  json.dumps(results)  # serialisable
  assert figures["num_pairs"] == 4 and figures["num_points"] == 8
  # Geodesics are never longer than the straight line, and within 1% when timed.
  assert 0.5 < figures["geodesic_over_straight_mean"] <= 1.0
  assert figures["geodesic_over_straight_max"] <= 1.0
  assert figures["within_tol_max_err"] <= 0.01
  assert figures["within_tol_s"] > 0 and figures["iteration_ms"] > 0
  # Model FLOPs: 4 * pairs * points * multiply-adds of the 8 -> 32 -> 32 -> 16 MLP.
  macs = 8 * 32 + 32 * 32 + 32 * 16
  assert figures["model_gflop_per_iteration"] == pytest.approx(4 * 4 * 8 * macs / 1e9)
  assert "speedup_vs_baseline" in figures
  table = benchmark.format_table(results)
  assert "within_tol_steps" in table


def test_full_config_matches_benchmarks_md():
  config = benchmark.load_config("geodesic")
  assert (config.model.latent_dim, *config.model.hidden_dims, config.model.output_dim) == (
      8, 512, 512, 784)
  assert (config.data.num_pairs, config.geodesic.num_points) == (64, 32)
  # The checksums the workload reports, computed from its real decoder.
  checks = benchmark.geodesic_checksums(config)
  assert checks["model_gflop_per_iteration"] == pytest.approx(5.469, abs=1e-3)  # BENCHMARKS.md
  assert checks["decoder_params"] == 9 * 512 + 513 * 512 + 513 * 784  # 8 -> 512 -> 512 -> 784
  # Its multiply-adds are the decoder's: XLA counts 2 per multiply-add of one forward
  # pass, plus a few element-wise operations (bias, tanh, sigmoid).
  decoder, z0, _, _, _ = benchmark._geodesic_setup(config)
  cost = jax.jit(decoder).lower(z0[0]).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  assert cost["flops"] == pytest.approx(2 * checks["decoder_macs"], rel=0.01)


def test_unknown_workload_lists_registered_ones():
  with pytest.raises(ValueError, match=r"Unknown workload 'convae'; registered: .*geodesic"):
    benchmark.run_workloads(["convae"])
