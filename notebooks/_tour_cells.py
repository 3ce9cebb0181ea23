"""Cells of 01_latent_space_tour.ipynb: encode, scatter, interpolate, arithmetic, traverse."""

TOUR = [
    ("md", r"""
# A tour of a VAE's latent space

Train a small VAE on the built-in `digits` (scikit-learn's 8x8 handwritten digits, no
download), then look at its 16-D latent space the ways the exploration report does:

1. encode the test split and scatter it, with k-means clusters and how well they match
   the labels;
2. interpolate between two digits: linearly, spherically, and along the geodesic of the
   decoder's metric, comparing decoded path lengths;
3. latent arithmetic: class attribute vectors and analogies $c + (b - a)$;
4. traversals along principal directions, a supervised direction and single dimensions;
5. an interactive explorer linking the scatter to the decoder;
6. the whole HTML report in one call.

Everything latent is `latentjax.latent_ops` (any decoder `z -> x`), everything drawn is
`latentjax.viz`, and the glue is `latentjax.explore`, the same code as
`python -m experiments.explore`.
"""),
    ("code", "SETUP"),
    ("code", "IMPORTS"),
    ("md", r"""
## 1. Train a VAE

`configs/vae_digits.py`: MLP encoder and decoder, 16-D latent, Bernoulli likelihood.
There are no pretrained weights: the run trains here into a temporary folder (about a
minute on a CPU at full settings, seconds under `LATENTJAX_SMALL=1`).
"""),
    ("code", r"""
from configs import vae_digits

config = vae_digits.get_config("smoke" if SMALL else None)
config.train.num_steps = 600 if SMALL else 5000
config.data.batch_size = 64 if SMALL else 128
config.train.progress_bar = not SMALL
if SMALL:  # the smoke config logs and checkpoints every 4 steps: fewer is quicker
  config.train.log_every_steps, config.train.checkpoint_every_steps = 10, config.train.num_steps
workdir = tempfile.mkdtemp(prefix="latentjax_tour_")
metrics = training.train_and_evaluate(config, workdir)
run = training.load_run(workdir)
print(f"test ELBO {metrics['elbo_nats']:.2f} nats, IWAE-{metrics['iwae_num_samples']} "
      f"{metrics['iwae_nats']:.2f} nats; latent dimension {run.latent_dim}")
viz.loss_curves(explore.training_history(workdir), smoothing=0.6)
"""),
    ("md", r"""
## 2. Encode the test split

`explore.encode_split` returns the inputs, labels and codes (posterior means) of a split.
`run.decoder_fn()` is a pure JAX function `z -> image`, which is what every latent op
takes.
"""),
    ("code", r"""
codes = explore.encode_split(run, num_examples=settings.num_examples)
z, y, x = codes.codes, codes.labels, codes.inputs
decoder = run.decoder_fn()
decode = explore.jitted_decoder(decoder)          # numpy in, numpy images out, batched
print(f"{codes.num_examples} test digits -> codes of shape {z.shape}")
show(viz.reconstruction_pairs(x[:12], decode(z[:12])))
"""),
    ("md", r"""
## 3. Scatter and clusters

k-means (`lo.kmeans`) with one cluster per digit class, scored against the labels: the
adjusted Rand index and normalized mutual information (1 = the clusters are the classes,
0 = chance), silhouettes, and the leave-one-out 5-nearest-neighbour accuracy.
"""),
    ("code", r"""
clusters = explore.cluster_codes(jax.random.PRNGKey(0), z, y, num_clusters=10,
                                 num_iters=settings.kmeans_iters)
for name, value in clusters.scores.items():
  print(f"{name:55s} {value:.3f}")
kw = dict(centroids=clusters.centroids, assignments=clusters.assignments)
display(viz.latent_scatter(z, y, method="pca", **kw))
# The exact t-SNE gradient is quick for a few hundred codes (Barnes-Hut pays off above
# a few thousand).
viz.latent_scatter(z, y, method="tsne", tsne_max_iter=settings.tsne_max_iter,
                   tsne_kwargs={"method": "exact"}, **kw)
"""),
    ("md", r"""
## 4. Interpolations: linear, spherical, geodesic

`lo.interpolate(z0, z1, n, method=...)` gives straight and spherical paths;
`lo.geodesic(decoder, z0, z1)` the shortest decoded path. Lengths are decoded lengths
(`lo.curve_length`) of the finely resampled paths: the geodesic is the shortest.
"""),
    ("code", r"""
starts, ends = explore.choose_pairs(y, 2, seed=settings.seed)
z0, z1 = z[starts], z[ends]
paths = {
    "linear": lo.interpolate(z0, z1, settings.geodesic_points),
    "slerp": lo.interpolate(z0, z1, settings.geodesic_points, method="slerp"),
    "geodesic": lo.geodesic(decoder, z0, z1, num_points=settings.geodesic_points,
                            num_steps=settings.geodesic_steps),
}
lengths = explore.decoded_lengths(decoder, paths, z0, z1,
                                  resolution=settings.length_resolution)
frames = explore.path_frames(paths, z0, z1, settings.num_frames)
for p in range(len(starts)):
  show(viz.interpolation_strips(
      {m: decode(f[p]) for m, f in frames.items()}, {m: l[p] for m, l in lengths.items()},
      title=f"a {y[starts[p]]} -> a {y[ends[p]]}"))
"""),
    ("md", r"""
An animation of the first pair (the GIF is written to the run folder):
"""),
    ("code", r"""
gif_frames = explore.path_frames({m: p[:1] for m, p in paths.items()}, z0[:1], z1[:1],
                                 settings.gif_frames)
movie = np.stack([viz.labelled_grid(np.stack([decode(f[0])[t] for f in gif_frames.values()])[None],
                                    col_labels=list(gif_frames))
                  for t in range(settings.gif_frames)])
gif = viz.save_gif(movie, f"{workdir}/interpolation.gif", fps=8, boomerang=True)
from IPython.display import Image as GifImage
GifImage(filename=str(gif))
"""),
    ("md", r"""
## 5. Arithmetic: attribute vectors and analogies

The attribute vector of a class, `lo.attribute_vector(z, y == k)`, is the mean code of
the class minus the mean of the rest. Adding multiples of it to another digit's code
pulls it towards that class. An analogy `lo.analogy(a, b, c) = c + (b - a)` with class
means `a`, `b` and a test digit `c` should keep `c`'s style and take `b`'s class.
"""),
    ("code", r"""
v7 = lo.attribute_vector(jnp.asarray(z), jnp.asarray(y == 7))
source = int(np.flatnonzero(y == 1)[0])
scales = np.asarray(settings.attribute_scales)
moved = lo.move_along(jnp.tile(z[source], (len(scales), 1)), v7, jnp.asarray(scales),
                      normalize=False)                # z + s * v7, one row per scale
show(viz.traversal_grid(decode(moved)[None], ["a 1 + s·v(7)"], scales, value_fmt="s = {:g}"))

a, b, c, result, names, _ = explore.class_analogies(z, y, num=settings.num_analogies,
                                                   seed=settings.seed)
show(viz.arithmetic_panel(decode(a), decode(b), decode(c), decode(result), row_labels=names,
                          captions=("a: class mean", "b: class mean", "c: test digit",
                                    "c + (b − a)")))
"""),
    ("md", r"""
## 6. Traversals

Move one code along a direction and decode every step: principal directions of the
test codes (`lo.pca_directions`), a supervised direction (a linear classifier's normal
between two classes), and single latent dimensions (most active first; a VAE switches
off dimensions it does not need).
"""),
    ("code", r"""
pca, explained = explore.pca_traversal(z, num=settings.num_pca, steps=settings.traversal_steps,
                                       sigmas=settings.traversal_sigmas)
show(viz.traversal_grid(decode(pca.codes), pca.row_labels, pca.values, value_fmt=pca.value_fmt))

train_codes = explore.encode_split(run, split=run.exp.train_split,
                                   num_examples=settings.num_examples)
sup = explore.supervised_traversal(train_codes, codes, positive=7, negative=1,
                                   steps=settings.traversal_steps)  # in units of the 1-7 gap
print(f"1 -> 7 direction: training accuracy {sup.train_accuracy:.3f}, "
      f"held-out accuracy {sup.accuracy:.3f}")
show(viz.traversal_grid(decode(sup.traversal.codes), sup.traversal.row_labels,
                        sup.traversal.values, value_fmt=sup.traversal.value_fmt))

dims = explore.dimension_traversal(z, num=settings.num_dims, steps=settings.traversal_steps,
                                   sigmas=settings.traversal_sigmas, prior=True)
show(viz.traversal_grid(decode(dims.codes), dims.row_labels, dims.values,
                        value_fmt=dims.value_fmt))
"""),
    ("md", r"""
## 7. The interactive explorer

The scatter (PCA of the codes) is linked to the decoder: pick codes A and B with the
sliders or *random pair*, press *decode paths* to draw the three paths on the scatter and
see them decoded with their lengths; below, slide A along a direction (principal
directions, the supervised 1 → 7 direction, class attribute vectors) and watch the
decoded image change. In Colab the setup cell enabled the widget manager.
"""),
    ("code", r"""
top = lo.pca(jnp.asarray(z), 2)                  # directions [2, D], explained_variance [2]
directions = {f"PC{k + 1}": (top.directions[k], float(jnp.sqrt(top.explained_variance[k])))
              for k in range(2)}
directions["1 → 7 (supervised)"] = (sup.direction, sup.scale)
directions["attribute v(7)"] = (np.asarray(v7), float(jnp.linalg.norm(v7)))
data = explore.explorer_data(decoder, codes, directions=directions)
explorer = explore.LatentExplorer(data, num_frames=settings.num_frames,
                                  num_points=settings.geodesic_points,
                                  geodesic_steps=settings.geodesic_steps,
                                  resolution=settings.length_resolution)
explorer.random_pair()
view = explorer.decode_paths()
explorer.slide("attribute v(7)", 1.0)
print({m: round(v, 3) for m, v in view.lengths.items()})
explorer
"""),
    ("md", r"""
## 8. The whole report

`explore.build_report` writes the same analysis as one HTML page (it is what
`python -m experiments.explore --workdir=...` runs). Open the printed path in a browser.
"""),
    ("code", r"""
report = explore.build_report(workdir, settings=settings)
print(report)
"""),
]
