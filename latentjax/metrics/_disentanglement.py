"""Disentanglement of codes against ground-truth factors: MIG, SAP and DCI (NumPy, sklearn).

The definitions and defaults follow the large-scale study of Locatello et al. (2019),
"Challenging Common Assumptions in the Unsupervised Learning of Disentangled
Representations", and the settings of its evaluation library:

* MIG (Chen et al., 2018): 10,000 points, each code cut into 20 equal-width bins;
* SAP (Kumar et al., 2018): 10,000 train / 5,000 test points, discrete factors;
* DCI (Eastwood & Williams, 2018): 10,000 train / 5,000 test points, importances from
  gradient-boosted trees with scikit-learn's default settings.

These functions take codes and factors already sampled (see `sample_codes_and_factors`);
`disentanglement_scores` samples and scores in one call::

    mig(codes, factors)                                   # float in [0, 1]
    sap(train_codes, train_factors, test_codes, test_factors)
    dci(train_codes, train_factors, test_codes, test_factors)["disentanglement"]
"""

import numpy as np

from latentjax.metrics._information import (
    _int_matrix,
    discrete_entropy,
    discrete_mutual_info,
    discretize,
)

DCI_KEYS = ("disentanglement", "completeness", "informativeness_train", "informativeness_test")
_SAP_CLASSIFIERS = ("svm", "threshold")
_DCI_IMPORTANCES = ("gbt", "logistic")


def _codes(name: str, x) -> np.ndarray:
  arr = np.asarray(x, dtype=np.float64)
  if arr.ndim != 2 or arr.shape[1] < 1:
    raise ValueError(f"`{name}` must be [N, K] floats with K >= 1, got shape {arr.shape}")
  if not np.all(np.isfinite(arr)):
    raise ValueError(f"`{name}` must be finite, got {int(np.sum(~np.isfinite(arr)))} NaN or "
                     "inf values")
  return arr


def _pair(codes_name: str, codes, factors_name: str, factors) -> tuple[np.ndarray, np.ndarray]:
  """Checked [N, K] float codes and [N, F] int factors with the same N >= 2."""
  codes = _codes(codes_name, codes)
  factors = _int_matrix(factors_name, factors, "[N, F]")
  if codes.shape[0] != factors.shape[0]:
    raise ValueError(f"`{codes_name}` and `{factors_name}` must have the same length N, got "
                     f"shapes {codes.shape} and {factors.shape}")
  if codes.shape[0] < 2:
    raise ValueError(f"`{codes_name}` must hold N >= 2 points, got shape {codes.shape}")
  return codes, factors


def _same_widths(train_name: str, train: np.ndarray, test_name: str, test: np.ndarray):
  if train.shape[1] != test.shape[1]:
    raise ValueError(f"`{test_name}` must have as many columns as `{train_name}` "
                     f"({train.shape[1]}), got shape {test.shape}")


def mig(codes, factors, num_bins: int = 20) -> float:
  """Mutual Information Gap (Chen et al., 2018), as in Locatello et al. (2019).

  Each code is discretised into ``num_bins`` equal-width bins (`discretize`); for each
  factor v_j, ``(I(c_a; v_j) - I(c_b; v_j)) / H(v_j)`` with c_a and c_b the codes of the
  largest and second-largest empirical mutual information (`discrete_mutual_info`); MIG is
  the mean over factors. Factors with a single value in the sample (H = 0) carry nothing
  to capture and are skipped. A constant code falls in one bin and has zero mutual
  information with every factor. With a single code (K = 1) the second-largest is 0.

  Args:
    codes: [N, K] float representations (finite), N >= 2.
    factors: [N, F] int ground-truth factor labels of the same N points.
    num_bins: bins per code, >= 1 (Locatello et al. use 20, with N = 10,000).

  Returns:
    MIG in [0, 1] (plug-in estimates are biased upwards for independent variables, so
    independent codes score a little above 0).

  Raises:
    ValueError: wrong ranks, different N, N < 2, NaN/inf codes, non-integer factors,
      ``num_bins`` < 1, or no factor with more than one value.

  Example:
    >>> f = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> mig(3.0 * f[:, ::-1] + 1.0, f)
    1.0
  """
  codes, factors = _pair("codes", codes, "factors", factors)
  if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins < 1:
    raise ValueError(f"`num_bins` must be an int >= 1, got {num_bins!r}")
  mi = discrete_mutual_info(discretize(codes, num_bins), factors)  # [K, F]
  entropy = discrete_entropy(factors)
  keep = entropy > 0
  if not np.any(keep):
    raise ValueError(f"`factors` must have a factor with more than one value, got shape "
                     f"{factors.shape} with every column constant")
  top = np.sort(mi, axis=0)[::-1]
  second = top[1] if top.shape[0] > 1 else np.zeros_like(top[0])
  return float(np.mean((top[0] - second)[keep] / entropy[keep]))


