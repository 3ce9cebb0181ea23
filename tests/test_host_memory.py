"""keep_freed_host_memory: steps stop faulting their temporary buffers in afresh.

The effect is measured as page faults (not time) in fresh subprocesses, each running a
small compiled program whose temporary buffer is above glibc's largest mmap threshold
(32 MB): on one device (128 MB, also above the 64 MB bound of a thread's heap) and as a
computation sharded over two devices (50 MB each, allocated on XLA's worker threads).
Faults are counted per call, once every thread has run the program a few times.
"""

import json
import statistics
import subprocess
import sys

import pytest

from latentjax import training

_PROBE = r"""
import json, resource, sys
from latentjax import training
mode, case = sys.argv[1:]
applied = training.keep_freed_host_memory() if mode == "keep" else None
import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec

def program(x, w, v):
  return (jnp.tanh(x @ w) @ v)[..., 0]  # tanh(x @ w): [rows, 4096], the temporary buffer

keys = jax.random.split(jax.random.PRNGKey(0), 3)
if case == "one_device":
  shapes, fn, sharding = ((8192, 8), (8, 4096), (4096, 1)), program, None
else:
  shapes, fn = ((2, 3072, 8), (2, 8, 4096), (2, 4096, 1)), jax.vmap(program)
  sharding = NamedSharding(Mesh(jax.devices()[:2], ("d",)), PartitionSpec("d"))
args = [jax.device_put(jax.random.normal(k, s), sharding) for k, s in zip(keys, shapes)]
compiled = jax.jit(fn).lower(*args).compile()
faults = []
for _ in range(16):
  before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
  jax.block_until_ready(compiled(*args))
  faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
temp = compiled.memory_analysis().temp_size_in_bytes
print(json.dumps({"applied": applied, "faults": faults[6:], "temp_bytes": temp}))
"""


def _probe(mode, case):
  out = subprocess.run([sys.executable, "-c", _PROBE, mode, case], capture_output=True,
                       text=True, check=True, timeout=300)
  return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("case, devices", [("one_device", 1), ("two_devices", 2)])
def test_calls_reuse_their_temporary_buffer_once_freed_memory_is_kept(case, devices):
  default, kept = _probe("default", case), _probe("keep", case)
  assert kept["applied"] is True
  assert default["temp_bytes"] > 48 * 2**20  # above glibc's largest mmap threshold
  pages = devices * default["temp_bytes"] / 4096
  assert statistics.median(default["faults"]) > 0.9 * pages  # faulted in on every call
  assert statistics.median(kept["faults"]) < 0.01 * pages, kept["faults"]


def test_keep_freed_host_memory_is_idempotent():
  first = training.keep_freed_host_memory()
  assert training.keep_freed_host_memory() == first
  assert first == sys.platform.startswith("linux")
  import jax

  assert jax.config.read("jax_cpu_enable_async_dispatch") is False
