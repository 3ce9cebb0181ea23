"""The `geodesic` benchmark workload of BENCHMARKS.md: a batch of latent geodesics.

    python -m experiments.benchmark --workloads=geodesic
    python -m experiments.benchmark --workloads=geodesic --smoke     # seconds, for tests

Decoder: MLP 8 -> 512 -> 512 -> 784 (tanh hidden, sigmoid out), LeCun-normal kernels,
zero biases, fixed seed. 64 endpoint pairs from N(0, I), 32 points per curve. Reports the
time to bring every curve's continuous decoded length within 1% of its converged value
(10 L-BFGS steps; README.md has the timings), the geodesic / straight-line length ratio
(0.95 on average), compile time, iteration time and FLOPs (5.469 GFLOP model FLOPs per
iteration), and a one-curve-at-a-time baseline (about 11x slower).
"""

import ml_collections


def get_config(arg=None):
  c = ml_collections.ConfigDict()

  c.model = ml_collections.ConfigDict()
  c.model.latent_dim = 8
  c.model.hidden_dims = (512, 512)
  c.model.output_dim = 784
  c.model.seed = 0  # decoder weights

  c.data = ml_collections.ConfigDict()
  c.data.num_pairs = 64
  c.data.seed = 1  # endpoint pairs

  c.geodesic = ml_collections.ConfigDict()
  c.geodesic.num_points = 32
  c.geodesic.learning_rate = None  # latent_ops.geodesic's default: L-BFGS (a number: Adam)
  c.geodesic.default_num_steps = 500  # the default call (early stop at rtol)
  c.geodesic.default_rtol = 1e-4
  c.geodesic.judge_subdivisions = 16  # latent pieces per segment when measuring lengths
  c.geodesic.tolerance = 0.01  # "within 1% of the converged length"
  c.geodesic.reference_num_steps = 2000  # the converged reference
  c.geodesic.reference_rtol = 1e-6
  # Step budgets tried in order; the first whose curves are all within tolerance is timed.
  c.geodesic.sweep_num_steps = (10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150, 200, 300, 500)

  c.timing = ml_collections.ConfigDict()
  c.timing.repeats = 5  # timed runs per measurement (median)
  c.timing.iteration_window = 50  # per-iteration time = (t(w steps) - t(0 steps)) / w

  # A stochman-style baseline: one curve at a time, Adam on the raw points, one
  # dispatch per iteration from Python, stopped as soon as the curve is within tolerance.
  c.baseline = ml_collections.ConfigDict()
  c.baseline.enabled = True
  c.baseline.num_curves = 8  # timed curves; the 64-curve figure is extrapolated
  c.baseline.learning_rate = 0.01
  c.baseline.max_iters = 3000

  if arg in (None, ""):
    return c
  if arg == "smoke":
    c.model.hidden_dims = (32, 32)
    c.model.output_dim = 16
    c.data.num_pairs = 4
    c.geodesic.num_points = 8
    c.geodesic.default_num_steps = 100
    c.geodesic.reference_num_steps = 300
    c.geodesic.sweep_num_steps = (20, 100, 300)
    c.timing.repeats = 1
    c.timing.iteration_window = 5
    c.baseline.num_curves = 1
    c.baseline.max_iters = 300
    return c
  raise ValueError(f"Unknown config argument {arg!r}; known: smoke")
