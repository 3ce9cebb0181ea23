"""Cells of 02_geodesics.ipynb: pull-back metric, magnification factor, geodesics."""

GEODESICS = [
    ("md", r"""
# Geodesics in a VAE's latent space

A decoder $g: \mathbb{R}^2 \to \mathbb{R}^{64}$ maps a latent plane into image space. A
small step $dz$ moves the decoded image by $J(z)\,dz$, where $J$ is the decoder's
Jacobian, so image-space distances pulled back to the latent space are measured by the
**pull-back metric** $G(z) = J(z)^\top J(z)$. Where $G$ is large, a small latent step
changes the image a lot.

* The **magnification factor** $\sqrt{\det G(z)}$ says how much the decoder stretches
  area around $z$: drawn over the plane, it shows where the decoder changes fast.
* A **geodesic** is the latent curve whose decoded path is shortest. It bends around
  regions of high magnification that the straight line cuts through (Arvanitidis,
  Hansen & Hauberg, *Latent Space Oddity*, 2018).

This notebook trains a VAE with a 2-D latent space on the built-in `digits`, then uses
`latentjax.latent_ops` to compute all of this for the trained decoder. Every function
takes any JAX decoder `z -> x`, so the same code works with your own models.
"""),
    ("code", "SETUP"),
    ("code", "IMPORTS"),
    ("md", r"""
## 1. Train a VAE with a 2-D latent space

`configs/vae2d_digits.py` is the 16-D digits VAE with a 2-D code. Under
`LATENTJAX_SMALL=1` the run is shortened to seconds (the pictures get rougher, the
code is the same).
"""),
    ("code", r"""
from configs import vae2d_digits

config = vae2d_digits.get_config("smoke" if SMALL else None)
config.train.num_steps = 600 if SMALL else 4000
config.data.batch_size = 64 if SMALL else 128
config.train.progress_bar = not SMALL
if SMALL:  # the smoke config logs and checkpoints every 4 steps: fewer is quicker
  config.train.log_every_steps, config.train.checkpoint_every_steps = 10, config.train.num_steps
workdir = tempfile.mkdtemp(prefix="latentjax_vae2d_")
metrics = training.train_and_evaluate(config, workdir)
run = training.load_run(workdir)
print(f"test ELBO {metrics['elbo_nats']:.2f} nats, IWAE-{metrics['iwae_num_samples']} "
      f"{metrics['iwae_nats']:.2f} nats ({metrics['num_examples']} test digits)")
"""),
    ("md", r"""
## 2. The test digits in the latent plane

`explore.encode_split` encodes the test split (posterior means). With a 2-D latent
space no projection is needed.
"""),
    ("code", r"""
codes = explore.encode_split(run, num_examples=settings.num_examples)
z, y = codes.codes, codes.labels
decoder = run.decoder_fn()      # z [2] -> image [8, 8, 1]; what every latent op takes
viz.latent_scatter(z, y, method="none", title="test digits, posterior means")
"""),
    ("md", r"""
## 3. The pull-back metric at one code

`lo.pullback_metric(decoder, z)` is $J^\top J$ for the flattened decoder output. Its
eigenvectors are the latent directions that change the image fastest and slowest;
`lo.magnification_factor` is $\sqrt{\det G}$ (computed from a QR factorisation of $J$).
"""),
    ("code", r"""
z0 = jnp.asarray(z[0])
G = lo.pullback_metric(decoder, z0)
eigvals, eigvecs = jnp.linalg.eigh(G)
print("G(z0) =\n", np.round(np.asarray(G), 3))
print("eigenvalues:", np.round(np.asarray(eigvals), 3))
print("sqrt(det G) =", float(jnp.sqrt(jnp.linalg.det(G))),
      " magnification_factor =", float(lo.magnification_factor(decoder, z0)))
# Moving along the top eigenvector changes the image most per unit of latent step:
fast, slow = eigvecs[:, 1], eigvecs[:, 0]
steps = jnp.linspace(-1.0, 1.0, 7)[:, None]
show(viz.traversal_grid(np.stack([jax.vmap(decoder)(z0 + steps * fast),
                                  jax.vmap(decoder)(z0 + steps * slow)]),
                        ["fastest direction", "slowest direction"], np.linspace(-1, 1, 7)))
"""),
    ("md", r"""
## 4. The magnification factor over the plane

`explore.magnification_grid` evaluates `lo.magnification_factor` on a grid covering the
codes; `viz.magnification_heatmap` draws it on a log colour scale with the codes on top.
"""),
    ("code", r"""
extent = explore.latent_extent(z)
mf = explore.magnification_grid(decoder, extent, settings.grid_size)
print(f"magnification factor over {extent}: min {mf.min():.3g}, median {np.median(mf):.3g}, "
      f"max {mf.max():.3g}")
viz.magnification_heatmap(mf, extent, points=z, labels=y, title="magnification factor")
"""),
    ("md", r"""
## 5. A geodesic against the straight line

`lo.solve_geodesic` minimises the curve energy between fixed endpoints and returns the
curve with diagnostics; `lo.geodesic` returns only the curve. Lengths are compared on
the *continuous* decoded path: `lo.curve_length(..., subdivisions=k)` splits every
segment into `k` latent pieces. The geodesic is never longer than the straight line.
"""),
    ("code", r"""
start, end = explore.choose_distant_pairs(z, y, 1, seed=settings.seed)  # far apart
za, zb = jnp.asarray(z[start[0]]), jnp.asarray(z[end[0]])
line = lo.interpolate(za, zb, settings.geodesic_points)
result = lo.solve_geodesic(decoder, za, zb, num_points=settings.geodesic_points,
                           num_steps=settings.geodesic_steps)
sub = 16
length_line = float(lo.curve_length(decoder, line, subdivisions=sub))
length_geo = float(lo.curve_length(decoder, result.curve, subdivisions=sub))
print(f"from a {y[start[0]]} to a {y[end[0]]}:")
print(f"  straight line: decoded length {length_line:.3f}, "
      f"energy {float(lo.curve_energy(decoder, line)):.3f}")
print(f"  geodesic:      decoded length {length_geo:.3f}, "
      f"energy {float(lo.curve_energy(decoder, result.curve)):.3f} "
      f"({int(result.num_steps)} steps, converged: {bool(result.converged)})")
print(f"  geodesic / straight = {length_geo / length_line:.3f}")
"""),
    ("md", r"""
How the optimisation went: `length_history` holds the square root of the minimised
energy before each step (the decoded length once the decoded speed is constant).
"""),
    ("code", r"""
history = np.asarray(result.length_history)
viz.loss_curves({"decoded length": history[: int(result.num_steps) + 1]},
                title="geodesic optimisation", figsize=(5, 3))
"""),
    ("code", r"""
frames = {
    "straight": jax.vmap(decoder)(lo.interpolate(za, zb, settings.num_frames)),
    "geodesic": jax.vmap(decoder)(lo.resample_curve(result.curve, settings.num_frames)),
}
show(viz.interpolation_strips(frames, {"straight": length_line, "geodesic": length_geo}))
"""),
    ("md", r"""
## 6. Several geodesics on the heat map

A batch of endpoint pairs is solved in one compiled call. Geodesics (solid) avoid the
bright ridges that straight lines (dashed) cross: crossing a ridge means passing
through images that are neither digit.
"""),
    ("code", r"""
starts, ends = explore.choose_distant_pairs(z, y, settings.num_geodesics, seed=settings.seed + 1)
paths = explore.interpolation_paths(decoder, z[starts], z[ends],
                                    num_points=settings.geodesic_points,
                                    geodesic_steps=settings.geodesic_steps,
                                    methods=("linear", "geodesic"))
lengths = explore.decoded_lengths(decoder, paths, z[starts], z[ends],
                                  resolution=settings.length_resolution)
for p, (i, j) in enumerate(zip(starts, ends)):
  print(f"{y[i]} -> {y[j]}: straight {lengths['linear'][p]:.3f}, "
        f"geodesic {lengths['geodesic'][p]:.3f}")
curves = {f"{y[i]} → {y[j]}": paths["geodesic"][p] for p, (i, j) in enumerate(zip(starts, ends))}
viz.magnification_heatmap(mf, extent, curves=curves, points=z, labels=y)
"""),
    ("md", r"""
## 7. Where the data is: the expected metric of a Gaussian decoder

The decoder mean saturates away from the data, so the mean-only metric is *small* in
regions the model has never seen, and geodesics may cut through them. Arvanitidis et al.
make the decoder stochastic, $x = \mu(z) + \sigma(z)\,\varepsilon$, with a variance that
is small near the training codes and grows away from them; the metric becomes the
**expected metric** $\bar G(z) = J_\mu^\top J_\mu + J_\sigma^\top J_\sigma$, large where
$\sigma$ changes, at the edges of the data.

`training.fit_decoder_variance` fits the RBF precision network of the paper to the
training codes and residuals and saves it with the run (`python -m
experiments.fit_variance --workdir=...` does the same); `run.gaussian_decoder_fn()` is
then the decoder `z -> (mean, std)`. Every latent op counts both outputs, so
`lo.magnification_factor`, `lo.geodesic`, `lo.curve_length`, ... work in the expected
metric without a second solver; `lo.expected_metric(decoder, z)` is $\bar G$ itself.
"""),
    ("code", r"""
variance = training.fit_decoder_variance(run, num_centers=32 if SMALL else 64)
gdecoder = training.load_run(workdir).gaussian_decoder_fn()   # z -> (mean, std)
mean, std = gdecoder(z0)
print(f"std at a test code: {float(std.mean()):.3f}; far away: "
      f"{float(gdecoder(z0 + 20.0)[1].mean()):.3f}")
print("expected metric at z0:\n", np.round(np.asarray(lo.expected_metric(gdecoder, z0)), 3))
mf_expected = explore.magnification_grid(gdecoder, extent, settings.grid_size)
data = jnp.asarray(z)
geo_mean = lo.geodesic_from_graph(decoder, jnp.asarray(z[starts]), jnp.asarray(z[ends]), data,
                                  num_points=settings.geodesic_points,
                                  num_steps=settings.geodesic_steps)
geo_exp = lo.geodesic_from_graph(gdecoder, jnp.asarray(z[starts]), jnp.asarray(z[ends]), data,
                                 num_points=settings.geodesic_points,
                                 num_steps=settings.geodesic_steps)
names = [f"{y[i]} → {y[j]}" for i, j in zip(starts, ends)]
viz.magnification_comparison(
    {"mean-only metric": (mf, dict(zip(names, np.asarray(geo_mean)))),
     "expected metric": (mf_expected, dict(zip(names, np.asarray(geo_exp))))},
    extent, points=z, labels=y)
"""),
    ("md", r"""
The expected metric is bright in a band around the codes and in the gaps between
classes; its geodesics stay among the codes. Do distances that follow the data group
the digits better? `lo.graph_distance_matrix` gives geodesic distances between all codes
(shortest paths in their k-NN graph, each edge's decoded length), `lo.kmedoids` clusters
from any distance, and `metrics.distance_scores` scores clusters (ARI, NMI) and
leave-one-out 5-NN accuracy against the labels, beside Euclidean k-means.
"""),
    ("code", r"""
from latentjax import metrics as lm   # `metrics` above holds the run's figures

n = min(300, len(z))
dist = {"euclidean": lm.euclidean_distances(z[:n]),
        "mean metric": lo.graph_distance_matrix(decoder, data[:n], k=10),
        "expected metric": lo.graph_distance_matrix(gdecoder, data[:n], k=10)}
rows = lm.distance_scores(jax.random.PRNGKey(0), dist, y[:n], codes=z[:n])
for r in rows:
  print(f"{r['distance']:<16} {r['clustering']:<10} ARI {r['ari']:.3f}  NMI {r['nmi']:.3f}  "
        f"5-NN accuracy {r['knn_accuracy']:.3f}")
"""),
    ("md", r"""
## 8. Explore it yourself

Pick two codes (sliders or *random pair*), press *decode paths* to see the linear,
spherical and geodesic paths drawn on the plane and decoded, with their lengths; slide
code A along the metric's principal directions below. The widget's callbacks are the
plain functions `explore.path_view`, `explore.slide_view`, ... (see
`latentjax/explore/_explorer.py`).
"""),
    ("code", r"""
data = explore.explorer_data(decoder, codes)
explorer = explore.LatentExplorer(data, num_frames=settings.num_frames,
                                  num_points=settings.geodesic_points,
                                  geodesic_steps=settings.geodesic_steps,
                                  resolution=settings.length_resolution)
explorer.random_pair()
view = explorer.decode_paths()
print({m: round(v, 3) for m, v in view.lengths.items()})
explorer
"""),
]
