"""Cells of 03_gans.ipynb: mode coverage on a ring, then a DCGAN's latent space."""

GANS = [
    ("md", r"""
# GANs: mode coverage, samples, inversion and directions

A GAN's generator maps codes z ~ N(0, I) to data, and nothing maps data back: there is
no encoder. This notebook trains two small GANs with the same loop as every other
model (`training.train_and_evaluate`) and looks at them:

1. `gan_ring8`: a GAN on eight Gaussians on a circle, where we know the modes, so
   mode collapse can be counted (`metrics.mode_coverage`);
2. `dcgan_digits`: a DCGAN on the built-in 8x8 `digits`: samples, linear and spherical
   interpolation in z, a SeFa direction of the generator's first layer, and a real test
   digit inverted into z (`lo.invert`) and edited along that direction.

Everything here is also in the report: `python -m experiments.explore --workdir=<run>`.
"""),
    ("code", "SETUP"),
    ("code", "IMPORTS"),
    ("md", r"""
## 1. Mode coverage on a ring of Gaussians

`configs/gan_ring8.py`: MLP generator and discriminator, hinge loss with an R1 penalty,
EMA of the generator. A sample is *high quality* within 3 standard deviations of a
mode centre; a mode is *covered* when at least one high-quality sample is nearest to it.
Under `LATENTJAX_SMALL=1` the networks are tiny and training is short, so expect
poor coverage; at full settings (5,000 steps, about a minute on a CPU) all 8 modes are
covered.
"""),
    ("code", r"""
from configs import gan_ring8
from latentjax import data, metrics

config = gan_ring8.get_config("smoke" if SMALL else None)
config.train.num_steps = 300 if SMALL else 5000
config.train.progress_bar = not SMALL
if SMALL:  # the smoke config logs and checkpoints every 4 steps: fewer is quicker
  config.train.log_every_steps, config.train.checkpoint_every_steps = 10, config.train.num_steps
ring_dir = tempfile.mkdtemp(prefix="latentjax_ring8_")
ring_metrics = training.train_and_evaluate(config, ring_dir)
ring = training.load_run(ring_dir)
print(f"{ring_metrics['modes_covered']} of {ring_metrics['num_modes']} modes covered, "
      f"{100 * ring_metrics['high_quality_fraction']:.1f}% high-quality samples")

points = np.asarray(ring.sample(jax.random.PRNGKey(0), 2000))
modes, std = data.toy2d_modes("ring8"), data.toy2d_stddev("ring8")
per_mode = metrics.mode_histogram(points, modes, std)
print("high-quality samples per mode:", per_mode.tolist())
fig = viz.new_figure((4.5, 4.5))
ax = fig.add_subplot(1, 1, 1)
ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, label="samples")
ax.scatter(modes[:, 0], modes[:, 1], marker="x", c="k", label="mode centres")
ax.set_aspect("equal")
ax.legend(fontsize=7)
fig
"""),
    ("md", r"""
## 2. A DCGAN on digits

`configs/dcgan_digits.py`: a Dense layer to a 2x2 feature map, then transposed
convolutions up to 8x8; a spectrally normalised convolutional discriminator. The
curves are the discriminator's and the generator's losses.
"""),
    ("code", r"""
from configs import dcgan_digits

config = dcgan_digits.get_config("smoke" if SMALL else None)
config.train.num_steps = 300 if SMALL else 5000
config.train.progress_bar = not SMALL
if SMALL:  # the smoke config logs and checkpoints every 4 steps: fewer is quicker
  config.train.log_every_steps, config.train.checkpoint_every_steps = 10, config.train.num_steps
workdir = tempfile.mkdtemp(prefix="latentjax_dcgan_")
training.train_and_evaluate(config, workdir)
run = training.load_run(workdir)
history = explore.training_history(workdir)
viz.loss_curves(history, metrics=["train/d_loss", "train/g_loss"], smoothing=0.6)
"""),
    ("md", r"""
## 3. Samples and interpolations in z

`run.decoder_fn()` is the (EMA) generator as a pure function `z -> image`, the form
every latent op takes. Codes of N(0, I) in D dimensions lie near the sphere of radius
sqrt(D); the straight line between two of them dips towards the origin, where the
generator saw no codes, so GAN papers often interpolate spherically (`slerp`).
"""),
    ("code", r"""
generator = run.decoder_fn()
decode = explore.jitted_decoder(generator)
key_samples, key_pairs = jax.random.split(jax.random.PRNGKey(1))
show(viz.image_grid(decode(run.sample_codes(key_samples, 32)), ncols=8))

z = run.sample_codes(key_pairs, 2)
strips = {method: decode(lo.interpolate(z[0], z[1], settings.num_frames, method=method))
          for method in ("linear", "slerp")}
print("norms along the straight line / sqrt(D):",
      np.round(np.linalg.norm(lo.interpolate(z[0], z[1], 5), axis=1) / np.sqrt(run.latent_dim), 2))
show(viz.interpolation_strips(strips))
"""),
    ("md", r"""
## 4. A SeFa direction

SeFa (Shen & Zhou, 2021) finds, in closed form, the unit directions of z that change
the generator's first layer the most: the top eigenvectors of `A Aᵀ` for its Dense
kernel `A`. `explore.first_layer_kernel(run)` picks the rows of that kernel that
multiply z; `lo.sefa_directions` does the rest.
"""),
    ("code", r"""
kernel = explore.first_layer_kernel(run)
directions = lo.sefa_directions(jnp.asarray(kernel), 2)
base = run.sample_codes(jax.random.PRNGKey(2), 1)[0]
sefa = explore.sefa_traversal(kernel, num=2, steps=settings.traversal_steps,
                              sigmas=settings.traversal_sigmas, base=base)
pictures = decode(sefa.codes)
show(viz.traversal_grid(pictures, sefa.row_labels, sefa.values, value_fmt=sefa.value_fmt))
"""),
    ("md", r"""
## 5. Invert a real digit, then edit it

`lo.invert(generator, images, key, latent_dim=D)` looks for the code whose image is
closest to each target (Adam on the mean squared error, from random starts; the best
start wins). Moving that code along the SeFa direction edits the real digit.
"""),
    ("code", r"""
x, y, _ = explore.load_split(run, num_examples=4)
found = lo.invert(generator, jnp.asarray(x), jax.random.PRNGKey(3), latent_dim=run.latent_dim,
                  num_steps=settings.inversion_steps, num_restarts=settings.inversion_restarts)
print("reconstruction MSE per test digit:", np.round(np.asarray(found.errors), 4))
show(viz.reconstruction_pairs(x, decode(found.codes),
                              labels=("test digit", "generator(inverted code)")))

values = np.linspace(-settings.traversal_sigmas, settings.traversal_sigmas,
                     settings.traversal_steps)
edited = lo.traverse(found.codes[0], directions[0], jnp.asarray(values))
show(viz.traversal_grid(decode(edited)[None], [f"a {y[0]} along SeFa 1"], values,
                        value_fmt="{:+.2g}σ"))
"""),
    ("md", r"""
## 6. The report

`explore.build_report(workdir)` writes `report.html` with all of the above and more
(principal directions of the inverted codes, the hybrid inversion that starts from an
inverse encoder, geodesics between random codes); from a shell:
`python -m experiments.explore --workdir=<run folder>`.
"""),
]
