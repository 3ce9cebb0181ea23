"""train.compute_dtype: float32 state and losses, bfloat16 arithmetic, float32-like training."""

import collections
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.extend import core as jcore
from sklearn.datasets import load_digits

from latentjax import models, training
from latentjax.training._config import upgrade_saved_config
from latentjax.training._experiment import example_inputs

# Its module-scoped runs are trained once: every test of the file on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_mixed_precision")

# bfloat16 training of the small VAE reaches the float32 run's loss within this relative
# margin (mean loss of the last 25 of 150 identical steps; measured: below 0.1%).
LOSS_MARGIN = 0.02
NUM_STEPS = 150


def _config(name: str, compute_dtype: str, **model):
  c = importlib.import_module(f"configs.{name}").get_config("smoke")
  c.train.compute_dtype = compute_dtype
  for k, v in model.items():
    c.model[k] = v
  return c


def _experiment(config):
  return training.build_experiment(training.ExperimentConfig.from_config(config))


def _matmul_dtypes(jaxpr, out=None) -> collections.Counter:
  """Counts (primitive, lhs dtype, rhs dtype) of every dot / convolution, sub-jaxprs too."""
  out = collections.Counter() if out is None else out
  for e in jaxpr.eqns:
    if e.primitive.name in ("dot_general", "conv_general_dilated"):
      out[(e.primitive.name, str(e.invars[0].aval.dtype), str(e.invars[1].aval.dtype))] += 1
    for p in e.params.values():
      for sub in p if isinstance(p, (list, tuple)) else (p,):
        if isinstance(sub, jcore.ClosedJaxpr):
          _matmul_dtypes(sub.jaxpr, out)
        elif isinstance(sub, jcore.Jaxpr):
          _matmul_dtypes(sub, out)
  return out


def _step_matmuls(exp) -> collections.Counter:
  state = jax.eval_shape(lambda k: training.init_state(exp, k), jax.random.PRNGKey(0))
  batch = example_inputs(exp, 4)
  if exp.spec.num_classes:
    batch.setdefault(exp.spec.label_key, jnp.zeros((4,), jnp.int32))
  jaxpr = jax.make_jaxpr(training.make_step(exp))(state, batch, jax.random.PRNGKey(1))
  return _matmul_dtypes(jaxpr.jaxpr)


def test_bad_compute_dtype_fails_naming_the_key():
  with pytest.raises(ValueError, match=r"config\.train\.compute_dtype .*'float16'"):
    training.ExperimentConfig.from_config(_config("vae_digits", "float16"))
  with pytest.raises(ValueError, match="`compute_dtype`"):
    models.check_compute_dtype("fp32")


def test_saved_configs_without_the_key_read_as_float32():
  raw = _config("vae_digits", "float32").to_dict()
  del raw["train"]["compute_dtype"]
  assert upgrade_saved_config(raw)["train"]["compute_dtype"] == "float32"


@pytest.mark.parametrize("name, model", [
    ("vae_digits", {}),
    ("cvae_digits", {"architecture": "conv", "channels": (8, 8), "conv_impl": "fast"}),
    ("dcgan_digits", {"spectral_norm": False, "conv_impl": "xla"}),
    ("cddpm_digits", {"unet_channels": 8, "unet_mult": (1,), "attn_resolutions": (8,),
                      "norm_groups": 4, "conv_impl": "xla"}),
    ("classifier_digits", {"channels": (8, 8), "conv_impl": "xla"}),
])
def test_every_matmul_and_convolution_of_a_step_runs_in_the_compute_dtype(name, model):
  # Forward and backward: every dot and convolution of the step, none left in float32
  # (one-hot labels, timestep and label embeddings included); float32 runs have none in
  # bfloat16.
  for dtype in ("bfloat16", "float32"):
    counts = _step_matmuls(_experiment(_config(name, dtype, **model)))
    assert sum(counts.values()) > 0
    assert {(a, b) for _, a, b in counts} == {(dtype, dtype)}, counts


def test_apply_in_dtype_returns_float32_and_casts_only_floating_leaves():
  net = models.MLP((4, 2))
  x = jnp.linspace(-1.0, 1.0, 6, dtype=jnp.float32).reshape(2, 3)
  variables = net.init(jax.random.PRNGKey(0), x)
  y16 = models.apply_in_dtype(net, variables, x, compute_dtype="bfloat16")
  y32 = net.apply(variables, x)
  assert y16.dtype == jnp.float32
  np.testing.assert_allclose(y16, y32, rtol=0.05, atol=0.02)
  tree = models.cast_floating({"w": x, "n": jnp.arange(3), "s": "text"}, jnp.bfloat16)
  assert (tree["w"].dtype, tree["n"].dtype, tree["s"]) == (jnp.bfloat16, jnp.int32, "text")


def _digit_batches(num: int, batch_size: int) -> list[dict]:
  images = (load_digits().images / 16.0).astype(np.float32)[..., None]  # [N, 8, 8, 1]
  order = np.random.default_rng(0).permutation(len(images))
  return [{"image": images[order[i * batch_size:(i + 1) * batch_size]]} for i in range(num)]


@pytest.fixture(scope="module")
def vae_runs():
  batches = _digit_batches(30, 32)
  runs = {}
  for dtype in ("float32", "bfloat16"):
    c = _config("vae_digits", dtype, hidden_dims=(64, 32))
    c.data.batch_size = 32
    exp = _experiment(c)
    state = jax.jit(lambda k, exp=exp: training.init_state(exp, k))(jax.random.PRNGKey(0))
    step = jax.jit(training.make_step(exp))
    losses = []
    for i in range(NUM_STEPS):
      state, metrics = step(state, batches[i % len(batches)], jax.random.PRNGKey(1))
      losses.append(metrics["loss"])
    runs[dtype] = (state, np.asarray(jax.device_get(losses)), metrics)
  return runs


def test_parameters_optimizer_state_and_metrics_stay_float32(vae_runs):
  state, _, metrics = vae_runs["bfloat16"]
  for tree in (state.params, state.opt_state, state.ema_params, metrics):
    floats = [x.dtype for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and set(floats) == {jnp.dtype(jnp.float32)}


def test_bfloat16_training_reaches_the_float32_loss(vae_runs):
  final = {k: float(np.mean(v[1][-25:])) for k, v in vae_runs.items()}
  first = float(np.mean(vae_runs["float32"][1][:5]))
  assert final["float32"] < 0.8 * first  # the runs really train
  assert abs(final["bfloat16"] / final["float32"] - 1.0) < LOSS_MARGIN, final
  # The two runs differ: bfloat16 arithmetic really was used.
  assert not np.array_equal(vae_runs["bfloat16"][1], vae_runs["float32"][1])
