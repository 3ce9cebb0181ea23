"""What every entry point shares: quiet TensorFlow, and clean exits for user errors.

A user error (bad config, missing dataset, non-finite loss) ends the program with its
message on stderr and exit status 1, not a traceback; anything else is a bug and
keeps its traceback.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def quiet_logs() -> None:
  """Keeps absl INFO chatter (orbax, TFDS) off the console unless --verbosity is given."""
  from absl import flags, logging

  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)


def user_errors() -> tuple[type[BaseException], ...]:
  from latentjax.data import DatasetNotAvailableError
  from latentjax.training import ConfigError, NonFiniteLossError

  return (ConfigError, DatasetNotAvailableError, NonFiniteLossError, FileNotFoundError)


def run_or_exit(fn, *args, **kwargs):
  """Calls ``fn``; on a user error prints ``error: <message>`` and exits with status 1."""
  quiet_logs()
  errors = user_errors()
  try:
    return fn(*args, **kwargs)
  except errors as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
