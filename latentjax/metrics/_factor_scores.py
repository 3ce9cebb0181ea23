"""Intervention-based disentanglement scores, and every score of a representation at once.

The beta-VAE score (Higgins et al., 2017) and the FactorVAE score (Kim & Mnih, 2018) fix
one factor over a batch of sampled observations and ask a classifier which factor it
was from the codes. Settings follow Locatello et al. (2019) and its evaluation library:
batches of 64, 10,000 training and 5,000 evaluation points, 10,000 points for the
FactorVAE global variances, dimensions of standard deviation < 0.05 pruned::

    betavae_score(encode, sampler, seed=0)["eval_accuracy"]
    factorvae_score(encode, sampler, seed=0)["eval_accuracy"]
    disentanglement_scores(encode, sampler, seed=0)   # MIG, SAP, DCI and both of these
"""

import numpy as np

from latentjax.metrics._disentanglement import DCI_KEYS, dci, mig, sap
from latentjax.metrics._factor_samplers import (
    check_count,
    check_sampler,
    encode_factors,
    sample_codes_and_factors,
)

SCORE_KEYS = ("mig", "sap", *(f"dci_{k}" for k in DCI_KEYS), "betavae_train_accuracy",
              "betavae_eval_accuracy", "factorvae_train_accuracy", "factorvae_eval_accuracy",
              "factorvae_num_active_dims")


def _betavae_points(representation_fn, sampler, rng, num, batch_size, encode_batch_size):
  """[num, K] mean |z1 - z2| over pairs sharing one factor, and that factor [num]."""
  num_factors = len(sampler.factor_sizes)
  index = rng.integers(num_factors, size=num)
  f1 = np.asarray(sampler.sample_factors(num * batch_size, rng), np.int64)
  f2 = np.asarray(sampler.sample_factors(num * batch_size, rng), np.int64)
  f1 = f1.reshape(num, batch_size, num_factors)
  f2 = f2.reshape(num, batch_size, num_factors)
  rows = np.arange(num)
  f2[rows, :, index] = f1[rows, :, index]
  both = np.concatenate([f1.reshape(-1, num_factors), f2.reshape(-1, num_factors)], axis=0)
  z = encode_factors(representation_fn, sampler, both, encode_batch_size)
  z1, z2 = np.split(z, 2, axis=0)
  diff = np.abs(z1 - z2).reshape(num, batch_size, -1)
  return diff.mean(axis=1), index


def betavae_score(representation_fn, sampler, seed, *, batch_size: int = 64,
                  num_train: int = 10000, num_eval: int = 5000,
                  encode_batch_size: int = 1024) -> dict:
  """The beta-VAE disentanglement score (Higgins et al., 2017), as Locatello et al. (2019).

  Each point draws a factor j uniformly and two batches of ``batch_size`` factor vectors
  that agree on factor j only; its features are ``mean_b |z(x1_b) - z(x2_b)|`` [K] and its
  label j. A scikit-learn ``LogisticRegression`` with default settings is fitted on
  ``num_train`` points; the score is its accuracy there and on ``num_eval`` new points.

  Args:
    representation_fn: images [B, H, W, C] -> codes [B, K] (NumPy or JAX arrays).
    sampler: a `FactorSampler`.
    seed: seed of ``np.random.default_rng`` (int, SeedSequence or Generator).
    batch_size: pairs per point, >= 1 (64).
    num_train: training points, >= 1 (10,000).
    num_eval: evaluation points, >= 1 (5,000).
    encode_batch_size: images per call of ``representation_fn``.

  Returns:
    ``{"train_accuracy": float, "eval_accuracy": float}``; chance is 1 / F.

  Raises:
    ValueError: a bad sampler or count, or codes that are not [B, K] or not finite.

  Example:
    >>> s = GridSampler((4, 4), lambda f: f.reshape(-1, 1, 1, 2).astype(np.float32))
    >>> betavae_score(lambda x: x.reshape(len(x), -1), s, 0, num_train=200,
    ...               num_eval=100)["eval_accuracy"]
    1.0
  """
  check_sampler(sampler)
  batch_size = check_count("batch_size", batch_size, 1)
  num_train = check_count("num_train", num_train, 1)
  num_eval = check_count("num_eval", num_eval, 1)
  encode_batch_size = check_count("encode_batch_size", encode_batch_size, 1)
  rng = np.random.default_rng(seed)
  x, y = _betavae_points(representation_fn, sampler, rng, num_train, batch_size,
                         encode_batch_size)
  x_eval, y_eval = _betavae_points(representation_fn, sampler, rng, num_eval, batch_size,
                                   encode_batch_size)
  if np.unique(y).shape[0] < 2:  # a single class: predict it
    return {"train_accuracy": 1.0, "eval_accuracy": float(np.mean(y_eval == y[0]))}
  from sklearn.linear_model import LogisticRegression
  model = LogisticRegression(random_state=0)
  model.fit(x, y)
  return {"train_accuracy": float(np.mean(model.predict(x) == y)),
          "eval_accuracy": float(np.mean(model.predict(x_eval) == y_eval))}


