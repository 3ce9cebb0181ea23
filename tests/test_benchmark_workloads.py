"""The convvae32, dcgan32, unet32, pipeline and metrics benchmark workloads: checksums
against BENCHMARKS.md."""

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import benchmark, workloads
from latentjax import metrics


def test_convvae32_model_flops_and_parameters_match_benchmarks_md():
  # The figures the workload reports, from its real network and FLOP count.
  checks = workloads.models.convvae32_checksums(benchmark.load_config("convvae32"))
  assert checks["parameters"] == 1_119_811  # BENCHMARKS.md checksums
  assert checks["model_gflop_per_step"] == pytest.approx(7.550, abs=1e-3)


def test_conv_vae_forward_macs_counts_each_layer_of_the_network():
  # 32x32x3 -> conv 32 -> 64 -> 128 (4x4, stride 2) -> Dense 256 | Dense 2048 -> back.
  assert workloads.models.conv_vae_forward_macs((32, 32, 3), (32, 64, 128), 128) == [
      16 * 16 * 32 * 16 * 3, 8 * 8 * 64 * 16 * 32, 4 * 4 * 128 * 16 * 64,
      4 * 4 * 128 * 256, 128 * 4 * 4 * 128,
      4 * 4 * 16 * 128 * 64, 8 * 8 * 16 * 64 * 32, 16 * 16 * 16 * 32 * 3]


@pytest.mark.slow
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
  assert 0 < vae["fraction_of_matmul_peak"] <= 1  # the peak is the machine's (workloads.peak)
  assert results["workloads"]["pipeline"]["digits_batches_per_s"] > 0


@pytest.mark.slow
def test_conv_impl_option_reports_each_implementation_side_by_side():
  results = benchmark.run_workloads(["convvae32", "convlayers"], smoke=True,
                                    conv_impls=["xla", "fast"])
  vae = results["workloads"]["convvae32"]
  assert vae["parameters"] == 1_119_811
  assert vae["examples_per_s_xla"] > 0 and vae["examples_per_s_fast"] > 0
  assert vae["fast_over_xla"] == pytest.approx(
      vae["examples_per_s_fast"] / vae["examples_per_s_xla"])
  assert 0 < vae["fraction_of_matmul_peak_fast"] <= 1
  assert 0 < vae["fraction_of_matmul_peak_xla"] <= 1
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


def test_dcgan32_model_flops_and_parameters_match_benchmarks_md():
  checks = workloads.gan.dcgan32_checksums(benchmark.load_config("dcgan32"))
  assert checks["parameters_g"] == 1_195_587  # BENCHMARKS.md checksums
  assert checks["parameters_d"] == 662_977
  assert checks["parameters"] == 1_858_564
  assert checks["model_gflop_per_step"] == pytest.approx(49.33, abs=5e-3)


def test_dcgan32_forward_macs_counts_each_layer_of_both_networks():
  g, d = workloads.gan.dcgan32_forward_macs(128, (32, 32, 3), (256, 128, 64), (64, 128, 256))
  assert g == [128 * 4 * 4 * 256, 4 * 4 * 16 * 256 * 128, 8 * 8 * 16 * 128 * 64,
               16 * 16 * 16 * 64 * 3]
  assert d == [16 * 16 * 16 * 3 * 64, 8 * 8 * 16 * 64 * 128, 4 * 4 * 16 * 128 * 256,
               4 * 4 * 256]


