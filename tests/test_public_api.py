"""Every public name of latentjax and of each of its sub-packages resolves."""

import importlib
import pkgutil

import pytest

import latentjax


def _subpackages() -> list[str]:
  """Public (sub-)sub-packages, as dotted names relative to latentjax."""
  return sorted(m.name for m in pkgutil.walk_packages(latentjax.__path__)
                if m.ispkg and not any(part.startswith("_") for part in m.name.split(".")))


def test_top_level_all_lists_exactly_the_subpackages_that_exist():
  listed = set(latentjax.__all__) - {"__version__"}
  assert listed == {name for name in _subpackages() if "." not in name}


def test_every_top_level_name_resolves():
  for name in latentjax.__all__:
    assert getattr(latentjax, name) is not None, name


@pytest.mark.parametrize("name", _subpackages())
def test_every_name_in_a_subpackages_all_resolves(name):
  module = importlib.import_module(f"latentjax.{name}")
  public = getattr(module, "__all__", None)
  assert public, f"latentjax.{name} has no __all__"
  assert len(public) == len(set(public)), f"latentjax.{name}.__all__ has duplicates"
  missing = [n for n in public if not hasattr(module, n)]
  assert not missing, f"latentjax.{name}.__all__ names that do not resolve: {missing}"
