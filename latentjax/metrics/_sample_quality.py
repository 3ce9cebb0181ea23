"""All feature-space sample-quality metrics in one call: FID, KID and PRDC.

    res = metrics.sample_quality(real_features, fake_features)
    res["fid"], res["kid_mean"], res["precision"], res["coverage"]
"""

from latentjax.metrics._features import as_feature_pair, check_positive_int
from latentjax.metrics._frechet import fid_from_features
from latentjax.metrics._kid import kid
from latentjax.metrics._prdc import prdc

SAMPLE_QUALITY_KEYS = ("fid", "kid_mean", "kid_std", "precision", "recall", "density",
                       "coverage")


def sample_quality(real_features, fake_features, *, nearest_k: int = 5,
                   kid_subsets: int = 100, kid_subset_size: int = 1000,
                   seed: int = 0, kid_normalize: bool = False) -> dict:
  """FID, KID and precision / recall / density / coverage of fake against real features.

  Args:
    real_features: [N, D] float features of real data (e.g. Inception pool features),
      finite, N > nearest_k.
    fake_features: [M, D] float features of generated samples, finite, M > nearest_k.
    nearest_k: k of the PRDC nearest-neighbour balls.
    kid_subsets: number of KID subsets.
    kid_subset_size: points per KID subset (capped at min(N, M)).
    seed: seed of the KID subsets.
    kid_normalize: KID on features scaled to unit RMS over the real set (``kid``'s
      ``normalize``): for features whose entries are not of order 1.

  Returns:
    A flat dict with the keys ``SAMPLE_QUALITY_KEYS``: ``fid`` (``fid_from_features``),
    ``kid_mean`` and ``kid_std`` (``kid``), ``precision``, ``recall``, ``density`` and
    ``coverage`` (``prdc``); all Python floats.

  Raises:
    ValueError: wrong rank, different widths, fewer than 2 rows, NaN or inf;
      nearest_k not below the number of points of each set; kid_subsets < 1 or
      kid_subset_size < 2 (all checked before any metric is computed).

  Example:
    >>> x = np.random.default_rng(0).normal(size=(300, 8))
    >>> sorted(sample_quality(x, x, kid_subset_size=100, kid_subsets=5)) == sorted(
    ...     SAMPLE_QUALITY_KEYS)
    True
  """
  real, fake = as_feature_pair(real_features, fake_features)
  nearest_k = check_positive_int("nearest_k", nearest_k)
  kid_subsets = check_positive_int("kid_subsets", kid_subsets)
  kid_subset_size = check_positive_int("kid_subset_size", kid_subset_size, minimum=2)
  for name, x in (("real_features", real), ("fake_features", fake)):
    if nearest_k >= x.shape[0]:
      raise ValueError(f"`nearest_k` must be below the number of points of each set, got "
                       f"nearest_k={nearest_k} with `{name}` of shape {x.shape}")
  out = {"fid": fid_from_features(real, fake)}
  out.update(kid(real, fake, num_subsets=kid_subsets, subset_size=kid_subset_size,
                 seed=seed, normalize=kid_normalize))
  out.update(prdc(real, fake, nearest_k))
  return out
