"""Cells of 04_diffusion.ipynb: a class-conditional DDPM on digits and its noise latents."""

DIFFUSION = [
    ("md", r"""
# Diffusion: guidance, denoising, DDIM inversion and noise-space interpolation

A denoising diffusion model (Ho et al., 2020) learns to predict the noise added to an
image at a random noise level t. Sampling runs that prediction backwards from pure noise
x_T; with the deterministic DDIM sampler (Song et al., 2021) each noise image gives one
image, so the noise **is** a latent code, and running DDIM backwards (*inversion*) finds
the code of a real image. This notebook trains a small class-conditional DDPM on the
built-in 8x8 `digits` with the same loop as every other model (`training.train`), then:

1. samples each class at several classifier-free guidance weights;
2. watches samples emerge along the DDIM chain (`diffusion.ddim_trajectory`);
3. inverts real test digits to their noise and regenerates them;
4. interpolates between two real digits through their noise.

Everything here is also in the report: `python -m experiments.explore --workdir=<run>`.
"""),
    ("code", "SETUP"),
    ("code", "IMPORTS"),
    ("md", r"""
## 1. Train a conditional DDPM

`configs/cddpm_digits.py`: a U-Net with a label embedding, ε-prediction on a 1000-step
linear schedule; in training the label is replaced by a null label with probability
0.1, so one network learns both the conditional and the unconditional model. Under
`LATENTJAX_SMALL=1` the U-Net is tiny, training is short and DDIM takes 4 steps, so the
samples are blobs; at full settings (6,000 steps, 50 DDIM steps) they are digits.
"""),
    ("code", r"""
from configs import cddpm_digits
from latentjax import diffusion

config = cddpm_digits.get_config("smoke" if SMALL else None)
config.train.num_steps = 60 if SMALL else 6000
config.train.progress_bar = not SMALL
if SMALL:  # the smoke config logs and checkpoints every 4 steps: fewer is quicker
  config.train.log_every_steps, config.train.checkpoint_every_steps = 10, config.train.num_steps
workdir = tempfile.mkdtemp(prefix="latentjax_cddpm_")
training.train(config, workdir)
run = training.load_run(workdir)
steps = config.eval.sampling_steps
print(f"trained {run.step} steps; latent = the {run.latent_dim}-pixel noise image; "
      f"DDIM with {steps} steps")
viz.loss_curves(explore.training_history(workdir), metrics=["train/loss"], smoothing=0.6)
"""),
    ("md", r"""
## 2. Classifier-free guidance

The network is `eps(x_t, t, label)`; the label `10` (the number of classes) means "no
label". Guidance (Ho & Salimans, 2021) extrapolates away from the unconditional
prediction: `eps = (1 + w) eps(x, c) - w eps(x)`. `diffusion.guided_eps_fn` builds that
model, `diffusion.bind_labels` fixes the labels, and `diffusion.ddim_sample` runs DDIM.
The same noise in every grid: one row per class, w grows to the right.
"""),
    ("code", r"""
schedule = diffusion.linear_schedule(config.objective.num_timesteps)
net, params = run.exp.model, run.params


def eps_cond(x_t, t, labels):
  return net.apply({"params": params}, x_t, t, labels, train=False)


def to_images(x):  # the model works in [-1, 1]
  return np.clip(0.5 * (np.asarray(x) + 1.0), 0.0, 1.0)


classes, per_class = 10, 6
noise = jax.random.normal(jax.random.PRNGKey(0), (per_class, 8, 8, 1))
x_T = jnp.tile(noise, (classes, 1, 1, 1))
labels = jnp.repeat(jnp.arange(classes), per_class)
grids = []
for w in (0.0, 1.0, 3.0):
  eps_fn = diffusion.bind_labels(diffusion.guided_eps_fn(eps_cond, w, null_label=classes),
                                 labels)
  x = to_images(diffusion.ddim_sample(schedule, eps_fn, x_T, steps))
  grids.append(x.reshape(classes, per_class, 8, 8, 1))
  spread = x.reshape(classes, per_class, -1).std(axis=1).mean()
  print(f"w = {w:g}: per-pixel std within a class {spread:.3f}")
show(viz.labelled_grid(np.concatenate(grids, axis=1), row_labels=[str(k) for k in range(classes)],
                       col_labels=[f"w={w:g}" if i % per_class == 0 else ""
                                   for w in (0, 1, 3) for i in range(per_class)],
                       col_gaps=[per_class, 2 * per_class]))
"""),
    ("md", r"""
## 3. The denoising trajectory

`diffusion.ddim_trajectory` runs the same chain as `ddim_sample` and returns every state,
noise first: `states[k]` is `x_t` at the k-th point of `diffusion.timesteps(T, steps)`.
"""),
    ("code", r"""
guided = diffusion.guided_eps_fn(eps_cond, config.eval.guidance_scale, null_label=classes)
few = jnp.arange(4)
states = diffusion.ddim_trajectory(schedule, diffusion.bind_labels(guided, few), noise[:4], steps)
grid = diffusion.timesteps(config.objective.num_timesteps, steps)
cols = np.unique(np.linspace(0, steps - 1, min(8, steps)).round().astype(int))
show(viz.denoising_trajectory(np.asarray(states)[cols], grid[cols], value_range=(-1, 1),
                              row_labels=[f"class {k}" for k in range(4)]))
"""),
    ("md", r"""
## 4. DDIM inversion of real digits

`run.encode(x, y)` is DDIM inversion: the deterministic update run forwards in t, on the
sampler's own grid, from each test digit to its noise; `run.decode(z, y)` samples that
noise again. The round trip is exact only in the limit of many small steps (it assumes
the noise prediction constant over a step), so the error shrinks with more steps.
"""),
    ("code", r"""
x, y, _ = explore.load_split(run, num_examples=6)
z = np.asarray(run.encode(jnp.asarray(x), jnp.asarray(y, jnp.int32)))
recon = np.asarray(run.decode(jnp.asarray(z), jnp.asarray(y, jnp.int32)))
print("reconstruction MSE per digit:", np.round(np.mean((recon - x) ** 2, axis=(1, 2, 3)), 4))
print("‖z‖ / sqrt(D) (Gaussian noise: about 1):",
      np.round(np.linalg.norm(z, axis=1) / np.sqrt(run.latent_dim), 2))
show(viz.inversion_triples(x, z.reshape(x.shape), recon))
"""),
    ("md", r"""
## 5. Interpolating between two real digits through their noise

Inverted noise has the norm of Gaussian noise, about sqrt(D). The straight line between
two such codes passes through codes of smaller norm, which the model never saw as x_T;
spherical interpolation (`slerp`) stays on the shell. Both paths are decoded with the
first digit's label.
"""),
    ("code", r"""
i, j = 0, int(np.flatnonzero(y != y[0])[0])
decode = explore.jitted_decoder(run.decoder_fn(int(y[i])))
strips = {method: decode(lo.interpolate(jnp.asarray(z[i]), jnp.asarray(z[j]),
                                        settings.num_frames, method=method))
          for method in ("linear", "slerp")}
path = lo.interpolate(jnp.asarray(z[i]), jnp.asarray(z[j]), 5)
print("norms along the straight line / sqrt(D):",
      np.round(np.linalg.norm(path, axis=1) / np.sqrt(run.latent_dim), 2))
show(viz.interpolation_strips(strips, title=f"a {y[i]} → a {y[j]}, through their noise"))
"""),
    ("md", r"""
## 6. Latent diffusion, and the report

A diffusion model can also learn the codes of a trained autoencoder instead of pixels
(latent diffusion, Rombach et al., 2022): `configs/ldm_digits.py` trains an MLP
denoiser on the 16-D codes of a VAE run (`--config.model.latent_run=runs/vae`), and its
samples pass through the VAE's decoder; `run.encode` / `run.decode` work the same way.

`explore.build_report(workdir)` (or `python -m experiments.explore --workdir=<run>`)
writes all of the above for a trained run: guidance grids, denoising trajectories, DDIM
inversion with its error against the number of steps, interpolations and traversals of
inverted noise. No geodesics: decoding is a whole sampling chain.
"""),
]
