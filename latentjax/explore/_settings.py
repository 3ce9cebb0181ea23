"""How much work the exploration report does: path resolutions, grid sizes, counts.

Every number the report uses is a field here, validated once when the settings are
made, so the report-building code reads no hidden defaults. ``ExploreSettings()`` is
sized for the demo (a minute or so on 2 CPU cores for an 8x8-digit VAE);
``ExploreSettings.small()`` is for the test suite and notebooks under
``LATENTJAX_SMALL=1``.

    settings = ExploreSettings(num_pairs=4, geodesic_steps=300)
    settings = ExploreSettings.small()
    settings = ExploreSettings.from_env()     # small() when LATENTJAX_SMALL=1
"""

from __future__ import annotations

import dataclasses
import math
import os

SMALL_ENV = "LATENTJAX_SMALL"


def small_mode() -> bool:
  """Whether ``LATENTJAX_SMALL`` asks for small, fast settings (any value but "", "0")."""
  return os.environ.get(SMALL_ENV, "").strip() not in ("", "0", "false", "False")


@dataclasses.dataclass(frozen=True)
class ExploreSettings:
  """Sizes of everything the exploration computes.

  Attributes:
    num_examples: test examples encoded for the scatter, clustering, directions and
      pair choice (0: the whole test split).
    num_pairs: endpoint pairs for the interpolation strips (different classes when
      the data are labelled).
    num_frames: images per interpolation strip, endpoints included.
    length_resolution: points of the fine resampling on which every decoded path
      length is measured (`latent_ops.curve_length` of the finely resampled path).
    geodesic_points: points of each discrete geodesic, endpoints fixed.
    geodesic_steps: optimisation steps of `latent_ops.geodesic`.
    gif_frames: frames of the interpolation GIF (played forward and back).
    num_pca: principal directions shown as traversals.
    num_dims: per-dimension traversals, at most (the most active dimensions first).
    traversal_steps: images per traversal row.
    traversal_sigmas: a traversal spans +-this many standard deviations of the codes
      along the direction (PCA and supervised directions) or of the prior (dims).
    num_analogies: rows of the analogy panel and of the style/class grid.
    attribute_scales: multiples of a class attribute vector added to a code.
    grid_size: side of the magnification-factor grid over a 2-D latent space.
    num_geodesics: geodesics drawn on the magnification heat map.
    variance_centers: RBF centres of a decoder variance fitted on the test codes (when
      the run has none saved) for the expected metric.
    graph_neighbors: neighbours per code in the graphs of geodesic distances.
    clustering_points: test codes clustered under each distance (O(N^3) graph
      distances).
    tsne: add a t-SNE scatter when the latent dimension is above 2.
    tsne_max_iter: t-SNE optimisation steps (>= 250).
    tsne_max_points: t-SNE embeds at most this many codes (exact gradient, O(N^2)).
    kmeans_iters: Lloyd iterations of `latent_ops.kmeans`.
    num_inversions: test images inverted through a generator (runs without an
      encoder): their reconstructions, the PCA of their codes, real-image paths.
    inversion_steps: Adam steps of `latent_ops.invert` per start.
    inversion_restarts: random starts per image of `latent_ops.invert`.
    inverse_encoder_steps: training steps of the inverse encoder for the hybrid
      inversion (`latent_ops.fit_inverse_encoder`); 0 leaves the hybrid out.
    coverage_samples: generated points scored against the true modes (``toy2d``).
    guidance_scales: classifier-free guidance weights w shown side by side (a
      conditional diffusion run).
    num_trajectories: samples whose denoising chain is shown (diffusion runs).
    trajectory_columns: states of each chain shown, noise first, evenly spaced.
    inversion_step_counts: DDIM step counts of the inversion error table (diffusion
      runs; counts above the schedule's T are left out).
    seed: seeds pair choice, k-means, t-SNE, samples and inversions.
  """

  num_examples: int = 0
  num_pairs: int = 3
  num_frames: int = 10
  length_resolution: int = 256
  geodesic_points: int = 32
  geodesic_steps: int = 500
  gif_frames: int = 24
  num_pca: int = 4
  num_dims: int = 16
  traversal_steps: int = 9
  traversal_sigmas: float = 2.5
  num_analogies: int = 4
  attribute_scales: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0)
  grid_size: int = 64
  num_geodesics: int = 4
  variance_centers: int = 64
  graph_neighbors: int = 10
  clustering_points: int = 500
  tsne: bool = True
  tsne_max_iter: int = 1000
  tsne_max_points: int = 600
  kmeans_iters: int = 100
  num_inversions: int = 16
  inversion_steps: int = 300
  inversion_restarts: int = 4
  inverse_encoder_steps: int = 1500
  coverage_samples: int = 2500
  guidance_scales: tuple[float, ...] = (0.0, 1.0, 3.0)
  num_trajectories: int = 4
  trajectory_columns: int = 8
  inversion_step_counts: tuple[int, ...] = (5, 10, 20, 50)
  seed: int = 0

  def __post_init__(self):
    at_least = {
        "num_examples": 0, "num_pairs": 1, "num_frames": 2, "length_resolution": 2,
        "geodesic_points": 3, "geodesic_steps": 0, "gif_frames": 2, "num_pca": 1,
        "num_dims": 1, "traversal_steps": 2, "num_analogies": 1, "grid_size": 4,
        "num_geodesics": 1, "variance_centers": 1, "graph_neighbors": 1,
        "clustering_points": 10, "tsne_max_iter": 250, "tsne_max_points": 3,
        "kmeans_iters": 1, "num_inversions": 2, "inversion_steps": 1,
        "inversion_restarts": 1, "inverse_encoder_steps": 0, "coverage_samples": 1,
        "num_trajectories": 1, "trajectory_columns": 2,
    }
    for name, low in at_least.items():
      value = getattr(self, name)
      if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"`{name}` must be an int >= {low}, got {value!r}")
    if not isinstance(self.seed, int) or isinstance(self.seed, bool):
      raise ValueError(f"`seed` must be an int, got {self.seed!r}")
    if not self.traversal_sigmas > 0:
      raise ValueError(f"`traversal_sigmas` must be positive, got {self.traversal_sigmas!r}")
    scales = tuple(float(s) for s in self.attribute_scales)
    if not scales:
      raise ValueError("`attribute_scales` must name at least one scale, got ()")
    object.__setattr__(self, "attribute_scales", scales)
    try:
      weights = tuple(float(w) for w in self.guidance_scales)
    except (TypeError, ValueError):
      weights = (math.nan,)
    if not weights or not all(math.isfinite(w) for w in weights):
      raise ValueError(f"`guidance_scales` must be finite floats, at least one, got "
                       f"{self.guidance_scales!r}")
    object.__setattr__(self, "guidance_scales", weights)
    counts = tuple(self.inversion_step_counts)
    if not counts or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                             for n in counts):
      raise ValueError(f"`inversion_step_counts` must be ints >= 1, at least one, got "
                       f"{self.inversion_step_counts!r}")
    object.__setattr__(self, "inversion_step_counts", counts)
    if not isinstance(self.tsne, bool):
      raise ValueError(f"`tsne` must be a bool, got {self.tsne!r}")

  @classmethod
  def small(cls, **overrides) -> ExploreSettings:
    """Settings that build a whole report in seconds (tests, notebooks in CI)."""
    base = dict(num_examples=120, num_pairs=2, num_frames=6, length_resolution=64,
                geodesic_points=12, geodesic_steps=60, gif_frames=8, num_pca=2, num_dims=4,
                traversal_steps=5, num_analogies=2, attribute_scales=(0.0, 1.0, 2.0),
                grid_size=16, num_geodesics=2, variance_centers=16, tsne=True,
                tsne_max_iter=250, kmeans_iters=20,
                num_inversions=6, inversion_steps=80, inversion_restarts=1,
                inverse_encoder_steps=150, coverage_samples=600, num_trajectories=3,
                trajectory_columns=5, inversion_step_counts=(2, 4))
    base.update(overrides)
    return cls(**base)

  @classmethod
  def from_env(cls, **overrides) -> ExploreSettings:
    """``small(**overrides)`` under ``LATENTJAX_SMALL=1``, else ``ExploreSettings(**overrides)``."""
    return cls.small(**overrides) if small_mode() else cls(**overrides)
