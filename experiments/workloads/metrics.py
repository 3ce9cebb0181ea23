"""The ``metrics`` benchmark workload: PRDC and FID on large random feature sets.

For each feature width, real and fake sets of ``num_points`` float32 features each are
drawn (standard normal; the fake set shifted by ``fake_shift`` in every coordinate), and
``metrics.prdc`` and ``metrics.fid_from_features`` are timed once each (compilation
included: every set size is a new program). Memory is reported as the process's peak
resident set (``resource.getrusage``'s high-water mark, which only grows: a stage's own
peak shows where it raises the figure), the largest block PRDC holds at a time
(``chunk_size`` rows against all points, float32) and, on accelerators, the device's
peak bytes in use. A full N x N distance matrix in float64 would take N * N * 8 bytes
(20 GB for 50,000 points); PRDC never allocates one.
"""

import resource
import time


def peak_host_memory_mib() -> float:
  """The process's peak resident set so far (Linux ru_maxrss is in KiB)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _device_peak_mib():
  import jax

  stats = jax.devices()[0].memory_stats() or {}
  peak = stats.get("peak_bytes_in_use")
  return None if peak is None else peak / 2**20


def feature_sets(num_points: int, width: int, fake_shift: float, seed: int):
  """``(real, fake)``: [num_points, width] float32 standard normal, fake shifted."""
  import numpy as np

  rng = np.random.default_rng(seed)
  real = rng.standard_normal((num_points, width), dtype=np.float32)
  fake = rng.standard_normal((num_points, width), dtype=np.float32)
  fake += np.float32(fake_shift)
  return real, fake


def metrics_workload(config) -> dict:
  """Wall time and peak memory of ``prdc`` and ``fid_from_features`` per feature width."""
  from latentjax import metrics

  n = int(config.num_points)
  out = {
      "num_points": n, "nearest_k": config.nearest_k, "chunk_size": config.chunk_size,
      "full_distance_matrix_gb": n * n * 8 / 1e9,
      "memory_note": (f"a full {n}x{n} float64 distance matrix would be {n}*{n}*8 B = "
                      f"{n * n * 8 / 1e9:.3g} GB; prdc holds one "
                      f"{min(config.chunk_size, n)}x{n} float32 block at a time"),
      "prdc_block_mib": min(config.chunk_size, n) * n * 4 / 2**20,
  }
  for width in config.widths:
    real, fake = feature_sets(n, width, config.fake_shift, config.seed)
    tag = f"w{width}"
    out[f"{tag}_features_mib"] = 2 * real.nbytes / 2**20
    out[f"{tag}_rss_before_mib"] = peak_host_memory_mib()

    start = time.perf_counter()
    res = metrics.prdc(real, fake, config.nearest_k, chunk_size=config.chunk_size)
    out[f"{tag}_prdc_s"] = time.perf_counter() - start
    out[f"{tag}_prdc_peak_rss_mib"] = peak_host_memory_mib()
    for key, value in res.items():
      out[f"{tag}_{key}"] = value

    start = time.perf_counter()
    out[f"{tag}_fid"] = metrics.fid_from_features(real, fake)
    out[f"{tag}_fid_s"] = time.perf_counter() - start
    out[f"{tag}_fid_peak_rss_mib"] = peak_host_memory_mib()
    del real, fake
  device_peak = _device_peak_mib()
  if device_peak is not None:
    out["device_peak_mib"] = device_peak
  out["peak_host_memory_mib"] = peak_host_memory_mib()
  return out
