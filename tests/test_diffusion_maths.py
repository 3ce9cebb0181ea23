"""Diffusion maths: schedules, forward process, samplers, guidance and inversion.

The samplers are checked against the closed form of Gaussian data ``x0 ~ N(m, diag(v))``,
whose optimal noise predictor is ``E[eps | x_t] = sqrt(1 - a) (x_t - sqrt(a) m) /
(a v + 1 - a)``. The starting noise is standardised per coordinate, so for the
deterministic samplers (affine maps of ``x_T`` per coordinate) the sample mean and
variance are exactly the output distribution's: the tolerances measure discretisation
error only (plus the small bias of starting from N(0, I) at ``t < T``).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import diffusion
from latentjax.diffusion import _inversion, _samplers

T = 1000
MEAN = np.array([1.0, -2.0, 0.5], np.float32)
VAR = np.array([0.25, 2.0, 1.0], np.float32)
SCHEDULE = diffusion.linear_schedule(T)


def _gaussian_eps(s, mean, var, x, t):
  a = s.alphas_cumprod[t][:, None]
  return jnp.sqrt(1.0 - a) * (x - jnp.sqrt(a) * mean[None]) / (a * var[None] + 1.0 - a)


def _optimal_eps(s=SCHEDULE):
  """The Bayes-optimal eps of the Gaussian data; its arrays are pytree leaves."""
  return jax.tree_util.Partial(_gaussian_eps, s, jnp.asarray(MEAN), jnp.asarray(VAR))


def _standard_noise(n=4096, seed=0):
  z = np.random.default_rng(seed).normal(size=(n, 3))
  return jnp.asarray((z - z.mean(0, keepdims=True)) / z.std(0, keepdims=True), jnp.float32)


def _moment_errors(x):
  x = np.asarray(x, np.float64)
  return np.abs(x.mean(0) - MEAN).max(), np.abs(x.var(0) / VAR - 1.0).max()


def _tanh_eps(w, b, x, t):
  scale = (t.astype(x.dtype) / T)[:, None]
  return jnp.tanh(x @ w + scale * b[None])


def _random_eps(dim=3, seed=0, dtype=jnp.float32):
  rng = np.random.default_rng(seed)
  w = jnp.asarray(rng.normal(size=(dim, dim)) / np.sqrt(dim), dtype)
  b = jnp.asarray(rng.normal(size=(dim,)), dtype)
  return jax.tree_util.Partial(_tanh_eps, w, b)


# Schedules and grids.

def test_linear_schedule_values():
  s = diffusion.linear_schedule(T, 1e-4, 0.02)
  betas = np.asarray(s.betas, np.float64)
  assert s.num_timesteps == T and s.betas.shape == s.alphas_cumprod.shape == (T,)
  np.testing.assert_allclose([betas[0], betas[-1]], [1e-4, 0.02], rtol=1e-6)
  np.testing.assert_allclose(s.alphas_cumprod, np.cumprod(1.0 - betas), rtol=1e-5)
  assert np.all(np.diff(np.asarray(s.alphas_cumprod)) < 0)


def test_cosine_schedule_clips_betas_and_matches_the_product_formula():
  s = diffusion.cosine_schedule(T, s=0.008)
  betas = np.asarray(s.betas, np.float64)
  assert betas.max() == pytest.approx(0.999) and betas[-1] == pytest.approx(0.999)
  u = np.arange(T + 1) / T
  f = np.cos((u + 0.008) / 1.008 * np.pi / 2) ** 2
  np.testing.assert_allclose(betas[:900], (1 - f[1:] / f[:-1])[:900], rtol=1e-5)
  np.testing.assert_allclose(s.alphas_cumprod, np.cumprod(1.0 - betas), rtol=1e-5, atol=1e-9)
  assert np.all(np.diff(np.asarray(s.alphas_cumprod)) <= 0)


def test_schedule_is_a_pytree_with_static_num_timesteps():
  leaves, treedef = jax.tree_util.tree_flatten(SCHEDULE)
  assert len(leaves) == 3  # betas, alphas_cumprod, one_minus_alphas_cumprod
  out = jax.jit(lambda s: s.alphas_cumprod[s.num_timesteps - 1])(SCHEDULE)
  assert float(out) == pytest.approx(float(SCHEDULE.alphas_cumprod[-1]))
  assert jax.tree_util.tree_unflatten(treedef, leaves).num_timesteps == T


def test_timestep_grids():
  grid = diffusion.timesteps(T, 50)
  np.testing.assert_array_equal(grid, np.arange(980, -1, -20))
  assert grid.dtype == np.int32
  np.testing.assert_array_equal(diffusion.timesteps(T, T), np.arange(T - 1, -1, -1))
  quad = diffusion.timesteps(T, 10, "quadratic")
  expected = np.floor(np.linspace(0, np.sqrt(0.8 * T), 10) ** 2).astype(int)[::-1]
  np.testing.assert_array_equal(quad, expected)
  assert quad[0] == 800 and quad[-1] == 0
  many = diffusion.timesteps(T, 50, "quadratic")  # floor(.)^2 repeats 0: raised to 1, 2, ...
  assert len(set(many.tolist())) == 50 and np.all(np.diff(many) < 0) and many[0] == 800
  np.testing.assert_array_equal(many[-4:], [3, 2, 1, 0])
  np.testing.assert_array_equal(diffusion.timesteps(T, 50, "trailing")[[0, 1, -1]],
                                [999, 979, 19])


# Forward process and objectives.

def test_q_sample_statistics(key):
  x0 = jnp.asarray(np.tile(MEAN, (20000, 1)))
  noise = jax.random.normal(key, x0.shape)
  x_t = diffusion.q_sample(SCHEDULE, x0, 300, noise)
  a = float(SCHEDULE.alphas_cumprod[300])
  np.testing.assert_allclose(np.mean(x_t, 0), np.sqrt(a) * MEAN, atol=0.03)
  np.testing.assert_allclose(np.var(x_t, 0), 1 - a, rtol=0.05)
  t = jnp.asarray([0, 999])  # per-example t
  pair = diffusion.q_sample(SCHEDULE, x0[:2], t, noise[:2])
  a2 = np.asarray(SCHEDULE.alphas_cumprod)[[0, 999]][:, None]
  np.testing.assert_allclose(pair, np.sqrt(a2) * x0[:2] + np.sqrt(1 - a2) * noise[:2],
                             rtol=1e-5)


def test_parameterisation_conversions_are_consistent(key):
  k1, k2 = jax.random.split(key)
  x0, noise = jax.random.normal(k1, (4, 2, 3)), jax.random.normal(k2, (4, 2, 3))
  t = jnp.asarray([0, 10, 500, 999])
  s = SCHEDULE
  x_t = diffusion.q_sample(s, x0, t, noise)
  v = diffusion.v_target(s, x0, t, noise)
  np.testing.assert_allclose(diffusion.eps_to_x0(s, x_t, t, noise), x0, atol=1e-3)
  np.testing.assert_allclose(diffusion.x0_to_eps(s, x_t, t, x0), noise, atol=1e-3)
  np.testing.assert_allclose(diffusion.v_to_eps(s, x_t, t, v), noise, atol=1e-5)
  np.testing.assert_allclose(diffusion.v_to_x0(s, x_t, t, v), x0, atol=1e-5)


def test_diffusion_loss_is_zero_for_the_true_target_and_per_example(key):
  x0 = jnp.asarray(np.random.default_rng(0).normal(size=(6, 3)), jnp.float32)
  loss, per = diffusion.diffusion_loss(SCHEDULE, lambda x, t: jnp.zeros_like(x), x0, key)
  assert per.shape == (6,) and float(loss) == pytest.approx(float(jnp.mean(per)))
  # The zero model's eps loss is the mean squared noise, drawn as the function draws it.
  _, k_noise = jax.random.split(key)
  noise = jax.random.normal(k_noise, x0.shape)
  np.testing.assert_allclose(per, jnp.mean(noise ** 2, axis=1), rtol=1e-6)
  loss_x0, _ = diffusion.diffusion_loss(
      SCHEDULE, lambda x, t, y: y, x0, key, prediction="x0", labels=x0)
  assert float(loss_x0) == 0.0
  with pytest.raises(ValueError, match="prediction"):
    diffusion.diffusion_loss(SCHEDULE, lambda x, t: x, x0, key, prediction="score")
  with pytest.raises(ValueError, match="predict_fn"):
    diffusion.diffusion_loss(SCHEDULE, lambda x, t: x[:, :2], x0, key)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_noise_level_near_t0_keeps_float32_precision(schedule):
  # 1 - alphas_cumprod[t] was formed from the float32 alpha_bar ~ 1 - 1e-4, losing all but
  # four digits: relative errors 1.7e-4 (linear) and 5.3e-4 (cosine) in the noise variance
  # at t = 0, 4.6e-4 in the DDPM step's beta at t = 1.
  if schedule == "linear":
    s, betas = diffusion.linear_schedule(T), np.linspace(1e-4, 0.02, T)
  else:
    s = diffusion.cosine_schedule(T)
    u = np.arange(T + 1) / T
    f = np.cos((u + 0.008) / 1.008 * np.pi / 2.0) ** 2
    betas = np.minimum(1.0 - f[1:] / f[:-1], 0.999)
  a = np.cumprod(1.0 - betas)  # float64
  t = np.arange(T)
  ones = jnp.ones((T, 1), jnp.float32)
  # q_sample of (x0, noise) = (0, 1) and (1, 0): sqrt(1 - a_t) and sqrt(a_t).
  np.testing.assert_allclose(diffusion.q_sample(s, 0.0 * ones, t, ones)[:, 0],
                             np.sqrt(1.0 - a), rtol=2e-6)
  np.testing.assert_allclose(diffusion.q_sample(s, ones, t, 0.0 * ones)[:, 0], np.sqrt(a),
                             rtol=2e-6)
  # DDIM to the clean image from x_t = 0 with eps = 1: -sqrt(1 - a_t) / sqrt(a_t).
  small = t[:50]
  got = diffusion.ddim_step(s, jnp.zeros((50, 1)), jnp.ones((50, 1)), small, -1)[:, 0]
  np.testing.assert_allclose(got, -np.sqrt((1.0 - a[small]) / a[small]), rtol=2e-6)
  # An eta = 1 step t -> t - 1 from (x_t, eps) = (0, 0) is sigma z with sigma^2 the
  # posterior variance (1 - a_{t-1}) / (1 - a_t) beta_t, beta_t = 1 - a_t / a_{t-1}.
  key = jax.random.PRNGKey(0)
  z = np.asarray(jax.random.normal(key, (49, 1)))
  got = diffusion.ddim_step(s, jnp.zeros((49, 1)), jnp.zeros((49, 1)), small[1:],
                            small[:-1], 1.0, key)
  b = 1.0 - a[small[1:]] / a[small[:-1]]
  sigma = np.sqrt((1.0 - a[small[:-1]]) / (1.0 - a[small[1:]]) * b)
  np.testing.assert_allclose(got, sigma[:, None] * z, rtol=5e-6)


# One DDIM step by hand.

def test_ddim_step_matches_eq_12_and_16(key):
  x = jnp.asarray([[0.3, -1.2]], jnp.float32)
  eps = jnp.asarray([[0.5, 0.1]], jnp.float32)
  a_t, a_p = (float(SCHEDULE.alphas_cumprod[i]) for i in (500, 480))
  x0 = (np.asarray(x) - np.sqrt(1 - a_t) * np.asarray(eps)) / np.sqrt(a_t)
  out = diffusion.ddim_step(SCHEDULE, x, eps, 500, 480)
  np.testing.assert_allclose(out, np.sqrt(a_p) * x0 + np.sqrt(1 - a_p) * eps, rtol=1e-5)
  eta = 0.7
  sigma = eta * np.sqrt((1 - a_p) / (1 - a_t)) * np.sqrt(1 - a_t / a_p)
  z = np.asarray(jax.random.normal(key, x.shape))
  want = np.sqrt(a_p) * x0 + np.sqrt(1 - a_p - sigma ** 2) * eps + sigma * z
  np.testing.assert_allclose(diffusion.ddim_step(SCHEDULE, x, eps, 500, 480, eta, key), want,
                             rtol=1e-5)
  a_20 = float(SCHEDULE.alphas_cumprod[20])
  x0_20 = (np.asarray(x) - np.sqrt(1 - a_20) * np.asarray(eps)) / np.sqrt(a_20)
  np.testing.assert_allclose(diffusion.ddim_step(SCHEDULE, x, eps, 20, -1), x0_20, rtol=1e-5)
  jitted = jax.jit(lambda t, tp: diffusion.ddim_step(SCHEDULE, x, eps, t, tp))
  np.testing.assert_allclose(jitted(500, 480), out, rtol=1e-6)


def test_ddim_step_accepts_any_negative_t_prev_as_the_clean_image():
  # A spacing such as ``t - T // steps`` gives t_prev = -20 for the last step: DESIGN.md
  # pins every t_prev < 0 as the clean image (alpha_bar = 1), eager and under jit.
  x = jnp.asarray([[0.3, -1.2], [1.5, 0.2]], jnp.float32)
  eps = jnp.asarray([[0.5, 0.1], [-0.4, 0.9]], jnp.float32)
  a_20 = float(SCHEDULE.alphas_cumprod[20])
  x0_20 = (np.asarray(x) - np.sqrt(1 - a_20) * np.asarray(eps)) / np.sqrt(a_20)
  to_clean = diffusion.ddim_step(SCHEDULE, x, eps, 20, -1)
  np.testing.assert_allclose(to_clean, x0_20, rtol=1e-5)
  for t_prev in (-20, -1000, jnp.asarray(-20), jnp.asarray([-20, -3])):
    np.testing.assert_array_equal(diffusion.ddim_step(SCHEDULE, x, eps, 20, t_prev), to_clean)
  jitted = jax.jit(lambda t, tp: diffusion.ddim_step(SCHEDULE, x, eps, t, tp))
  np.testing.assert_array_equal(jitted(20, -20), jitted(20, -1))
  np.testing.assert_allclose(jitted(20, -20), x0_20, rtol=1e-5)
  np.testing.assert_allclose(jitted(20, jnp.asarray([-20, -1])), x0_20, rtol=1e-5)


# Closed-form Gaussian data.

def test_ddim_matches_the_gaussian_data_closed_form():
  z = _standard_noise()
  mean50, var50 = _moment_errors(diffusion.ddim_sample(SCHEDULE, _optimal_eps(), z, 50))
  mean200, var200 = _moment_errors(diffusion.ddim_sample(SCHEDULE, _optimal_eps(), z, 200))
  assert mean50 < 0.03 and var50 < 0.13  # first order: about 1/n relative variance error
  assert mean200 < 0.025 and var200 < 0.035
  assert var200 < var50 / 3


def test_ddpm_full_chain_matches_the_gaussian_data_closed_form(key):
  x = diffusion.ddpm_sample(SCHEDULE, _optimal_eps(), _standard_noise(), key)
  mean_err, var_err = _moment_errors(x)
  # Monte Carlo: 4096 draws, sd of the mean <= sqrt(2 / 4096) = 0.022, of var/v - 1 0.022.
  assert mean_err < 0.09 and var_err < 0.09


def test_respaced_ddpm_is_ddim_with_eta_one(key):
  z = _standard_noise(64)
  ddpm = diffusion.ddpm_sample(SCHEDULE, _optimal_eps(), z, key, num_steps=25)
  ddim = diffusion.ddim_sample(SCHEDULE, _optimal_eps(), z, 25, eta=1.0, key=key)
  np.testing.assert_allclose(ddpm, ddim, rtol=1e-4, atol=1e-4)


def test_dpm_solver_pp_2m_matches_the_gaussian_data_closed_form():
  z = _standard_noise()
  errors = [_moment_errors(diffusion.dpm_solver_pp_2m_sample(SCHEDULE, _optimal_eps(), z, n))
            for n in (10, 20)]
  (mean10, var10), (mean20, var20) = errors
  assert mean10 < 0.06 and var10 < 0.36
  assert mean20 < 0.035 and var20 < 0.09
  # With 20 steps it is as accurate as DDIM with 50.
  _, var_ddim = _moment_errors(diffusion.ddim_sample(SCHEDULE, _optimal_eps(), z, 50))
  assert var20 < var_ddim


# Inversion.

class _Recorder:
  """eps_fn constant in x that records the timesteps it is called with (host side)."""

  def __init__(self):
    self.calls = []

  def __call__(self, x, t):
    jax.debug.callback(lambda t: self.calls.append(int(t[0])), t)
    return jnp.broadcast_to(jnp.sin(t.astype(x.dtype))[:, None], x.shape)


def test_ddim_invert_uses_the_sampling_grid_reversed_and_is_exact_for_constant_eps():
  x0 = jnp.asarray(np.random.default_rng(3).normal(size=(2, 3)), jnp.float32)
  recorder = _Recorder()
  z = diffusion.ddim_invert(SCHEDULE, recorder, x0, 50)
  jax.effects_barrier()
  inverted_calls, recorder.calls = recorder.calls, []
  x_rec = diffusion.ddim_sample(SCHEDULE, recorder, z, 50)
  jax.effects_barrier()
  assert recorder.calls == list(range(980, -1, -20))
  assert inverted_calls == list(range(0, 981, 20))
  np.testing.assert_allclose(x_rec, x0, atol=1e-4)


def test_ddim_inversion_error_shrinks_with_more_steps():
  x0 = jnp.asarray(MEAN[None] + np.sqrt(VAR)[None] * np.random.default_rng(4).normal(
      size=(64, 3)), jnp.float32)
  errors = {}
  for n in (20, 200):
    z = diffusion.ddim_invert(SCHEDULE, _optimal_eps(), x0, n)
    x_rec = diffusion.ddim_sample(SCHEDULE, _optimal_eps(), z, n)
    errors[n] = float(jnp.max(jnp.abs(x_rec - x0)))
  assert errors[200] < errors[20] / 5 and errors[200] < 0.1  # first order: about 1/n


# EDICT's rounding error grows like (1 / mix) ** num_steps times 1 / sqrt(alpha_bar) of the
# largest grid point: float32 reaches 1e-5 at 5 steps, a few 1e-4 at 50.
@pytest.mark.parametrize(("num_steps", "atol"), [(5, 2e-5), (50, 1e-3)])
def test_exact_inversion_round_trip_float32(num_steps, atol):
  eps_fn = _random_eps()
  x0 = jnp.asarray(np.random.default_rng(5).normal(size=(8, 3)), jnp.float32)
  pair = diffusion.exact_invert(SCHEDULE, eps_fn, x0, num_steps)
  x_rec, y_rec = diffusion.exact_sample(SCHEDULE, eps_fn, pair, num_steps)
  np.testing.assert_allclose(x_rec, x0, atol=atol)
  np.testing.assert_allclose(y_rec, x0, atol=atol)
  # DDIM inversion of the same nonlinear eps_fn is far from exact.
  z = diffusion.ddim_invert(SCHEDULE, eps_fn, x0, num_steps)
  assert float(jnp.max(jnp.abs(diffusion.ddim_sample(SCHEDULE, eps_fn, z, num_steps) - x0))) > 0.01


def test_exact_inversion_round_trip_float64():
  with jax.enable_x64(True):
    s = diffusion.linear_schedule(T)
    eps_fn = _random_eps(dtype=jnp.float64)
    x0 = jnp.asarray(np.random.default_rng(6).normal(size=(4, 3)), jnp.float64)
    for n in (5, 50):
      x_rec, _ = diffusion.exact_sample(s, eps_fn, diffusion.exact_invert(s, eps_fn, x0, n), n)
      np.testing.assert_allclose(x_rec, x0, atol=1e-10)


def test_optimize_noise_lowers_the_reconstruction_error():
  eps_fn = _random_eps()
  x0 = jnp.asarray(np.random.default_rng(7).normal(size=(4, 3)), jnp.float32)
  z, losses = diffusion.optimize_noise(SCHEDULE, eps_fn, x0, 5, num_iters=60,
                                       learning_rate=0.01)
  z0 = diffusion.ddim_invert(SCHEDULE, eps_fn, x0, 5)
  start = float(jnp.mean((diffusion.ddim_sample(SCHEDULE, eps_fn, z0, 5) - x0) ** 2))
  end = float(jnp.mean((diffusion.ddim_sample(SCHEDULE, eps_fn, z, 5) - x0) ** 2))
  assert losses.shape == (60,) and float(losses[0]) == pytest.approx(start, rel=1e-4)
  assert end < 0.2 * start


# Guidance.

def _cond_eps(w, x, t, labels):
  return x * w[labels][:, None] + (t.astype(x.dtype) / T)[:, None]


def test_classifier_free_guidance_formula():
  w = jnp.asarray([0.5, 2.0, -1.0])  # label 2 is the null label
  cond = jax.tree_util.Partial(_cond_eps, w)
  x = jnp.asarray([[1.0, 2.0], [3.0, -1.0]])
  t = jnp.asarray([100, 900], jnp.int32)
  labels = jnp.asarray([0, 1])
  e_c, e_u = _cond_eps(w, x, t, labels), _cond_eps(w, x, t, jnp.asarray([2, 2]))
  for scale in (0.0, 3.0):
    eps_fn = diffusion.bind_labels(diffusion.guided_eps_fn(cond, scale, 2), labels)
    np.testing.assert_allclose(eps_fn(x, t), (1 + scale) * e_c - scale * e_u, rtol=1e-6)
  guided = diffusion.guided_eps_fn(cond, 0.0, 2)
  np.testing.assert_allclose(guided(x, t, labels), e_c, rtol=1e-6)
  out = diffusion.ddim_sample(SCHEDULE, diffusion.bind_labels(guided, labels), x, 5)
  assert out.shape == x.shape


# Compilation and argument checks.

@jax.tree_util.register_pytree_node_class
class _CountingEps:
  """A pytree eps_fn counting its traces (on the class: the samplers rebuild copies)."""

  traces = 0

  def __init__(self, scale):
    self.scale = scale

  def __call__(self, x, t):
    type(self).traces += 1
    return self.scale * x

  def tree_flatten(self):
    return (self.scale,), None

  @classmethod
  def tree_unflatten(cls, aux, leaves):
    del aux
    return cls(*leaves)


@pytest.mark.parametrize("sampler", ["ddim", "ddpm", "dpm", "invert", "exact"])
def test_each_sampler_compiles_once_per_shape_and_step_count(sampler, key):
  run = {
      "ddim": lambda f, x, n: diffusion.ddim_sample(SCHEDULE, f, x, n, 0.5, key),
      "ddpm": lambda f, x, n: diffusion.ddpm_sample(SCHEDULE, f, x, key, n),
      "dpm": lambda f, x, n: diffusion.dpm_solver_pp_2m_sample(SCHEDULE, f, x, n),
      "invert": lambda f, x, n: diffusion.ddim_invert(SCHEDULE, f, x, n),
      "exact": lambda f, x, n: diffusion.exact_sample(SCHEDULE, f, x, n),
  }[sampler]
  x = jnp.ones((2, 3))
  _CountingEps.traces = 0
  run(_CountingEps(jnp.asarray(0.1)), x, 7)
  first = _CountingEps.traces
  assert first >= 1
  for scale in (0.2, 0.3):  # new parameter values and inputs: no new trace
    jax.block_until_ready(run(_CountingEps(jnp.asarray(scale)), x * scale, 7))
  assert _CountingEps.traces == first
  run(_CountingEps(jnp.asarray(0.1)), x, 8)  # a new step count compiles once more
  run(_CountingEps(jnp.asarray(0.1)), jnp.ones((3, 3)), 8)  # and a new shape
  assert _CountingEps.traces == 3 * first


def test_optimize_noise_compiles_once():
  compiled = _inversion._optimize_compiled.compiled
  x0 = jnp.ones((2, 3))
  diffusion.optimize_noise(SCHEDULE, _CountingEps(jnp.asarray(0.1)), x0, 3, num_iters=2)
  size = compiled._cache_size()
  diffusion.optimize_noise(SCHEDULE, _CountingEps(jnp.asarray(0.2)), x0 * 2, 3, num_iters=2)
  assert compiled._cache_size() == size


@pytest.mark.parametrize(("call", "match"), [
    (lambda f, x, k: diffusion.ddim_sample(SCHEDULE, f, x, 0), "num_steps"),
    (lambda f, x, k: diffusion.ddim_sample(SCHEDULE, f, x, T + 1), "num_steps"),
    (lambda f, x, k: diffusion.ddim_sample(SCHEDULE, f, x, 10, eta=-0.1), "eta"),
    (lambda f, x, k: diffusion.ddim_sample(SCHEDULE, f, x, 10, eta=0.5), "eta"),
    (lambda f, x, k: diffusion.ddim_sample(SCHEDULE, f, x, 10, spacing="log"), "spacing"),
    (lambda f, x, k: diffusion.ddpm_sample(SCHEDULE, f, x, None), "key"),
    (lambda f, x, k: diffusion.dpm_solver_pp_2m_sample(SCHEDULE, f, x, 0), "num_steps"),
    (lambda f, x, k: diffusion.ddim_invert(SCHEDULE, f, x, 10, spacing="x"), "spacing"),
    (lambda f, x, k: diffusion.exact_invert(SCHEDULE, f, x, 10, mix=0.0), "mix"),
    (lambda f, x, k: diffusion.ddim_sample(SCHEDULE, f, x * jnp.nan, 10), "x_T"),
    (lambda f, x, k: diffusion.q_sample(SCHEDULE, x, T, x), "`t`"),
    (lambda f, x, k: diffusion.ddim_step(SCHEDULE, x, x, 10, T), "t_prev"),
    (lambda f, x, k: diffusion.optimize_noise(SCHEDULE, f, x, 5, num_iters=0), "num_iters"),
    (lambda f, x, k: diffusion.linear_schedule(10, 0.02, 1e-4), "beta_end"),
    (lambda f, x, k: diffusion.cosine_schedule(0), "num_timesteps"),
])
def test_bad_arguments_raise_before_compiling(call, match, key):
  _CountingEps.traces = 0
  with pytest.raises(ValueError, match=match):
    call(_CountingEps(jnp.asarray(0.1)), jnp.ones((2, 3)), key)
  assert _CountingEps.traces == 0


def test_samplers_work_under_an_outer_jit():
  z = _standard_noise(16)
  eps_fn = _optimal_eps()
  fn = jax.jit(lambda s, f, x: diffusion.ddim_sample(s, f, x, 10))
  np.testing.assert_allclose(fn(SCHEDULE, eps_fn, z),
                             diffusion.ddim_sample(SCHEDULE, eps_fn, z, 10), rtol=1e-5, atol=1e-6)
  assert _samplers._ddim_compiled.compiled._cache_size() >= 1
