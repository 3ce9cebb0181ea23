"""Suggestions for a mistyped name, for error messages that list the valid ones.

    raise ValueError(f"Unknown dataset {name!r}{did_you_mean(name, known)}; known: ...")
"""

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, choices: Iterable[str]) -> str:
  """``" (did you mean 'x'?)"`` for the closest of ``choices`` to ``name``, or ``""``.

  Args:
    name: the name that was not found.
    choices: the valid names.

  Returns:
    The suggestion, with a leading space, ready to append to a message; empty when no
    valid name is close (difflib's similarity ratio below 0.6).
  """
  close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
  return f" (did you mean {close[0]!r}?)" if close else ""