def test_dcgan32_step_is_a_d_update_then_a_g_update_through_the_new_d():
  # The step's single-G-forward formulation against the plain one: D's gradient on
  # (real, detached fake), then G's gradient of L_G(D'(G(z))) under the updated D'.
  import jax
  import optax

  from latentjax import objectives

  config = benchmark.load_config("dcgan32", smoke=True)
  gen, disc = workloads.gan._models(config)
  g_vars, d_vars = workloads.gan._init(config, gen, disc, jax.random.PRNGKey(3))
  # SGD, not Adam: Adam's first step is sign(gradient), which turns the round-off-sized
  # gradients of the biases ahead of BatchNorm (zero in exact arithmetic) into +-lr.
  tx = optax.sgd(0.1)
  loss = objectives.get_gan_loss("non_saturating")
  state = {"g_params": g_vars["params"], "g_stats": g_vars["batch_stats"],
           "d_params": d_vars["params"], "g_opt": tx.init(g_vars["params"]),
           "d_opt": tx.init(d_vars["params"]), "key": jax.random.PRNGKey(4)}
  real = jax.random.uniform(jax.random.PRNGKey(5), (4, 32, 32, 3), minval=-1.0, maxval=1.0)
  new, metrics = jax.jit(workloads.gan.make_dcgan_step(gen, disc, loss, tx, tx, 128))(state, real)

  z = jax.random.normal(jax.random.split(state["key"])[1], (4, 128))
  g_apply = lambda p: gen.apply({"params": p, "batch_stats": g_vars["batch_stats"]}, z,
                                train=True, mutable=["batch_stats"])
  fake, stats = g_apply(g_vars["params"])
  d_loss_fn = lambda p: loss.d_loss(disc.apply({"params": p}, real, train=True),
                                    disc.apply({"params": p}, fake, train=True))
  d_updates, _ = tx.update(jax.grad(d_loss_fn)(d_vars["params"]), state["d_opt"],
                           d_vars["params"])
  d_params = optax.apply_updates(d_vars["params"], d_updates)
  g_loss_fn = lambda p: loss.g_loss(disc.apply({"params": d_params}, g_apply(p)[0],
                                               train=True))
  g_updates, _ = tx.update(jax.grad(g_loss_fn)(g_vars["params"]), state["g_opt"],
                           g_vars["params"])
  g_params = optax.apply_updates(g_vars["params"], g_updates)
  close = lambda a, b: jax.tree.all(jax.tree.map(
      lambda u, v: bool(np.allclose(u, v, rtol=1e-5, atol=1e-6)), a, b))
  assert close(new["d_params"], d_params) and close(new["g_params"], g_params)
  assert close(new["g_stats"], stats["batch_stats"])
  assert not close(new["g_stats"], g_vars["batch_stats"])  # BatchNorm's averages moved
  assert np.isfinite(float(metrics["d_loss"])) and np.isfinite(float(metrics["g_loss"]))


@pytest.mark.slow
def test_dcgan32_smoke_reports_each_conv_impl_side_by_side():
  results = benchmark.run_workloads(["dcgan32"], smoke=True, conv_impls=["xla", "fast"])
  gan = results["workloads"]["dcgan32"]
  assert (gan["parameters_g"], gan["parameters_d"]) == (1_195_587, 662_977)
  assert gan["parameters"] == 1_858_564
  assert gan["model_gflop_per_step"] == pytest.approx(49.33 * 4 / 128, rel=1e-3)
  for impl in ("xla", "fast"):
    assert gan[f"examples_per_s_{impl}"] > 0 and gan[f"compile_s_{impl}"] > 0
    assert gan[f"examples_per_s_best_{impl}"] >= gan[f"examples_per_s_{impl}"]
    assert 0 < gan[f"fraction_of_matmul_peak_{impl}"] <= 1
  assert gan["fast_over_xla"] == pytest.approx(
      gan["examples_per_s_fast"] / gan["examples_per_s_xla"])


def test_unet32_model_flops_and_parameters_match_benchmarks_md():
  checks = workloads.unet.unet32_checksums(benchmark.load_config("unet32"))
  assert checks["parameters"] == 4_437_699  # BENCHMARKS.md checksums
  assert checks["model_gflop_per_step"] == pytest.approx(393.47, abs=5e-3)
  assert checks["model_gflop_per_forward"] == pytest.approx(131.23, abs=5e-3)
  # Attention's q k^T and weights v: 2 * (3 * 256^2 * 128 + 64^2 * 128) MACs per example.
  attention = 2 * 64 * 2 * (3 * 256**2 * 128 + 64**2 * 128)
  assert checks["model_gflop_per_forward_with_attention"] == pytest.approx(
      131.231383552 + attention / 1e9, rel=1e-12)
  assert checks["model_gflop_per_step_with_attention"] == pytest.approx(
      393.465561088 + 3 * attention / 1e9, rel=1e-12)


def _traced_macs(jaxpr):
  """(all, batched) multiply-adds of the convolutions and dot_generals of a jaxpr."""
  total = batched = 0
  for eqn in jaxpr.eqns:
    for sub in jax.extend.core.jaxprs_in_params(eqn.params):
      t, b = _traced_macs(sub)
      total, batched = total + t, batched + b
    out = int(np.prod(eqn.outvars[0].aval.shape)) if eqn.outvars else 0
    if eqn.primitive.name == "conv_general_dilated":
      rhs = eqn.invars[1].aval.shape  # HWIO
      total += out * int(np.prod(rhs[:-1]))
    elif eqn.primitive.name == "dot_general":
      (lc, _), (lb, _) = eqn.params["dimension_numbers"]
      macs = out * int(np.prod([eqn.invars[0].aval.shape[d] for d in lc]))
      total += macs
      batched += macs if lb else 0
  return total, batched


