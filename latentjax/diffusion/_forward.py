"""The forward (noising) process, the parameterisations of the model and the training loss.

With ``a = alphas_cumprod[t]``, ``x_t = sqrt(a) x0 + sqrt(1 - a) eps`` (Ho et al., 2020), and
the velocity ``v = sqrt(a) eps - sqrt(1 - a) x0`` (Salimans & Ho, 2022). A model predicts
one of ``eps``, ``v`` or ``x0``; the conversions below map between them given ``x_t``::

    x_t = diffusion.q_sample(s, x0, t, noise)
    x0_hat = diffusion.eps_to_x0(s, x_t, t, eps_hat)
    loss, per_example = diffusion.diffusion_loss(s, predict_fn, x0, key, prediction="v")

``t`` is an int scalar or ``[B]``, broadcast over the trailing axes of ``[B, ...]`` arrays.
All functions are pure and jit-compatible; shape checks run at trace time.
"""

import jax
import jax.numpy as jnp

from latentjax.diffusion import _checks as c
from latentjax.diffusion import _schedules as sch
from latentjax.latent_ops import _validation as v

PREDICTIONS = ("eps", "v", "x0")


def per_example(values, x):
  """Reshapes a scalar or ``[B]`` array to broadcast against ``x: [B, ...]`` explicitly."""
  values = values.astype(x.dtype)
  if values.ndim == 0:
    return values
  return values.reshape(values.shape + (1,) * (x.ndim - 1))


def _coefficients(s, t, x):
  a, one_minus_a = sch.levels(s, t)
  return per_example(jnp.sqrt(a), x), per_example(jnp.sqrt(one_minus_a), x)


def _prepare(s, x, t, name="x_t"):
  sch.check_schedule(s)
  x = c.check_batch(name, x)
  t = c.check_timestep("t", t, s.num_timesteps, x.shape[0])
  return x, t


def q_sample(s, x0, t, noise):
  """Samples the forward process: ``sqrt(a_t) x0 + sqrt(1 - a_t) noise``.

  Args:
    s: the :class:`Schedule`.
    x0: [B, ...] float, clean data.
    t: int scalar or [B] int, timesteps in ``[0, T - 1]``.
    noise: [B, ...] float standard normal draws, the shape of ``x0``.

  Returns:
    [B, ...] noisy data ``x_t``.

  Raises:
    ValueError: on mismatched shapes, ``t`` out of range (when concrete), non-finite input.
    TypeError: if ``s`` is not a Schedule or ``t`` is not an integer.

  Example:
    >>> x_t = q_sample(s, x0, jnp.full((x0.shape[0],), 500), jax.random.normal(key, x0.shape))
  """
  x0, t = _prepare(s, x0, t, "x0")
  v.check_same_shape("noise", noise, "x0", x0)
  sqrt_a, sqrt_1ma = _coefficients(s, t, x0)
  return sqrt_a * x0 + sqrt_1ma * jnp.asarray(noise, x0.dtype)


def v_target(s, x0, t, noise):
  """The velocity ``v = sqrt(a_t) noise - sqrt(1 - a_t) x0`` (Salimans & Ho, 2022).

  Args:
    s: the :class:`Schedule`.
    x0: [B, ...] clean data.
    t: int scalar or [B] timesteps.
    noise: [B, ...] the noise of ``x_t = q_sample(s, x0, t, noise)``.

  Returns:
    [B, ...] the regression target of a v-prediction model.

  Raises:
    ValueError: as :func:`q_sample`.

  Example:
    >>> v = v_target(s, x0, t, noise)
  """
  x0, t = _prepare(s, x0, t, "x0")
  v.check_same_shape("noise", noise, "x0", x0)
  sqrt_a, sqrt_1ma = _coefficients(s, t, x0)
  return sqrt_a * jnp.asarray(noise, x0.dtype) - sqrt_1ma * x0


def eps_to_x0(s, x_t, t, eps):
  """The clean image implied by a noise prediction: ``(x_t - sqrt(1 - a_t) eps) / sqrt(a_t)``.

  Args:
    s: the :class:`Schedule`.
    x_t: [B, ...] noisy data at ``t``.
    t: int scalar or [B] timesteps.
    eps: [B, ...] predicted noise.

  Returns:
    [B, ...] predicted ``x0``.

  Raises:
    ValueError: on mismatched shapes or ``t`` out of range.

  Example:
    >>> x0_hat = eps_to_x0(s, x_t, t, eps_fn(x_t, t))
  """
  x_t, t = _prepare(s, x_t, t)
  v.check_same_shape("eps", eps, "x_t", x_t)
  sqrt_a, sqrt_1ma = _coefficients(s, t, x_t)
  return (x_t - sqrt_1ma * eps) / sqrt_a


def x0_to_eps(s, x_t, t, x0):
  """The noise implied by a clean-image prediction: ``(x_t - sqrt(a_t) x0) / sqrt(1 - a_t)``.

  Args:
    s: the :class:`Schedule`.
    x_t: [B, ...] noisy data at ``t``.
    t: int scalar or [B] timesteps.
    x0: [B, ...] predicted clean data.

  Returns:
    [B, ...] the implied ``eps``.

  Raises:
    ValueError: on mismatched shapes or ``t`` out of range.

  Example:
    >>> eps = x0_to_eps(s, x_t, t, x0_hat)
  """
  x_t, t = _prepare(s, x_t, t)
  v.check_same_shape("x0", x0, "x_t", x_t)
  sqrt_a, sqrt_1ma = _coefficients(s, t, x_t)
  return (x_t - sqrt_a * x0) / sqrt_1ma


