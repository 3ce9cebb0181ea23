"""keep_freed_host_memory: steps stop faulting their temporary buffers in afresh.

The effect is measured as page faults (not time) in fresh subprocesses running the
benchmark's ``convvae32`` training step, whose temporary buffer (56 MB) is above glibc's
largest mmap threshold.
"""

import json
import subprocess
import sys

import pytest

from latentjax import training

_PROBE = r"""
import json, resource, sys
from latentjax import training
applied = training.keep_freed_host_memory() if sys.argv[1] == "keep" else None
import jax
from configs import bench_convvae32
from experiments import _bench_models
compiled, state, batch, key, *_ = _bench_models._convvae32_step(bench_convvae32.get_config(),
                                                                "fast")
for _ in range(3):
  state, _m = compiled(state, batch, key)
jax.block_until_ready(state)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
  state, _m = compiled(state, batch, key)
jax.block_until_ready(state)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
temp = compiled.memory_analysis().temp_size_in_bytes
print(json.dumps({"applied": applied, "faults_per_call": faults, "temp_bytes": temp}))
"""


def _probe(mode):
  out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True,
                       check=True, timeout=300)
  return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_steps_reuse_their_temporary_buffer_once_freed_memory_is_kept():
  default, kept = _probe("default"), _probe("keep")
  assert kept["applied"] is True
  assert default["temp_bytes"] > 48 * 2**20  # above glibc's largest mmap threshold
  pages = default["temp_bytes"] / 4096
  assert default["faults_per_call"] > 0.5 * pages  # the buffer faults in on every call
  assert kept["faults_per_call"] < 0.05 * default["faults_per_call"]


def test_keep_freed_host_memory_is_idempotent():
  first = training.keep_freed_host_memory()
  assert training.keep_freed_host_memory() == first
  assert first == sys.platform.startswith("linux")
