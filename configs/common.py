"""The full set of config keys, with defaults that the experiment files override.

Every knob the library reads is declared here; the library itself has no hidden
defaults. Experiment files call ``base_config()`` and change what they need, and
``smoke(config)`` shrinks a config so the test suite can run it end to end.
"""

import ml_collections


def base_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.seed = 0

  c.data = ml_collections.ConfigDict()
  c.data.name = "digits"
  c.data.data_dir = ""  # "": TFDS default ($TFDS_DATA_DIR or ~/tensorflow_datasets)
  c.data.download = True
  c.data.batch_size = 128  # global batch
  c.data.eval_batch_size = 256
  c.data.shuffle_buffer_size = 0  # 0: whole split if it fits in ~512 MiB, else a window that does
  c.data.train_split = ""  # "": the dataset's train split
  c.data.eval_split = ""  # "": the dataset's test split

  c.model = ml_collections.ConfigDict()
  # ae | vae | cvae | gan | cgan | diffusion | cdiffusion | noise_encoder | classifier
  c.model.family = "vae"
  c.model.architecture = "mlp"  # mlp | conv
  c.model.latent_dim = 16  # GANs: the noise dimension; classifier: the feature width
  c.model.hidden_dims = (512, 256)  # GAN: the MLP generator's hidden widths
  c.model.channels = (32, 64)  # GAN: DCGAN generator, base feature map then each up-sampling
  c.model.conv_impl = "auto"  # auto (fast on CPU, XLA's on GPU/TPU) | xla | fast
  # GANs only: the discriminator (MLP widths / DCGAN channels per stride-2 convolution),
  # spectral normalisation of its layers, BatchNorm in the DCGAN discriminator.
  c.model.d_hidden_dims = (128, 128)
  c.model.d_channels = (32, 64)
  c.model.spectral_norm = False
  c.model.d_batch_norm = False
  # Diffusion only: the U-Net (base channels, multiplier per level, residual blocks per
  # level, resolutions with self-attention, dropout, GroupNorm groups; also the U-Net of
  # noise_encoder); latent diffusion: the ae / vae run folder whose codes are modelled
  # ("" = model the data itself); noise_encoder: the diffusion run whose noise it learns.
  c.model.unet_channels = 32
  c.model.unet_mult = (1, 2)
  c.model.num_res_blocks = 1
  c.model.attn_resolutions = ()
  c.model.dropout = 0.0
  c.model.norm_groups = 32
  c.model.latent_run = ""

  c.objective = ml_collections.ConfigDict()
  # bernoulli | continuous_bernoulli | gaussian. A Bernoulli is a normalised density only
  # for binary data: with binarize=True each [0, 1] input is resampled as a binary image
  # every step (dynamic binarisation), and evaluation bounds log p(x) of binarised images.
  c.objective.likelihood = "bernoulli"
  c.objective.gaussian_scale = 1.0
  c.objective.beta = 1.0
  c.objective.binarize = False
  # GANs only: non_saturating | hinge | wasserstein; discriminator updates per generator
  # update (each on its own n_critic-th of the batch); WGAN-GP and R1 penalty weights
  # (R1 is added as r1_weight / 2 * E ||grad D(x)||^2).
  c.objective.gan_loss = "non_saturating"
  c.objective.n_critic = 1
  c.objective.gp_weight = 0.0
  c.objective.r1_weight = 0.0
  # Diffusion only: T, the noise schedule (linear | cosine), what the network predicts
  # (eps | v), and for conditional models the probability of the null label in training.
  c.objective.num_timesteps = 1000
  c.objective.noise_schedule = "linear"
  c.objective.prediction = "eps"
  c.objective.p_uncond = 0.1

  c.optim = ml_collections.ConfigDict()
  c.optim.name = "adam"  # adam | adamw | sgd
  c.optim.learning_rate = 1e-3  # GANs: the generator's
  c.optim.d_learning_rate = 0.0  # GANs: the discriminator's; 0: optim.learning_rate
  c.optim.b1 = 0.9
  c.optim.b2 = 0.999
  c.optim.weight_decay = 0.0
  c.optim.grad_clip_norm = 0.0  # 0: off
  c.optim.warmup_steps = 0
  c.optim.schedule = "constant"  # constant | cosine

  c.train = ml_collections.ConfigDict()
  c.train.num_steps = 5000
  c.train.parallel = "sharded"  # sharded (jit over a device mesh) | pmap
  c.train.num_devices = 0  # 0: all devices
  c.train.log_every_steps = 100
  c.train.checkpoint_every_steps = 1000
  c.train.keep_checkpoints = 3
  c.train.eval_every_steps = 0  # 0: only the final evaluation
  c.train.ema_decay = 0.999
  c.train.progress_bar = True
  # The networks' arithmetic in training steps: float32 | bfloat16 (parameters, optimizer
  # state, losses and metrics stay float32; evaluation and sampling run in float32).
  c.train.compute_dtype = "float32"

  c.eval = ml_collections.ConfigDict()
  c.eval.num_examples = 0  # 0: the whole evaluation split
  c.eval.num_elbo_samples = 1
  c.eval.num_iwae_samples = 100
  c.eval.use_ema = True
  c.eval.num_sample_images = 64
  # experiments/evaluate.py (and every quality_every_steps steps of training, 0: never):
  # FID / KID / PRDC / class coverage on this many samples and test images, in the
  # features of the dataset's feature network ("": the cached one, trained on first use
  # by experiments/evaluate.py; or a classifier run folder); disentanglement on sprites.
  c.eval.num_quality_samples = 5000
  c.eval.num_disentanglement_points = 10000  # MIG / SAP / DCI training points (test: half)
  # beta-VAE / FactorVAE score points (evaluation: half). Each encodes a batch of 64 (or
  # 2 x 64) images; the reference protocol's 10,000 take ~15 min on 2 CPU cores.
  c.eval.num_intervention_points = 2000
  c.eval.quality_every_steps = 0
  # The geodesic length ratio: geodesics between this many pairs of test codes, each
  # optimised for at most this many L-BFGS steps (the pairs are solved as one batch).
  c.eval.num_geodesic_pairs = 8
  c.eval.num_geodesic_steps = 200
  c.eval.feature_network = ""
  # Diffusion only: sampler (ddim | ddpm | dpm_solver), its steps (also of DDIM inversion),
  # DDIM's eta, and the classifier-free guidance weight w of a conditional model.
  c.eval.sampler = "ddim"
  c.eval.sampling_steps = 50
  c.eval.ddim_eta = 0.0
  c.eval.guidance_scale = 0.0
  return c


