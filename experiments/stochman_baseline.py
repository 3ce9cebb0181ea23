r"""The `geodesic` workload solved by stochman (PyTorch), one curve at a time, for comparison.

Two steps, because PyTorch is not a dependency of latentjax:

    # 1. in latentjax's venv: decoder weights, endpoint pairs, converged reference lengths
    python -m experiments.stochman_baseline export /tmp/geodesic_workload.npz
    # 2. in a separate venv with `pip install torch stochman` (no latentjax needed)
    python experiments/stochman_baseline.py run /tmp/geodesic_workload.npz --curves=16

Step 2 times stochman's Adam loop per curve (optimisation only, length checks excluded)
until the curve's continuous decoded length (each of the 32 segments split in 16 latent
pieces, as latentjax's benchmark judges) is within 1% of the reference, and prints steps
and the time extrapolated to all 64 curves for three stochman curve families.
"""

import sys
import time

import numpy as np

TOLERANCE = 0.01
NUM_POINTS = 32
SUBDIVISIONS = 16


def export(path: str) -> None:
  """Writes the workload of configs/bench_geodesic.py and its converged lengths to ``path``."""
  from experiments import benchmark
  from latentjax import latent_ops as lo

  config = benchmark.load_config("geodesic")
  decoder, z0, z1, _, _ = benchmark._geodesic_setup(config)
  reference = lo.solve_geodesic(decoder, z0, z1, NUM_POINTS, config.geodesic.reference_num_steps,
                                rtol=config.geodesic.reference_rtol)
  out = {"z0": np.asarray(z0), "z1": np.asarray(z1),
         "ref_len": np.asarray(lo.curve_length(decoder, reference.curve, SUBDIVISIONS))}
  for i, (w, b) in enumerate(decoder.args[0]):
    out[f"w{i}"], out[f"b{i}"] = np.asarray(w), np.asarray(b)
  np.savez(path, **out)
  print(f"wrote {path}")


def run(path: str, num_curves: int) -> None:
  """Times stochman on the exported workload (needs torch and stochman)."""
  import torch
  from stochman.curves import CubicSpline, DiscreteCurve
  from stochman.manifold import EmbeddedManifold

  torch.set_num_threads(2)
  data = np.load(path)
  layers = [(torch.tensor(data[f"w{i}"]), torch.tensor(data[f"b{i}"])) for i in range(3)]

  class Decoded(EmbeddedManifold):
    def embed(self, c, jacobian=False):
      for i, (w, b) in enumerate(layers):
        c = c @ w + b
        c = torch.tanh(c) if i < len(layers) - 1 else torch.sigmoid(c)
      return c

  manifold = Decoded()
  alpha = torch.linspace(0, 1, NUM_POINTS)
  pieces = torch.linspace(0, 1, SUBDIVISIONS + 1)[:-1]

  def continuous_length(points):
    with torch.no_grad():
      seg = points[:-1, None] + pieces[None, :, None] * (points[1:] - points[:-1])[:, None]
      fine = torch.cat([seg.reshape(-1, points.shape[-1]), points[-1:]])
      x = manifold.embed(fine)
      return float(torch.linalg.norm(x[1:] - x[:-1], dim=-1).sum())

  families = [("DiscreteCurve, 32 nodes, Adam 1e-2", DiscreteCurve, 32, 1e-2),
              ("DiscreteCurve, 32 nodes, Adam 1e-1", DiscreteCurve, 32, 1e-1),
              ("CubicSpline, 5 nodes, Adam 1e-1 (stochman's default)", CubicSpline, 5, 1e-1)]
  for name, family, nodes, lr in families:
    steps, seconds = [], []
    for i in range(num_curves):
      curve = family(torch.tensor(data["z0"][i])[None], torch.tensor(data["z1"][i])[None],
                     num_nodes=nodes)
      opt = torch.optim.Adam(curve.parameters(), lr=lr)
      spent, k = 0.0, 0
      while k < 3000:
        start = time.perf_counter()
        for _ in range(5):
          opt.zero_grad()
          manifold.curve_energy(curve(alpha)).mean().backward()
          opt.step()
        spent += time.perf_counter() - start
        k += 5
        points = curve(alpha).reshape(-1, data["z0"].shape[-1])
        if continuous_length(points) <= (1 + TOLERANCE) * data["ref_len"][i]:
          break
      steps.append(k)
      seconds.append(spent)
    total = len(data["z0"]) * float(np.mean(seconds))
    print(f"{name}: median {np.median(steps):.0f} steps per curve, "
          f"{total:.2f} s for {len(data['z0'])} curves (from {num_curves} timed)")


def main(argv):
  if len(argv) < 3 or argv[1] not in ("export", "run"):
    raise SystemExit(__doc__)
  if argv[1] == "export":
    export(argv[2])
  else:
    curves = [int(a.split("=", 1)[1]) for a in argv[3:] if a.startswith("--curves=")]
    run(argv[2], curves[0] if curves else 16)


if __name__ == "__main__":
  main(sys.argv)