def _sap_discrete_score(x, y, x_test, y_test, classifier: str) -> float:
  if classifier == "svm":
    from sklearn.svm import LinearSVC
    if np.unique(y).shape[0] < 2:
      return float(np.mean(y_test == y[0]))
    model = LinearSVC(C=0.01, class_weight="balanced")
    model.fit(x[:, None], y)
    return float(np.mean(model.predict(x_test[:, None]) == y_test))
  from sklearn.metrics import balanced_accuracy_score
  from sklearn.tree import DecisionTreeClassifier
  num_classes = np.unique(y).shape[0]
  model = DecisionTreeClassifier(max_leaf_nodes=max(num_classes, 2), class_weight="balanced",
                                 random_state=0)
  model.fit(x[:, None], y)
  return float(balanced_accuracy_score(y_test, model.predict(x_test[:, None])))


def _sap_continuous_score(x: np.ndarray, y: np.ndarray) -> float:
  cov = np.cov(x, y, ddof=1)
  if cov[0, 0] <= 1e-12 or cov[1, 1] <= 0:
    return 0.0
  return float(cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1]))


def sap(train_codes, train_factors, test_codes, test_factors, *,
        continuous_factors: bool = False, classifier: str = "svm") -> float:
  """Separated Attribute Predictability (Kumar et al., 2018), as in Locatello et al. (2019).

  A score matrix S [K, F] rates how well each single code predicts each factor; SAP is
  the mean over factors of the gap between the two largest entries of its column.

  * Discrete factors (default), ``classifier="svm"``: S[k, j] is the test accuracy of a
    1-D linear classifier of factor j from code k, scikit-learn's
    ``LinearSVC(C=0.01, class_weight="balanced")`` fitted on the training points: the
    setting of Locatello et al. (2019). Being linear in one variable, it separates a
    factor of more than two values poorly, so a perfect copy of such a factor scores
    well below 1.
  * ``classifier="threshold"``: the thresholding of Kumar et al. (2018): S[k, j] is the
    balanced test accuracy of a 1-D decision tree (scikit-learn, class-balanced, at most
    one leaf per factor value, i.e. that many - 1 thresholds on the code).
  * ``continuous_factors=True``: S[k, j] is the squared correlation of code k and factor
    j on the training points (0 for a code of variance <= 1e-12); the test set is unused.

  A factor with a single training value is predicted as that value.

  Args:
    train_codes: [N, K] floats (10,000 points in Locatello et al.).
    train_factors: [N, F] ints.
    test_codes: [M, K] floats (5,000 points).
    test_factors: [M, F] ints.
    continuous_factors: treat factors as continuous (squared correlation).
    classifier: ``"svm"`` or ``"threshold"`` for discrete factors (see above).

  Returns:
    SAP in [0, 1]: 1 - chance for a copy of binary factors with ``"svm"``, near 0 for
    codes independent of the factors.

  Raises:
    ValueError: wrong ranks or lengths, N or M < 2, NaN/inf codes, non-integer factors,
      different K or F between train and test, K < 2, an unknown ``classifier``.

  Example:
    >>> f = np.random.default_rng(0).integers(2, size=(200, 2))
    >>> round(sap(f * 1.0, f, f * 1.0, f), 1)   # the other code is at chance: 1 - 0.5
    0.5
  """
  train_codes, train_factors = _pair("train_codes", train_codes, "train_factors", train_factors)
  test_codes, test_factors = _pair("test_codes", test_codes, "test_factors", test_factors)
  _same_widths("train_codes", train_codes, "test_codes", test_codes)
  _same_widths("train_factors", train_factors, "test_factors", test_factors)
  if train_codes.shape[1] < 2:
    raise ValueError(f"`train_codes` must have K >= 2 codes for a gap between the top two, "
                     f"got shape {train_codes.shape}")
  if classifier not in _SAP_CLASSIFIERS:
    raise ValueError(f"`classifier` must be one of {_SAP_CLASSIFIERS}, got {classifier!r}")
  num_codes, num_factors = train_codes.shape[1], train_factors.shape[1]
  score = np.zeros((num_codes, num_factors), np.float64)
  for k in range(num_codes):
    for j in range(num_factors):
      if continuous_factors:
        score[k, j] = _sap_continuous_score(train_codes[:, k], train_factors[:, j])
      else:
        score[k, j] = _sap_discrete_score(train_codes[:, k], train_factors[:, j],
                                          test_codes[:, k], test_factors[:, j], classifier)
  top = np.sort(score, axis=0)[::-1]
  return float(np.mean(top[0] - top[1]))


