"""Every metric that applies to a trained run, for ``experiments/evaluate.py`` and training.

``quality_metrics(run, key, feature_net)`` returns flat float entries, each named by what
it measures and what it is computed on:

  ====================  ================================================================
  ``samples_*``         generated samples vs the evaluation split, in the feature
                        network's features: ``fid``, ``kid_mean`` / ``kid_std`` (on
                        unit-RMS features), ``precision`` / ``recall`` / ``density`` /
                        ``coverage``; from its
                        predicted classes: ``inception_score``, ``classes_covered``,
                        ``class_coverage``, ``class_kl`` (families that sample images);
                        ``label_accuracy``: the fraction classified as the class
                        requested (conditional families)
  ``recon_*``           the same for reconstructions (families with an encoder)
  ``probe_accuracy_*``  linear-probe test accuracy of codes, per label / factor
  ``cluster_nmi``, ...  k-means of test codes against the labels
  ``ppl``               perceptual path length in the feature network's features
  ``geodesic_ratio``    decoded geodesic length / straight-line length
  ``iwae_<k>_nats``     ELBO / IWAE-k (k = 1, 10, 100 up to eval.num_iwae_samples) over
                        the evaluation split (eval.num_examples), nats
                        and bits/dim (VAEs; the binarised split with objective.binarize)
  ``mig``, ``sap``,     disentanglement of encoder means on ``sprites`` (factors rendered
  ``dci_*``, ...        by the dataset's own renderer)
  ====================  ================================================================

Sizes come from ``config.eval``: ``num_quality_samples`` images on each side,
``num_disentanglement_points`` training points of MIG / SAP / DCI and
``num_intervention_points`` of the beta-VAE / FactorVAE scores (half as many test points).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from latentjax._batching import apply_in_batches
from latentjax.training._keys import EVAL_KEY

Array = jax.Array
_SAMPLES, _PPL, _CLUSTER, _BOUNDS = 11, 12, 13, 15  # purpose tags under EVAL_KEY


def _image_data(exp) -> bool:
  return exp.spec.input_key == "image" and len(exp.spec.input_shape) == 3


def _can_sample(run) -> bool:
  """Whether the run decodes codes it can draw (an autoencoder needs its code Gaussian)."""
  try:
    run.family_impl.decoding(run.exp)
    run.sample_codes(jax.random.PRNGKey(0), 2)
  except (ValueError, FileNotFoundError):
    return False
  return True


def _eval_data(run, n: int, split: str | None = None) -> dict:
  from latentjax.training._evaluate import eval_batches

  exp = run.exp
  batches = list(eval_batches(exp, split or exp.eval_split, n))
  return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


def _label_sets(exp, batch: dict) -> dict:
  """``{name: int labels [N]}``: the class label and every factor the batch holds."""
  out = {}
  if exp.spec.label_key and exp.spec.label_key in batch:
    out["label"] = np.asarray(batch[exp.spec.label_key])
  for f in exp.spec.factor_names:
    if f"label_{f}" in batch:
      out[f] = np.asarray(batch[f"label_{f}"])
  return out


def _in_batches(fn, x: np.ndarray, size: int) -> np.ndarray:
  return apply_in_batches(jax.jit(fn), x, size)


def _reconstructions(run, real: dict, size: int) -> np.ndarray:
  """``decode(encode(x))`` of the evaluation images, with their labels if conditional."""
  x = real[run.exp.spec.input_key]
  if not run.conditional:
    return _in_batches(lambda v: run.decode(run.family_impl.encode(run, v, None)), x, size)
  y = np.asarray(real[run.exp.spec.label_key]).astype(x.dtype)
  flat = np.concatenate([x.reshape(len(x), -1), y[:, None]], axis=1)
  shape = x.shape[1:]

  def fn(xy):
    v, labels = xy[:, :-1].reshape((-1, *shape)), xy[:, -1].astype(jnp.int32)
    return run.decode(run.family_impl.encode(run, v, labels), labels)

  return _in_batches(fn, flat, size)


def generated_images(run, key: Array, num: int) -> np.ndarray:
  """``num`` samples of the run in batches (classes in turn for a conditional model)."""
  exp = run.exp
  size = exp.cfg.data.eval_batch_size
  decode, static = run.family_impl.decoding(exp)
  variables = run.variables
  codes = np.asarray(run.sample_codes(key, num))
  if run.conditional:
    labels = np.arange(num, dtype=np.int32) % exp.spec.num_classes
    both = np.concatenate([codes, labels[:, None].astype(codes.dtype)], axis=1)
    fn = lambda zy: decode(static, variables, zy[:, :-1], zy[:, -1].astype(jnp.int32))
    return _in_batches(fn, both, size)
  return _in_batches(lambda z: decode(static, variables, z, None), codes, size)


def _image_scores(prefix: str, real_feats, real_probs, fake_feats, fake_probs, seed) -> dict:
  from latentjax import metrics

  n = min(len(real_feats), len(fake_feats))
  out = metrics.sample_quality(real_feats, fake_feats, nearest_k=min(5, n - 1),
                               kid_subset_size=min(1000, n), seed=seed,
                               kid_normalize=True)  # classifier features: RMS ~6
  head = next(iter(fake_probs))
  probs = fake_probs[head]
  pred = np.argmax(probs, -1)
  ref = np.argmax(real_probs[head], -1)
  out.update(metrics.class_coverage(pred, probs.shape[1], reference_labels=ref))
  out.update(metrics.inception_score(probs, num_splits=min(10, max(1, len(probs) // 50))))
  out["classifier_head"] = head
  return {f"{prefix}_{k}": v for k, v in out.items()}


def _latent_scores(run, key: Array, real: dict, feature_net) -> dict:
  from latentjax import metrics

  exp = run.exp
  size = exp.cfg.data.eval_batch_size
  x = real[exp.spec.input_key]
  encode = lambda v: run.family_impl.encode(run, v, None)
  test_codes = _in_batches(encode, x, size)
  test_labels = _label_sets(exp, real)
  out = {}
  if test_labels:
    train = _eval_data(run, len(x), exp.train_split)
    train_codes = _in_batches(encode, train[exp.spec.input_key], size)
    train_labels = _label_sets(exp, train)
    for name, y in test_labels.items():
      if len(np.unique(train_labels[name])) < 2:
        continue
      out[f"probe_accuracy_{name}"] = metrics.linear_probe_accuracy(
          train_codes, train_labels[name], test_codes, y)
    name = "label" if "label" in test_labels else next(iter(test_labels))
    scores = metrics.cluster_scores(jax.random.fold_in(key, _CLUSTER), test_codes,
                                    test_labels[name])
    out.update({f"cluster_{k}_{name}": v for k, v in scores.items()})
  out["_codes"] = test_codes
  return out


def _decoder_scores(run, key: Array, feature_net, codes: np.ndarray | None) -> dict:
  """PPL of any run that decodes codes; the geodesic ratio between pairs of test codes."""
  from latentjax import metrics

  exp = run.exp
  decoder = run.decoder_fn()
  feature_fn = None if feature_net is None or not _image_data(exp) else feature_net.feature_fn
  ppl = metrics.perceptual_path_length(
      jax.random.fold_in(key, _PPL), decoder, feature_fn,
      lambda k, n: run.sample_codes(k, n), num_samples=exp.cfg.eval.num_quality_samples)
  out = {"ppl": ppl["ppl_mean"],
         "ppl_features": "feature network" if feature_fn is not None else "data"}
  pairs = 0 if codes is None else min(exp.cfg.eval.num_geodesic_pairs, len(codes) // 2)
  if pairs:
    z = jnp.asarray(codes[: 2 * pairs])
    out["geodesic_ratio"] = metrics.geodesic_length_ratio(
        decoder, z[:pairs], z[pairs:], num_steps=exp.cfg.eval.num_geodesic_steps)["ratio_mean"]
  return out


def bound_sample_counts(max_k: int) -> tuple[int, ...]:
  """The k of the IWAE-k sweep: 1, 10, 100, ... below ``max_k``, and ``max_k`` itself."""
  ks, k = {max_k}, 1
  while k < max_k:
    ks.add(k)
    k *= 10
  return tuple(sorted(ks))


def _bounds(run, key: Array) -> dict:
  """ELBO and IWAE-k (`bound_sample_counts`) over the evaluation split, nats and bits/dim."""
  from latentjax import metrics
  from latentjax.training._evaluate import _BINARIZE_TAG, binarized, eval_batches

  exp = run.exp
  binarize_key = jax.random.fold_in(jax.random.fold_in(key, EVAL_KEY), _BINARIZE_TAG)

  def batches():
    count = 0
    for batch in eval_batches(exp, exp.eval_split, exp.cfg.eval.num_examples):
      if exp.cfg.objective.binarize:
        batch = binarized(exp, batch, binarize_key, first_index=count)
      count += len(batch[exp.spec.input_key])
      yield batch

  variables = run.variables
  model, obj, label = exp.model, exp.cfg.objective, exp.label_key
  encode = lambda x, *y: model.apply(variables, x, *(y or (None,)), method="encode")
  decode = lambda z, *y: model.apply(variables, z, *(y or (None,)), method="decode")
  out = metrics.likelihood_bounds(
      encode, decode, batches(), jax.random.fold_in(key, _BOUNDS),
      num_samples=bound_sample_counts(exp.cfg.eval.num_iwae_samples), likelihood=obj.likelihood,
      gaussian_scale=obj.gaussian_scale, input_key=exp.spec.input_key, label_key=label)
  out["bounds_num_examples"] = out.pop("num_examples")
  out.pop("input_dims", None)
  return out


def _disentanglement(run) -> dict:
  from latentjax import metrics

  exp = run.exp
  name = exp.cfg.data.name
  if name.split("/")[0] != "sprites" or not run.family_impl.has_encoder:
    return {}
  config = name.split("/")[1] if "/" in name else "64"
  sampler = metrics.sprites_sampler(config, resolution=exp.spec.input_shape[0])
  size = exp.cfg.data.eval_batch_size
  encode = lambda v: run.family_impl.encode(run, v, None)
  rep = lambda images: _in_batches(encode, np.asarray(images, np.float32), size)
  n, m = exp.cfg.eval.num_disentanglement_points, exp.cfg.eval.num_intervention_points
  out = metrics.disentanglement_scores(rep, sampler, seed=exp.cfg.seed, num_train=n,
                                       num_test=max(2, n // 2), num_intervention_train=m,
                                       num_intervention_eval=max(2, m // 2))
  return {k: v for k, v in out.items()}


def quality_metrics(run, key: Array, feature_net=None, *, latent: bool = True,
                    disentanglement: bool = True, bounds: bool = True) -> dict:
  """The metrics of the module docstring that apply to ``run``.

  Args:
    run: a ``Run`` (from ``load_run``, or built around a training state).
    key: the run's base key (purposes are folded in).
    feature_net: a ``metrics.FeatureNetwork`` for the run's dataset, or None (then no
      feature metrics, and PPL in pixels).
    latent: also the latent-space metrics (probe, clusters, PPL, geodesic ratio).
    disentanglement: also the disentanglement metrics (``sprites`` only).
    bounds: also the IWAE-k sweep (VAEs).

  Returns:
    A flat dict of floats (and a few descriptive strings), JSON-ready.
  """
  exp = run.exp
  if exp.family == "classifier":
    return {}
  out = _bounds(run, key) if bounds and exp.is_variational else {}
  key = jax.random.fold_in(key, EVAL_KEY)
  n = exp.cfg.eval.num_quality_samples
  needs_data = (feature_net is not None and _image_data(exp)) or (
      latent and run.family_impl.has_encoder)
  real = _eval_data(run, n) if needs_data else None
  if feature_net is not None and _image_data(exp):
    x = real[exp.spec.input_key]
    rf, rp = feature_net.features_and_probabilities(x)
    out["quality_num_examples"] = len(x)
    if _can_sample(run):
      fake = generated_images(run, jax.random.fold_in(key, _SAMPLES), len(x))
      ff, fp = feature_net.features_and_probabilities(fake)
      out.update(_image_scores("samples", rf, rp, ff, fp, exp.cfg.seed))
      if run.conditional and exp.spec.num_classes:  # samples drawn for classes in turn
        requested = np.arange(len(fake)) % exp.spec.num_classes
        predicted = np.argmax(next(iter(fp.values())), -1)
        out["samples_label_accuracy"] = float(np.mean(predicted == requested))
    if run.family_impl.has_encoder and _can_sample(run):
      recon = _reconstructions(run, real, exp.cfg.data.eval_batch_size)
      ff, fp = feature_net.features_and_probabilities(recon)
      out.update(_image_scores("recon", rf, rp, ff, fp, exp.cfg.seed))
    out["feature_network"] = feature_net.workdir
  if latent and not run.conditional:
    codes = None
    if run.family_impl.has_encoder and real is not None:
      scores = _latent_scores(run, key, real, feature_net)
      codes = scores.pop("_codes")
      out.update(scores)
    if _can_sample(run) and run.family_impl.latent_geometry:
      out.update(_decoder_scores(run, key, feature_net, codes))
  if disentanglement and not run.conditional:
    out.update(_disentanglement(run))
  return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
          for k, v in out.items()}