def _factorvae_votes(representation_fn, sampler, rng, num, batch_size, global_var, active,
                     encode_batch_size) -> np.ndarray:
  """int64 [F, K] votes: (fixed factor, code of least normalised variance) per point."""
  sizes = sampler.factor_sizes
  num_factors = len(sizes)
  index = rng.integers(num_factors, size=num)
  f = np.asarray(sampler.sample_factors(num * batch_size, rng), np.int64)
  f = f.reshape(num, batch_size, num_factors)
  rows = np.arange(num)
  f[rows, :, index] = f[rows, 0, index][:, None]
  z = encode_factors(representation_fn, sampler, f.reshape(-1, num_factors), encode_batch_size)
  local_var = np.var(z.reshape(num, batch_size, -1), axis=1, ddof=1)  # [num, K]
  active_idx = np.nonzero(active)[0]
  ratio = local_var[:, active_idx] / global_var[active_idx][None, :]
  code = active_idx[np.argmin(ratio, axis=1)]
  votes = np.zeros((num_factors, z.shape[1]), np.int64)
  np.add.at(votes, (index, code), 1)
  return votes


def factorvae_score(representation_fn, sampler, seed, *, batch_size: int = 64,
                    num_train: int = 10000, num_eval: int = 5000,
                    num_variance_estimate: int = 10000, prune_std: float = 0.05,
                    encode_batch_size: int = 1024) -> dict:
  """The FactorVAE disentanglement score (Kim & Mnih, 2018), as Locatello et al. (2019).

  The codes' global variances come from ``num_variance_estimate`` sampled observations
  (ddof = 1); dimensions of standard deviation below ``prune_std`` are inactive. Each
  point fixes a uniformly drawn factor j over a batch of ``batch_size`` otherwise random
  factor vectors and votes for (j, the active code of least variance over the batch
  divided by its global variance). The majority-vote classifier maps each code to the
  factor with most training votes; the scores are the fractions of training and of
  ``num_eval`` new votes it gets right. With no active dimension both are 0.

  Args:
    representation_fn: images [B, H, W, C] -> codes [B, K] (NumPy or JAX arrays).
    sampler: a `FactorSampler`.
    seed: seed of ``np.random.default_rng`` (int, SeedSequence or Generator).
    batch_size: observations per point, >= 2 (64).
    num_train: training points, >= 1 (10,000).
    num_eval: evaluation points, >= 1 (5,000).
    num_variance_estimate: points for the global variances, >= 2 (10,000).
    prune_std: dimensions with global standard deviation < this are inactive (0.05).
    encode_batch_size: images per call of ``representation_fn``.

  Returns:
    ``{"train_accuracy": float, "eval_accuracy": float, "num_active_dims": int}``;
    chance is 1 / F.

  Raises:
    ValueError: a bad sampler or count, a negative or non-finite ``prune_std``, or codes
      that are not [B, K] or not finite.

  Example:
    >>> s = GridSampler((4, 4), lambda f: f.reshape(-1, 1, 1, 2).astype(np.float32))
    >>> factorvae_score(lambda x: x.reshape(len(x), -1), s, 0, num_train=100, num_eval=50,
    ...                 num_variance_estimate=200)
    {'train_accuracy': 1.0, 'eval_accuracy': 1.0, 'num_active_dims': 2}
  """
  check_sampler(sampler)
  batch_size = check_count("batch_size", batch_size, 2)
  num_train = check_count("num_train", num_train, 1)
  num_eval = check_count("num_eval", num_eval, 1)
  num_variance_estimate = check_count("num_variance_estimate", num_variance_estimate, 2)
  encode_batch_size = check_count("encode_batch_size", encode_batch_size, 1)
  if not np.isscalar(prune_std) or not np.isfinite(prune_std) or prune_std < 0:
    raise ValueError(f"`prune_std` must be a finite float >= 0, got {prune_std!r}")
  rng = np.random.default_rng(seed)
  factors = np.asarray(sampler.sample_factors(num_variance_estimate, rng), np.int64)
  codes = encode_factors(representation_fn, sampler, factors, encode_batch_size)
  global_var = np.var(codes, axis=0, ddof=1)
  active = np.sqrt(global_var) >= prune_std
  active &= global_var > 0  # a constant code cannot be normalised
  if not np.any(active):
    return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
  args = (batch_size, global_var, active, encode_batch_size)
  train = _factorvae_votes(representation_fn, sampler, rng, num_train, *args)
  evals = _factorvae_votes(representation_fn, sampler, rng, num_eval, *args)
  classifier = np.argmax(train, axis=0)  # [K]: the factor each code votes for most
  cols = np.arange(train.shape[1])
  return {"train_accuracy": float(train[classifier, cols].sum() / train.sum()),
          "eval_accuracy": float(evals[classifier, cols].sum() / evals.sum()),
          "num_active_dims": int(active.sum())}