def _importance(x, y, x_test, y_test, seed: int, importance: str):
  """[K] importances of the codes for one factor, train and test accuracy."""
  if np.unique(y).shape[0] < 2:  # nothing to learn: a constant prediction, no importance
    return np.zeros(x.shape[1]), 1.0, float(np.mean(y_test == y[0]))
  if importance == "gbt":
    from sklearn.ensemble import GradientBoostingClassifier
    model = GradientBoostingClassifier(random_state=seed)
    model.fit(x, y)
    weights = np.abs(model.feature_importances_)
  else:
    from sklearn.linear_model import LogisticRegression
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    x, x_test = (x - mean[None]) / std[None], (x_test - mean[None]) / std[None]
    model = LogisticRegression(max_iter=1000, random_state=seed)
    model.fit(x, y)
    weights = np.mean(np.abs(model.coef_), axis=0)
  return (weights, float(np.mean(model.predict(x) == y)),
          float(np.mean(model.predict(x_test) == y_test)))


def _normalized_entropy(p: np.ndarray) -> np.ndarray:
  """Entropy of each row of p (rows of non-negative weights) in base p.shape[1].

  A zero row counts as uniform (entropy 1); with a single column the entropy is 0.
  """
  n = p.shape[1]
  if n == 1:
    return np.zeros(p.shape[0])
  total = p.sum(axis=1, keepdims=True)
  q = np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / n)
  logs = np.log(np.where(q > 0, q, 1.0))
  return -np.sum(q * logs, axis=1) / np.log(n)


