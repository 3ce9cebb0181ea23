"""What every entry point shares: quiet TensorFlow, and clean exits for user errors.

A user error (bad flag or config override, missing config file, bad config value,
missing dataset, damaged run, non-finite loss, a workdir another training holds, a
checkpoint that does not fit on the disk) ends the program with one
``error: <message>`` line on stderr and exit status 1, not a traceback; anything else
is a bug and keeps its traceback.

    if __name__ == "__main__":
      _cli.main(main)          # instead of absl's app.run(main)
"""

import ast
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow only runs the input pipeline here; its oneDNN banner (printed twice, before
# its log level applies) announces kernels the pipeline does not use.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

_TRACEBACK = "Traceback (most recent call last)"


def quiet_logs() -> None:
  """Keeps absl INFO chatter (orbax, TFDS) off the console unless --verbosity is given."""
  from absl import flags, logging

  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)


def is_user_error(e: BaseException) -> bool:
  """Whether ``e`` is a user error (bad config, missing dataset, damaged run, NaN loss,
  workdir in use, full disk).

  The dataset error is looked up only when ``latentjax.data`` is already imported (it
  imports TensorFlow; an error raised from it has imported it), so a config error found
  before any data is read exits without that start-up.
  """
  from latentjax.training import (
      CheckpointError,
      ConfigError,
      NonFiniteLossError,
      WorkdirInUseError,
  )

  if isinstance(e, (ConfigError, NonFiniteLossError, CheckpointError, WorkdirInUseError,
                    FileNotFoundError)):
    return True
  data = sys.modules.get("latentjax.data")
  return data is not None and isinstance(e, data.DatasetNotAvailableError)


def joins_multi_process_run(multihost: bool, coordinator_address: str | None,
                            num_processes: int | None, process_id: int | None) -> bool:
  """Whether the process flags ask for a multi-process run (``jax.distributed``).

  ``--multihost`` alone asks for one with the address, count and index auto-detected
  (Cloud TPU VMs, SLURM, Open MPI); any of ``--coordinator_address``, ``--num_processes``
  and ``--process_id`` asks for one as well, with those values (a partial set is then
  rejected by ``training.initialize_distributed``, naming the missing flags). None of
  them: a single-process run.

  Args:
    multihost: the ``--multihost`` flag.
    coordinator_address: ``--coordinator_address`` (None when not given).
    num_processes: ``--num_processes`` (None when not given).
    process_id: ``--process_id`` (None when not given).

  Returns:
    True for a multi-process run.
  """
  given = (coordinator_address, num_processes, process_id)
  return bool(multihost) or any(v is not None for v in given)


def fail(message: str) -> None:
  """Prints ``error: message`` (one line) on stderr and exits with status 1."""
  print(f"error: {_one_line(message)}", file=sys.stderr)
  sys.exit(1)


def run_or_exit(fn, *args, **kwargs):
  """Calls ``fn``; on a user error prints ``error: <message>`` and exits with status 1."""
  quiet_logs()
  try:
    return fn(*args, **kwargs)
  except Exception as e:
    if is_user_error(e):
      fail(str(e))
    from latentjax.training import is_peer_failure, peer_failure_message

    if is_peer_failure(e):  # another process of a multi-process run died
      exit_now(peer_failure_message(e))
    raise


def exit_now(message: str) -> None:
  """Prints ``error: message`` and ends the process with status 1 at once.

  For a multi-process run that lost a peer: a normal exit would wait, in JAX's
  shutdown barrier, for the dead process until the heartbeat times out and then abort.
  """
  print(f"error: {_one_line(message)}", file=sys.stderr)
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(1)


def _one_line(text: str) -> str:
  """The gist of an error text on one line (a quoted repr unquoted, tracebacks cut)."""
  text = str(text).strip()
  if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
    try:
      text = str(ast.literal_eval(text))
    except (ValueError, SyntaxError):
      pass
  if _TRACEBACK in text:  # config_flags embeds the config file's traceback: keep its last line
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    text = lines[-1] if lines else text
  return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _override_flag(argv, message: str) -> str | None:
  """The ``--config.a.b=...`` argument an unknown-key message is about, if one matches."""
  m = re.search(r"'([A-Za-z_][\w]*)'", message)
  if not m:
    return None
  for arg in argv:  # the leaf first: `--config.a.b` with a bad `b`
    name = arg.split("=", 1)[0]
    if name.startswith("--config.") and name.rsplit(".", 1)[-1] == m.group(1):
      return arg
  for arg in argv:  # then a section: `--config.gan.n_critic` with no `gan`
    parts = arg.split("=", 1)[0].split(".")
    if parts[0] == "--config" and m.group(1) in parts[1:]:
      return arg
  return None


