"""Checking a resumed run against the run it resumes, before anything is written.

A run folder remembers the config it was trained with (``config.json``). Re-running in
that folder resumes it, so the new config must describe the same run: keys that change
what is computed (model, objective, optimizer and schedule, data order, seed) must be
equal; keys that only change how the run is observed or stored (logging, checkpoint
cadence, evaluation settings, data location, device count, convolution implementation)
may differ. ``num_steps`` may change only where the learning-rate schedule does not
depend on it (a constant schedule whose warm-up ends before both the old and the new
last step). A config saved before a key existed is read with that key's old behaviour
(``ADDED_KEYS``).

    check_resume(config, workdir)               # raises ConfigError listing differences
    check_resume(config, workdir, allow_changes=True)   # knowingly; old config archived
"""

import json
import os

from latentjax.training._config import ConfigError, upgrade_saved_config

CONFIG_FILE = "config.json"
HISTORY_DIR = "config_history"

# Keys that may differ between a run and its resumption: they do not change the numbers.
_FREE_KEYS = (
    "data.data_dir", "data.download", "data.eval_batch_size", "data.eval_split",
    "model.conv_impl", "train.parallel", "train.num_devices", "train.log_every_steps",
    "train.checkpoint_every_steps", "train.keep_checkpoints", "train.eval_every_steps",
    "train.progress_bar",
)
_FREE_SECTIONS = ("eval",)


def _flat(tree: dict, prefix: str = "") -> dict:
  out = {}
  for k, v in tree.items():
    name = f"{prefix}{k}"
    if isinstance(v, dict):
      out.update(_flat(v, f"{name}."))
    else:
      out[name] = v
  return out


def _as_plain(config) -> dict:
  """A JSON round trip, so tuples and lists compare equal as they are stored."""
  text = config.to_json() if hasattr(config, "to_json") else json.dumps(config)
  return json.loads(text)


def _num_steps_matters(old: dict, new: dict) -> bool:
  if old.get("optim.schedule") != "constant" or new.get("optim.schedule") != "constant":
    return True
  warmup = new.get("optim.warmup_steps", 0)
  return warmup > min(old.get("train.num_steps", 0), new.get("train.num_steps", 0))


def config_differences(saved: dict, config) -> list[tuple[str, object, object]]:
  """Keys whose change would alter a resumed run: ``(key, saved value, new value)``."""
  old, new = _flat(_as_plain(saved)), _flat(_as_plain(config))
  diffs = []
  for key in sorted(set(old) | set(new)):
    a, b = old.get(key, "<absent>"), new.get(key, "<absent>")
    if a == b or key in _FREE_KEYS or key.split(".")[0] in _FREE_SECTIONS:
      continue
    if key == "train.num_steps" and not _num_steps_matters(old, new):
      continue
    diffs.append((f"config.{key}", a, b))
  return diffs


def read_saved_config(workdir: str) -> dict | None:
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    return None
  try:
    with open(path) as f:
      return upgrade_saved_config(json.load(f))
  except (OSError, json.JSONDecodeError) as e:
    raise ConfigError(f"{path} cannot be read ({e}); it records the run's config, so the "
                      f"run cannot be checked for resumption") from None


def check_resume(config, workdir: str, *, has_checkpoint: bool,
                 allow_changes: bool = False) -> list[tuple[str, object, object]]:
  """Raises unless ``config`` may resume the run in ``workdir``; returns the differences.

  Args:
    config: the new run's ConfigDict.
    workdir: the run folder.
    has_checkpoint: whether the folder holds a checkpoint (otherwise nothing resumes and
      any config may start there).
    allow_changes: accept differing keys knowingly (``--allow_config_change``); the old
      ``config.json`` is then archived by `write_config`.

  Raises:
    ConfigError: listing each differing key with its saved and new value, and what to do.
  """
  if not has_checkpoint:
    return []
  saved = read_saved_config(workdir)
  if saved is None:
    return []
  diffs = config_differences(saved, config)
  if diffs and not allow_changes:
    lines = "; ".join(f"{k}: {a!r} in the run, {b!r} now" for k, a, b in diffs)
    raise ConfigError(
        f"{os.path.join(workdir, CONFIG_FILE)} describes a different run, which this one "
        f"would resume from its checkpoint. Differing key(s): {lines}. Start a new run in "
        f"another --workdir, or pass --allow_config_change (allow_config_change=True) to "
        f"resume with the new values knowingly (the old config is kept in "
        f"{HISTORY_DIR}/).")
  return diffs


def write_config(config, workdir: str, *, resumed_step: int | None = None) -> None:
  """Writes ``config.json``; an existing, different one is archived first.

  The archive is ``config_history/step_<N>.json`` (N the step being resumed from), so a
  knowingly changed run keeps the record of what it was before.
  """
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, CONFIG_FILE)
  new = _as_plain(config)
  saved = read_saved_config(workdir) if os.path.exists(path) else None
  if saved is not None and saved != new and resumed_step is not None:
    history = os.path.join(workdir, HISTORY_DIR)
    os.makedirs(history, exist_ok=True)
    os.replace(path, os.path.join(history, f"step_{resumed_step}.json"))
  tmp = f"{path}.tmp"
  with open(tmp, "w") as f:
    json.dump(new, f, indent=2)
  os.replace(tmp, path)
