"""The ``convlayers`` micro-benchmark: single convolution layers of ``convvae32``.

For each layer of the conv VAE (the encoder's 4x4 stride-2 convolutions and the
decoder's 4x4 stride-2 "SAME" transposed convolutions, at the benchmark's batch) and
each convolution implementation ("xla", "fast"), times the forward pass, the input
gradient and the weight gradient separately and reports GFLOP/s of each (2 FLOPs per
multiply-add of the layer). The implementations are timed alternately, round after
round, and each figure is the fastest round: on a shared machine the least disturbed
run is the one that says what the code can do.
"""

import functools
import math
import time


def conv_layer_shapes(input_shape, channels) -> list[dict]:
  """The convvae32 layers: name, kind ("conv" | "transpose"), input [H, W, C] and features."""
  h, w, c = input_shape
  layers, cin = [], c
  for i, cout in enumerate(channels):
    layers.append({"name": f"conv_{i}", "kind": "conv", "input": (h, w, cin), "features": cout})
    h, w, cin = math.ceil(h / 2), math.ceil(w / 2), cout
  for i, cout in enumerate([*channels[::-1][1:], c]):
    layers.append({"name": f"deconv_{i}", "kind": "transpose", "input": (h, w, cin),
                   "features": cout})
    h, w, cin = 2 * h, 2 * w, cout
  return layers


def _layer_fns(kind, conv_impl, strides, padding):
  import jax
  from jax import lax

  from latentjax import models

  dn = ("NHWC", "HWIO", "NHWC")
  if kind == "conv":
    conv = models.conv_general_dilated_fn(conv_impl)
    apply = lambda x, w: conv(x, w, strides, padding, dimension_numbers=dn)
  else:
    conv_t = models.conv_transpose_fast if conv_impl == "fast" else lax.conv_transpose
    apply = lambda x, w: conv_t(x, w, strides, padding, dimension_numbers=dn)
  jit = functools.partial(jax.jit,
                          compiler_options=models.conv_compiler_options(conv_impl))
  forward = jit(lambda x, w, dy: apply(x, w))
  input_grad = jit(lambda x, w, dy: jax.vjp(lambda v: apply(v, w), x)[1](dy)[0])
  weight_grad = jit(lambda x, w, dy: jax.vjp(lambda v: apply(x, v), w)[1](dy)[0])
  return {"forward": forward, "input_grad": input_grad, "weight_grad": weight_grad}


def _fastest_alternating(fns: dict, args, rounds: int, calls: int) -> dict:
  """Fastest per-call seconds of each ``fns[name](*args)``, timed in alternation."""
  import jax

  for fn in fns.values():
    jax.block_until_ready(fn(*args))
  best = {name: math.inf for name in fns}
  for _ in range(rounds):
    for name, fn in fns.items():
      start = time.perf_counter()
      for _ in range(calls):
        out = fn(*args)
      jax.block_until_ready(out)
      best[name] = min(best[name], (time.perf_counter() - start) / calls)
  return best


def convlayers_workload(config) -> dict:
  """GFLOP/s of forward, input and weight gradient per layer and implementation."""
  import jax
  import jax.numpy as jnp

  from latentjax import models

  impls = tuple(models.resolve_conv_impl(i) for i in config.conv_impls)
  if len(set(impls)) != len(impls):
    raise ValueError(f"`conv_impls` {tuple(config.conv_impls)} name one implementation twice")
  strides, kernel = (2, 2), (4, 4)
  out = {"batch_size": config.batch_size, "conv_impls": ",".join(impls)}
  totals = {impl: 0.0 for impl in impls}
  total_flops = 0.0
  key = jax.random.PRNGKey(0)
  for layer in conv_layer_shapes(tuple(config.input_shape), tuple(config.channels)):
    h, w, c = layer["input"]
    o = layer["features"]
    kx, kw, kd = jax.random.split(jax.random.fold_in(key, len(out)), 3)
    x = jax.random.normal(kx, (config.batch_size, h, w, c), jnp.dtype(config.dtype))
    wgt = 0.1 * jax.random.normal(kw, (*kernel, c, o), jnp.dtype(config.dtype))
    fns = {impl: _layer_fns(layer["kind"], impl, strides, "SAME") for impl in impls}
    y = fns[impls[0]]["forward"](x, wgt, None)
    dy = jax.random.normal(kd, y.shape, y.dtype)
    # Multiply-adds: per output pixel of a convolution, per input pixel of a transposed
    # one (as BENCHMARKS.md counts them): k*k*C*O each.
    pixels = y.shape[1] * y.shape[2] if layer["kind"] == "conv" else h * w
    flops = 2.0 * config.batch_size * pixels * kernel[0] * kernel[1] * c * o
    for part in ("forward", "input_grad", "weight_grad"):
      seconds = _fastest_alternating({impl: fns[impl][part] for impl in impls},
                                     (x, wgt, dy), config.rounds, config.calls)
      for impl in impls:
        out[f"{layer['name']}_{part}_{impl}_gflops"] = flops / seconds[impl] / 1e9
        totals[impl] += seconds[impl]
      total_flops += flops
      if len(impls) > 1:
        out[f"{layer['name']}_{part}_{impls[-1]}_over_{impls[0]}"] = (
            seconds[impls[0]] / seconds[impls[-1]])
  for impl in impls:
    out[f"all_layers_{impl}_gflops"] = total_flops / totals[impl] / 1e9
    out[f"all_layers_{impl}_ms"] = 1e3 * totals[impl]
  if len(impls) > 1:
    out[f"all_layers_{impls[-1]}_over_{impls[0]}"] = totals[impls[0]] / totals[impls[-1]]
  out["rounds"] = int(config.rounds)
  return out
