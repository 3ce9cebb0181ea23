"""Runs many entry-point command lines, each in its own process, for the cost of one start.

    python -m tests._entry_points CASES.json RESULTS.json

``CASES.json`` is a list of ``[module, [args...]]``. This process imports what every
entry point imports (JAX, TensorFlow, flax, orbax, latentjax, absl) once, without
starting a JAX backend, then forks one child per case. A child is a new process: it runs
``python -m module args`` through ``runpy`` with its own absl flags, its own stdout and
stderr (files) and its own exit status, and starts its own JAX backend if it needs one.
What it does not repeat is the interpreter start and those imports (about 5 s each).

``RESULTS.json`` is a list of ``{"returncode", "stdout", "stderr"}``, one per case. A
child ends with ``os._exit``, so ``atexit`` handlers do not run: use it for command
lines that stop early (errors, help), not for ones whose output files matter.
"""

import json
import os
import runpy
import sys
import tempfile
import traceback


def _child(module: str, args: list[str], out: int, err: int) -> None:
  os.dup2(out, 1)
  os.dup2(err, 2)
  sys.argv = [module, *args]
  code = 0
  try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
  except SystemExit as e:
    if isinstance(e.code, str):
      print(e.code, file=sys.stderr)
      code = 1
    else:
      code = 0 if e.code is None else int(e.code)
  except BaseException:  # noqa: BLE001 - as the interpreter reports an uncaught error
    traceback.print_exc()
    code = 1
  finally:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run(module: str, args: list[str], folder: str) -> dict:
  out_path, err_path = os.path.join(folder, "out"), os.path.join(folder, "err")
  out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
  err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
  pid = os.fork()
  if pid == 0:
    _child(module, args, out, err)
  os.close(out)
  os.close(err)
  _, status = os.waitpid(pid, 0)
  with open(out_path) as f_out, open(err_path) as f_err:
    return {"returncode": os.waitstatus_to_exitcode(status), "stdout": f_out.read(),
            "stderr": f_err.read()}


def main(cases_path: str, results_path: str) -> None:
  # What the entry points import, imported once; no backend is started (a child does).
  import absl.app  # noqa: F401
  import flax.linen  # noqa: F401
  import jax  # noqa: F401
  import ml_collections.config_flags  # noqa: F401
  import optax  # noqa: F401
  import orbax.checkpoint  # noqa: F401
  import tensorflow  # noqa: F401
  import tensorflow_datasets  # noqa: F401

  import configs  # noqa: F401
  import latentjax.data  # noqa: F401
  import latentjax.training  # noqa: F401
  from experiments import _cli  # noqa: F401

  with open(cases_path) as f:
    cases = json.load(f)
  results = []
  with tempfile.TemporaryDirectory() as folder:
    for module, args in cases:
      results.append(_run(module, list(args), folder))
  with open(results_path, "w") as f:
    json.dump(results, f)


if __name__ == "__main__":
  main(*sys.argv[1:3])