def dci_from_importance(importance_matrix) -> dict:
  """Disentanglement and completeness (Eastwood & Williams, 2018) of an importance matrix.

  With R [K, F] >= 0 the importance of code k for factor j: ``P_kj = R_kj / sum_j R_kj``,
  disentanglement ``sum_k rho_k (1 - H_F(P_k.))`` with ``rho_k = sum_j R_kj / sum R``
  and entropy in base F; completeness ``sum_j rho_j (1 - H_K(P~_.j))`` with
  ``P~_kj = R_kj / sum_k R_kj``, ``rho_j = sum_k R_kj / sum R`` and base K. A code (or
  factor) with no importance at all has weight 0; an all-zero R scores 0 (uniform
  weights and distributions). A single factor (F = 1) makes every code fully
  disentangled, a single code (K = 1) every factor complete.

  Args:
    importance_matrix: [K, F] non-negative finite weights.

  Returns:
    ``{"disentanglement": float, "completeness": float}`` in [0, 1].

  Raises:
    ValueError: not 2-D, empty, negative or not finite.

  Example:
    >>> dci_from_importance(np.eye(3))
    {'disentanglement': 1.0, 'completeness': 1.0}
  """
  r = _codes("importance_matrix", importance_matrix)
  if r.shape[0] < 1 or np.any(r < 0):
    raise ValueError(f"`importance_matrix` must be [K, F] with K >= 1 and no negative entries, "
                     f"got shape {r.shape}, min {r.min() if r.size else None}")
  total = r.sum()
  if total <= 0:
    return {"disentanglement": 0.0, "completeness": 0.0}
  d = float(np.sum(r.sum(axis=1) / total * (1.0 - _normalized_entropy(r))))
  c = float(np.sum(r.sum(axis=0) / total * (1.0 - _normalized_entropy(r.T))))
  return {"disentanglement": min(max(d, 0.0), 1.0), "completeness": min(max(c, 0.0), 1.0)}


def dci(train_codes, train_factors, test_codes, test_factors, *, seed: int = 0,
        importance: str = "gbt") -> dict:
  """Disentanglement, completeness, informativeness (Eastwood & Williams, 2018).

  For each factor j a classifier predicts its value from all codes; the importance
  matrix R [K, F] collects each classifier's code importances, scored by
  `dci_from_importance`. Informativeness is the mean over factors of the classifiers'
  accuracy on the training and on the test points (higher is better).

  * ``importance="gbt"`` (Locatello et al., 2019): scikit-learn's
    ``GradientBoostingClassifier`` with its default settings (100 stages of depth-3 trees,
    learning rate 0.1), ``random_state=seed``; R[:, j] is its ``feature_importances_``.
    Costly: one tree per class and stage.
  * ``importance="logistic"`` (fast): a multinomial logistic regression on standardised
    codes; R[k, j] is the mean over classes of |coefficient of code k|.

  Args:
    train_codes: [N, K] floats (10,000 points in Locatello et al.).
    train_factors: [N, F] ints.
    test_codes: [M, K] floats (5,000 points).
    test_factors: [M, F] ints.
    seed: the classifiers' random state.
    importance: ``"gbt"`` or ``"logistic"``.

  Returns:
    ``{"disentanglement", "completeness", "informativeness_train",
    "informativeness_test"}``, floats in [0, 1].

  Raises:
    ValueError: wrong ranks or lengths, N or M < 2, NaN/inf codes, non-integer factors,
      different K or F between train and test, an unknown ``importance``.

  Example:
    >>> f = np.random.default_rng(0).integers(3, size=(300, 2))
    >>> dci(f[:, ::-1] * 2.0, f, f[:, ::-1] * 2.0, f)["completeness"] > 0.9
    True
  """
  train_codes, train_factors = _pair("train_codes", train_codes, "train_factors", train_factors)
  test_codes, test_factors = _pair("test_codes", test_codes, "test_factors", test_factors)
  _same_widths("train_codes", train_codes, "test_codes", test_codes)
  _same_widths("train_factors", train_factors, "test_factors", test_factors)
  if importance not in _DCI_IMPORTANCES:
    raise ValueError(f"`importance` must be one of {_DCI_IMPORTANCES}, got {importance!r}")
  num_factors = train_factors.shape[1]
  r = np.zeros((train_codes.shape[1], num_factors), np.float64)
  train_acc, test_acc = np.zeros(num_factors), np.zeros(num_factors)
  for j in range(num_factors):
    r[:, j], train_acc[j], test_acc[j] = _importance(
        train_codes, train_factors[:, j], test_codes, test_factors[:, j], seed, importance)
  scores = dci_from_importance(r)
  scores["informativeness_train"] = float(np.mean(train_acc))
  scores["informativeness_test"] = float(np.mean(test_acc))
  return {key: scores[key] for key in DCI_KEYS}