def _config_path(argv) -> str:
  return next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), "?")


def _config_choices(argv) -> str:
  """``"did you mean 'configs/x.py'? configs: a.py, ..."`` for a config that does not exist."""
  import configs
  from latentjax._names import did_you_mean

  paths = [p for p, _ in configs.inventory()]
  names = [os.path.basename(p)[:-3] for p in paths]  # compared without ".py"
  given = os.path.basename(_config_path(argv).split(":", 1)[0]).removesuffix(".py")
  hint = did_you_mean(given, names).strip(" ()").replace("'?", ".py'?")
  listing = "configs/ holds " + ", ".join(f"{n}.py" for n in names)
  return f"{hint} {listing}" if hint else listing


def config_help() -> str:
  """The help text of ``--config``: every experiment config with its summary."""
  import configs

  rows = "\n".join(f"  {p}: {s}" for p, s in configs.inventory())
  return ("Path to a config file, optionally with ':smoke' (every config: a run of seconds); "
          "override keys with --config.SECTION.KEY=VALUE (the keys and their defaults: "
          f"configs/common.py). The configs:\n{rows}")


def _config_error(argv, e: BaseException) -> str:
  raw = str(e)
  text = _one_line(raw)
  if isinstance(e, (AttributeError, KeyError)):
    arg = _override_flag(argv, text)
    key = arg.split("=", 1)[0][2:] if arg else "an override"
    return f"unknown config key {key}: {text}"
  if "No such file or directory" in raw:
    return f"--config={_config_path(argv)}: no such config file; {_config_choices(argv)}"
  if "Failed loading config file" in raw or _TRACEBACK in raw:
    return f"--config={_config_path(argv)}: {re.sub(r'^[A-Za-z]*Error: ', '', text)}"
  return text


def parse_flags(argv):
  """absl flags parser that turns every flag and config-file problem into one error line.

  Parses the flags, then loads each ``--config`` file with its overrides at once (they
  are otherwise loaded lazily, where a problem would surface as a traceback).
  """
  from absl import flags

  from latentjax.training import ConfigError

  try:
    rest = flags.FLAGS(argv)
    for name in ("config",):
      if name in flags.FLAGS and flags.FLAGS[name].present:
        value = flags.FLAGS[name].value
        if value is not None:
          value.keys()  # a config that failed to load raises here
  except flags.Error as e:
    fail(_config_error(argv, e) if _TRACEBACK in str(e) else str(e))
  except (OSError, AttributeError, KeyError, ValueError, TypeError, ConfigError) as e:
    fail(_config_error(argv, e))
  return rest


def main(fn) -> None:
  """``absl.app.run(fn)`` with `parse_flags` as the flags parser."""
  from absl import app

  app.run(fn, flags_parser=parse_flags)


_SUMMARY_KEYS = ("elbo_nats", "iwae_nats", "recon_nll_nats", "mse", "modes_covered",
                 "high_quality_fraction", "reverse_kl", "eval_eps_mse", "eval_v_mse",
                 "inversion_mse", "mean_image_sq_distance", "sample_pixel_std",
                 "data_pixel_std")


def _evaluated(metrics) -> str:
  """What the evaluation read: "Evaluation on test (64 examples, 64 generated samples)";
  a generator scored on its samples alone: "Evaluation of 2500 generated samples"."""
  samples = metrics.get("num_samples")
  samples = f"{samples} generated samples" if samples else ""
  if "num_examples" not in metrics:
    return f"Evaluation of {samples}" if samples else "Evaluation"
  counts = ", ".join(c for c in (f"{metrics['num_examples']} examples", samples) if c)
  return f"Evaluation on {metrics['split']} ({counts})"


def print_summary(workdir: str, metrics: dict) -> None:
  """Prints what an evaluation read, its headline figures and where the outputs are."""
  keys = [*_SUMMARY_KEYS, *sorted(k for k in metrics if k.startswith("accuracy_"))]
  parts = ", ".join(f"{k}={metrics[k]:.3f}" if isinstance(metrics[k], float)
                    else f"{k}={metrics[k]}"
                    for k in keys if metrics.get(k) is not None)
  print(f"{_evaluated(metrics)}: {parts}")
  if "measures" in metrics:
    print(f"  ({metrics['measures']})")
  outputs = ", ".join(["metrics.json", *metrics.get("images", [])])
  print(f"Outputs in {workdir}: {outputs}")