def test_unet_forward_macs_count_every_conv_and_matmul_of_the_traced_network():
  config = benchmark.load_config("unet32")
  net = workloads.unet._model(config)
  variables = jax.eval_shape(lambda k: workloads.unet._init(net, config, k), jax.random.PRNGKey(0))
  x = jax.ShapeDtypeStruct((1, 32, 32, 3), jnp.float32)
  t = jax.ShapeDtypeStruct((1,), jnp.int32)
  total, batched = _traced_macs(jax.make_jaxpr(net.apply)(variables, x, t).jaxpr)
  layers = workloads.unet._layer_macs(config)
  assert total == sum(m for _, _, m in layers)
  assert batched == sum(m for _, kind, m in layers if kind == "attention")


@pytest.mark.slow
def test_unet32_smoke_reports_each_conv_impl_side_by_side():
  results = benchmark.run_workloads(["unet32"], smoke=True, conv_impls=["xla", "fast"])
  unet = results["workloads"]["unet32"]
  checks = workloads.unet.unet32_checksums(benchmark.load_config("unet32", smoke=True))
  assert unet["parameters"] == checks["parameters"]
  assert unet["model_gflop_per_step"] == pytest.approx(checks["model_gflop_per_step"])
  assert unet["model_gflop_per_forward"] == pytest.approx(checks["model_gflop_per_forward"])
  for impl in ("xla", "fast"):
    assert unet[f"examples_per_s_{impl}"] > 0 and unet[f"compile_s_{impl}"] > 0
    assert unet[f"examples_per_s_best_{impl}"] >= unet[f"examples_per_s_{impl}"]
    assert 0 < unet[f"fraction_of_matmul_peak_{impl}"] <= 1
  assert unet["fast_over_xla"] == pytest.approx(
      unet["examples_per_s_fast"] / unet["examples_per_s_xla"])
  assert unet["ddim_steps"] == 4
  for impl in ("xla", "fast"):  # batch / (steps x seconds per step)
    assert unet[f"ddim_images_per_s_{impl}"] == pytest.approx(
        2 / (4 * unet[f"ddim_seconds_per_step_{impl}"]))


def test_ddim_benchmark_window_walks_the_50_step_grid():
  from latentjax import diffusion

  s = diffusion.linear_schedule(num_timesteps=1000)
  calls = []

  class Recorder:
    def apply(self, variables, x, t, train=False):
      calls.append(t)
      return jnp.zeros_like(x)

  out = workloads.unet.make_ddim_window(Recorder(), s, 50, 50)({}, jnp.ones((1, 2, 2, 1)), 0)
  # One traced U-Net call inside the scan; the grid it walks is DDIM's 980, 960, ..., 0.
  assert len(calls) == 1
  np.testing.assert_array_equal(diffusion.timesteps(1000, 50), np.arange(980, -1, -20))
  # With eps = 0 every DDIM step rescales x by sqrt(abar_prev / abar_t): the product is
  # 1 / sqrt(abar_980) at the end (final abar = 1).
  a = np.asarray(s.alphas_cumprod)
  np.testing.assert_allclose(np.asarray(out), 1.0 / np.sqrt(a[980]), rtol=1e-4)


def test_metrics_workload_at_2000_points_reports_time_memory_and_the_metrics():
  results = benchmark.run_workloads(["metrics"], smoke=True, metrics_num_points=2000)
  figures = results["workloads"]["metrics"]
  assert figures["num_points"] == 2000
  assert figures["full_distance_matrix_gb"] == pytest.approx(2000 * 2000 * 8 / 1e9)
  assert "2000*2000*8 B = 0.032 GB" in figures["memory_note"]
  assert figures["prdc_block_mib"] == pytest.approx(1024 * 2000 * 4 / 2**20)
  config = benchmark.load_config("metrics", smoke=True)
  for width in config.widths:
    tag = f"w{width}"
    assert figures[f"{tag}_prdc_s"] > 0 and figures[f"{tag}_fid_s"] > 0
    assert figures[f"{tag}_fid_peak_rss_mib"] >= figures[f"{tag}_rss_before_mib"] > 0
    # The metrics of the workload's own feature sets (fake shifted by 0.1: FID > 0).
    real, fake = workloads.metrics.feature_sets(2000, width, config.fake_shift, config.seed)
    assert figures[f"{tag}_fid"] == pytest.approx(metrics.fid_from_features(real, fake))
    assert figures[f"{tag}_fid"] > 0.01 * width
    for key in ("precision", "recall", "coverage"):
      assert 0 < figures[f"{tag}_{key}"] < 1
  real, fake = workloads.metrics.feature_sets(2000, config.widths[0], config.fake_shift,
                                           config.seed)
  assert {k: figures[f"w{config.widths[0]}_{k}"] for k in metrics.PRDC_KEYS} == metrics.prdc(
      real, fake, config.nearest_k)
  with pytest.raises(ValueError, match="`metrics_num_points` must be >= 2, got 1"):
    benchmark.run_workloads(["metrics"], smoke=True, metrics_num_points=1)