def disentanglement_scores(representation_fn, sampler, seed=0, *, num_train: int = 10000,
                           num_test: int = 5000, num_bins: int = 20, batch_size: int = 64,
                           num_variance_estimate: int = 10000, prune_std: float = 0.05,
                           dci_importance: str = "gbt", sap_classifier: str = "svm",
                           encode_batch_size: int = 1024,
                           num_intervention_train: int | None = None,
                           num_intervention_eval: int | None = None) -> dict:
  """MIG, SAP, DCI, beta-VAE and FactorVAE scores of a representation on ground-truth data.

  One set of ``num_train`` and one of ``num_test`` uniformly sampled points is encoded
  and shared by MIG (training points), SAP and DCI; the beta-VAE and FactorVAE scores
  sample their own batches (``num_train`` training and ``num_test`` evaluation points).
  The defaults are those of Locatello et al. (2019); shrink the counts for quick checks.
  Independent streams are drawn from ``np.random.SeedSequence(seed)``.

  Args:
    representation_fn: images [B, H, W, C] -> codes [B, K] (NumPy or JAX arrays).
    sampler: a `FactorSampler`, e.g. `sprites_sampler`.
    seed: an int seed.
    num_train: training points (>= 2).
    num_test: test / evaluation points (>= 2).
    num_bins: MIG bins per code.
    batch_size: beta-VAE and FactorVAE batch.
    num_variance_estimate: FactorVAE global-variance points.
    prune_std: FactorVAE pruning threshold on the codes' standard deviation.
    dci_importance: ``"gbt"`` (reference, slow) or ``"logistic"``.
    sap_classifier: ``"svm"`` (reference) or ``"threshold"``.
    encode_batch_size: images per call of ``representation_fn``.
    num_intervention_train: training points of the beta-VAE and FactorVAE scores (None:
      ``num_train``). Each point encodes ``2 * batch_size`` (beta-VAE) or ``batch_size``
      (FactorVAE) images, so these two dominate the cost: 10,000 points are 1.9M images.
    num_intervention_eval: their evaluation points (None: ``num_test``).

  Returns:
    a flat dict with the keys of `SCORE_KEYS`: ``mig``, ``sap``, ``dci_disentanglement``,
    ``dci_completeness``, ``dci_informativeness_train``, ``dci_informativeness_test``,
    ``betavae_train_accuracy``, ``betavae_eval_accuracy``, ``factorvae_train_accuracy``,
    ``factorvae_eval_accuracy``, ``factorvae_num_active_dims``.

  Raises:
    ValueError: from the individual scores.

  Example:
    >>> s = GridSampler((3, 3), lambda f: f.reshape(-1, 1, 1, 2).astype(np.float32))
    >>> res = disentanglement_scores(lambda x: x.reshape(len(x), -1), s, num_train=100,
    ...                              num_test=50, num_variance_estimate=100)
    >>> res["factorvae_eval_accuracy"]
    1.0
  """
  check_sampler(sampler)
  num_train = check_count("num_train", num_train, 2)
  num_test = check_count("num_test", num_test, 2)
  codes_seq, beta_seq, factor_seq = np.random.SeedSequence(seed).spawn(3)
  rng = np.random.default_rng(codes_seq)
  train_codes, train_factors = sample_codes_and_factors(representation_fn, sampler, num_train,
                                                        rng, encode_batch_size)
  test_codes, test_factors = sample_codes_and_factors(representation_fn, sampler, num_test,
                                                      rng, encode_batch_size)
  out = {"mig": mig(train_codes, train_factors, num_bins)}
  if train_codes.shape[1] >= 2:
    out["sap"] = sap(train_codes, train_factors, test_codes, test_factors,
                     classifier=sap_classifier)
  else:
    out["sap"] = float("nan")  # a gap between the two best codes needs two codes
  scores = dci(train_codes, train_factors, test_codes, test_factors, seed=int(seed),
               importance=dci_importance)
  out.update({f"dci_{k}": v for k, v in scores.items()})
  common = {"batch_size": batch_size,
            "num_train": num_train if num_intervention_train is None else num_intervention_train,
            "num_eval": num_test if num_intervention_eval is None else num_intervention_eval,
            "encode_batch_size": encode_batch_size}
  beta = betavae_score(representation_fn, sampler, beta_seq, **common)
  out.update({f"betavae_{k}": v for k, v in beta.items()})
  factor = factorvae_score(representation_fn, sampler, factor_seq, prune_std=prune_std,
                           num_variance_estimate=num_variance_estimate, **common)
  out.update({f"factorvae_{k}": v for k, v in factor.items()})
  return {k: out[k] for k in SCORE_KEYS}
