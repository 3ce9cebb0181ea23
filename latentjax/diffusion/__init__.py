"""Diffusion maths: noise schedules, the forward process, samplers and inversion.

Pure JAX functions of a :class:`Schedule` (a pytree) and a noise-prediction model given as
any callable ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]``; no networks and no
training loop. Samplers and inversions are compiled loops (``lax.scan``), compiled once per
model structure, input shape and step count::

    from latentjax import diffusion

    s = diffusion.linear_schedule(1000)                       # or cosine_schedule(1000)
    x_t = diffusion.q_sample(s, x0, t, noise)
    loss, per_example = diffusion.diffusion_loss(s, predict_fn, x0, key, prediction="eps")

    eps_fn = functools.partial(unet.apply, params)
    x0 = diffusion.ddim_sample(s, eps_fn, x_T, num_steps=50)   # t = 980, 960, ..., 0
    x0 = diffusion.ddpm_sample(s, eps_fn, x_T, key)
    states = diffusion.ddim_trajectory(s, eps_fn, x_T, 50)     # [51, B, ...], noise first
    x0 = diffusion.dpm_solver_pp_2m_sample(s, eps_fn, x_T, num_steps=20)

    guided = diffusion.guided_eps_fn(eps_cond_fn, guidance_scale=3.0, null_label=10)
    x0 = diffusion.ddim_sample(s, diffusion.bind_labels(guided, labels), x_T, 50)

    z = diffusion.ddim_invert(s, eps_fn, x0, num_steps=50)    # same grid, reversed
    pair = diffusion.exact_invert(s, eps_fn, x0, num_steps=50)   # EDICT, exact round trip
    z, losses = diffusion.optimize_noise(s, eps_fn, x0, 20, num_iters=100)
"""

from latentjax.diffusion._forward import (
    diffusion_loss,
    eps_to_x0,
    q_sample,
    v_target,
    v_to_eps,
    v_to_x0,
    x0_to_eps,
)
from latentjax.diffusion._guidance import bind_labels, guided_eps_fn
from latentjax.diffusion._inversion import ddim_invert, exact_invert, exact_sample, optimize_noise
from latentjax.diffusion._samplers import (
    ddim_sample,
    ddim_step,
    ddim_trajectory,
    ddpm_sample,
    dpm_solver_pp_2m_sample,
)
from latentjax.diffusion._schedules import (
    Schedule,
    cosine_schedule,
    linear_schedule,
    timesteps,
)

__all__ = [
    "Schedule",
    "bind_labels",
    "cosine_schedule",
    "ddim_invert",
    "ddim_sample",
    "ddim_step",
    "ddim_trajectory",
    "ddpm_sample",
    "diffusion_loss",
    "dpm_solver_pp_2m_sample",
    "eps_to_x0",
    "exact_invert",
    "exact_sample",
    "guided_eps_fn",
    "linear_schedule",
    "optimize_noise",
    "q_sample",
    "timesteps",
    "v_target",
    "v_to_eps",
    "v_to_x0",
    "x0_to_eps",
]