def smoke(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Shrinks a config to a few seconds of CPU work (used by the test suite)."""
  c.data.batch_size = 16
  c.data.eval_batch_size = 32
  c.train.num_steps = 8
  c.train.log_every_steps = 4
  c.train.checkpoint_every_steps = 4
  c.eval.num_examples = 64
  c.eval.num_iwae_samples = 4
  c.eval.num_sample_images = 16
  c.eval.num_quality_samples = 64
  c.eval.num_disentanglement_points = 200
  c.eval.num_intervention_points = 40
  c.eval.num_geodesic_pairs = 2
  c.eval.num_geodesic_steps = 20
  return c


def apply_arg(c: ml_collections.ConfigDict, arg: str | None) -> ml_collections.ConfigDict:
  """Applies the ``:arg`` suffix of ``--config=configs/X.py:arg``."""
  if arg in (None, ""):
    return c
  if arg == "smoke":
    return smoke(c)
  raise ValueError(f"Unknown config argument {arg!r}; known: smoke")


def gan_config(data_name: str) -> ml_collections.ConfigDict:
  """``base_config`` with the usual GAN optimiser (Adam, b1 = 0.5, lr 2e-4 for both nets)."""
  c = base_config()
  c.data.name = data_name
  c.model.family = "gan"
  c.optim.learning_rate = 2e-4
  c.optim.d_learning_rate = 2e-4
  c.optim.b1 = 0.5
  c.optim.b2 = 0.999
  c.eval.num_examples = 2000
  return c


def toy2d_gan_config(data_name: str, num_steps: int) -> ml_collections.ConfigDict:
  """The tuned MLP GAN of the toy2d mode-coverage configs (see configs/gan_ring8.py).

  G: z in R^16 -> 128 -> 128 -> 128 -> 2, D: 2 -> 128 x 3 -> 1; hinge loss with R1 0.1;
  Adam lr 4e-3 for both, 200 warm-up steps then cosine decay; batch 256; EMA 0.999.
  """
  c = gan_config(data_name)
  c.model.latent_dim = 16
  c.model.hidden_dims = (128, 128, 128)
  c.model.d_hidden_dims = (128, 128, 128)
  c.objective.gan_loss = "hinge"
  c.objective.r1_weight = 0.1
  c.optim.learning_rate = 4e-3
  c.optim.d_learning_rate = 4e-3
  c.optim.warmup_steps = 200
  c.optim.schedule = "cosine"
  c.data.batch_size = 256
  c.train.num_steps = num_steps
  c.train.ema_decay = 0.999
  return c


def gan_smoke(c: ml_collections.ConfigDict, arg: str | None) -> ml_collections.ConfigDict:
  """``apply_arg``, and for ``smoke`` also tiny networks (same depth as the full ones)."""
  c = apply_arg(c, arg)
  if arg == "smoke":
    c.model.latent_dim = 8
    c.model.hidden_dims = (16,) * len(c.model.hidden_dims)
    c.model.d_hidden_dims = (16,) * len(c.model.d_hidden_dims)
    c.model.channels = (8,) * len(c.model.channels)
    c.model.d_channels = (8,) * len(c.model.d_channels)
    c.data.batch_size = 16 * c.objective.n_critic  # divides over 4 devices and n_critic
  return c


def classifier_config(data_name: str) -> ml_collections.ConfigDict:
  """The feature network of a dataset: a small conv classifier of its classes or factors.

  ``latentjax.metrics`` compares generated and real images in its 128-wide penultimate
  features (FID, KID, PRDC) and counts its predicted classes (class coverage). One conv
  level (3x3 then 4x4 stride 2) per entry of ``model.channels``; Adam 1e-3, cosine decay.
  """
  c = base_config()
  c.data.name = data_name
  c.model.family = "classifier"
  c.model.architecture = "conv"
  c.model.latent_dim = 128
  # Two stride-2 levels for 8x8 digits and 28x28 (MNIST-like) images, three for 32/64 px.
  small = data_name.split("/")[0] in ("digits", "mnist", "fashion_mnist", "kmnist", "emnist")
  c.model.channels = (32, 64) if small else (32, 64, 64)
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = 100
  c.train.num_steps = 2000
  c.train.checkpoint_every_steps = 1000
  c.eval.num_examples = 0
  return c