def v_to_eps(s, x_t, t, v_pred):
  """The noise implied by a velocity prediction: ``sqrt(a_t) v + sqrt(1 - a_t) x_t``.

  Args:
    s: the :class:`Schedule`.
    x_t: [B, ...] noisy data at ``t``.
    t: int scalar or [B] timesteps.
    v_pred: [B, ...] predicted velocity.

  Returns:
    [B, ...] the implied ``eps``.

  Raises:
    ValueError: on mismatched shapes or ``t`` out of range.

  Example:
    >>> eps_fn = lambda x, t: v_to_eps(s, x, t, v_model(x, t))
  """
  x_t, t = _prepare(s, x_t, t)
  v.check_same_shape("v_pred", v_pred, "x_t", x_t)
  sqrt_a, sqrt_1ma = _coefficients(s, t, x_t)
  return sqrt_a * v_pred + sqrt_1ma * x_t


def v_to_x0(s, x_t, t, v_pred):
  """The clean image implied by a velocity prediction: ``sqrt(a_t) x_t - sqrt(1 - a_t) v``.

  Args:
    s: the :class:`Schedule`.
    x_t: [B, ...] noisy data at ``t``.
    t: int scalar or [B] timesteps.
    v_pred: [B, ...] predicted velocity.

  Returns:
    [B, ...] predicted ``x0``.

  Raises:
    ValueError: on mismatched shapes or ``t`` out of range.

  Example:
    >>> x0_hat = v_to_x0(s, x_t, t, v_model(x_t, t))
  """
  x_t, t = _prepare(s, x_t, t)
  v.check_same_shape("v_pred", v_pred, "x_t", x_t)
  sqrt_a, sqrt_1ma = _coefficients(s, t, x_t)
  return sqrt_a * x_t - sqrt_1ma * v_pred


def diffusion_loss(s, predict_fn, x0, key, *, prediction="eps", labels=None):
  """Mean squared error of a model's prediction at uniformly drawn timesteps.

  Draws ``t ~ U{0, ..., T - 1}`` and ``noise ~ N(0, I)`` per example, forms
  ``x_t = q_sample(s, x0, t, noise)`` and regresses ``predict_fn(x_t, t)`` (or
  ``predict_fn(x_t, t, labels)``) on the target: ``noise`` for ``"eps"`` (Ho et al., 2020's
  simple loss), :func:`v_target` for ``"v"``, ``x0`` for ``"x0"``.

  Args:
    s: the :class:`Schedule`.
    predict_fn: ``predict_fn(x_t [B, ...], t [B] int32) -> [B, ...]``, or with a third
      argument ``labels`` when ``labels`` is given (a bound ``model.apply``, a lambda).
    x0: [B, ...] float, clean data.
    key: PRNG key for ``t`` and the noise.
    prediction: ``"eps"``, ``"v"`` or ``"x0"``, what ``predict_fn`` outputs.
    labels: optional [B, ...] conditioning passed through to ``predict_fn``.

  Returns:
    ``(loss, per_example)``: the scalar mean and the [B] mean over each example's entries.

  Raises:
    ValueError: bad ``prediction``, ``labels`` not of batch size B, a prediction of the
      wrong shape, non-finite ``x0``.
    TypeError: if ``predict_fn`` is not callable or ``s`` not a Schedule.

  Example:
    >>> loss_fn = lambda p, x, k: diffusion_loss(s, functools.partial(unet.apply, p), x, k)
    >>> (loss, per_example), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, x, key)
  """
  sch.check_schedule(s)
  c.check_callable("predict_fn", predict_fn, "predict_fn(x_t, t) -> prediction")
  x0 = c.check_batch("x0", x0)
  v.check_choice("prediction", prediction, PREDICTIONS)
  key = c.check_key("key", key)
  batch = x0.shape[0]
  if labels is not None and (jnp.ndim(labels) < 1 or jnp.shape(labels)[0] != batch):
    raise ValueError(f"`labels` must be [B, ...] with B = {batch} (the batch of `x0`), got "
                     f"shape {tuple(jnp.shape(labels))}")
  key_t, key_noise = jax.random.split(key)
  t = jax.random.randint(key_t, (batch,), 0, s.num_timesteps, dtype=jnp.int32)
  noise = jax.random.normal(key_noise, x0.shape, x0.dtype)
  sqrt_a, sqrt_1ma = _coefficients(s, t, x0)
  x_t = sqrt_a * x0 + sqrt_1ma * noise
  pred = predict_fn(x_t, t) if labels is None else predict_fn(x_t, t, labels)
  c.check_output("predict_fn", pred, x0)
  if prediction == "eps":
    target = noise
  elif prediction == "v":
    target = sqrt_a * noise - sqrt_1ma * x0
  else:
    target = x0
  err = jnp.square(pred - jax.lax.stop_gradient(target))
  per_ex = jnp.mean(err.reshape((batch, -1)), axis=1)
  return jnp.mean(per_ex), per_ex
