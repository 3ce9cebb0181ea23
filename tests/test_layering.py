"""Imports only point down: the layers of latentjax, checked on the source.

Every module under ``latentjax/``, ``experiments/`` and ``configs/`` is parsed and every
import it makes is collected, function-level imports included (a late import is still a
dependency). Each package has a layer; a module may import its own package and packages of
lower layers only. The layers are drawn in the README (Layout, "Layers").
"""

import ast
import os
import subprocess
import sys

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Package -> layer. A module imports its own package or lower layers, never a peer.
LAYERS = {
    "latentjax": 0,  # only the root __init__: it imports its sub-packages lazily, on use
    "latentjax._names": 0,
    "latentjax._metrics_log": 0,
    "latentjax._batching": 0,
    "latentjax.kernels": 1,
    "latentjax.data": 2,
    "latentjax.models": 2,
    "latentjax.objectives": 2,
    "latentjax.latent_ops": 2,
    "latentjax.viz": 2,
    "latentjax.diffusion": 3,
    "latentjax.metrics": 3,
    "latentjax.training": 4,
    "latentjax.explore": 5,
    "configs": 6,
    "experiments": 7,
}

# The one import circle left, inside `training` (the families and the evaluation of runs
# call each other). No new module may join it and no other circle may appear.
KNOWN_CIRCLE = frozenset({
    "training", "training._config", "training._diffusion_eval", "training._evaluate",
    "training._experiment", "training._families", "training._family_classifier",
    "training._family_diffusion", "training._family_gan", "training._family_noise_encoder",
    "training._family_single", "training._family_vae", "training._feature_network",
    "training._gan_eval", "training._loop", "training._noise_encoder_eval",
    "training._optim", "training._quality", "training._resume", "training._run",
    "training._variance",
})


def _modules() -> dict[str, str]:
  """``{dotted module name: path}`` of every module of the layers."""
  out = {}
  for top in ("latentjax", "experiments", "configs"):
    for folder, _, files in os.walk(os.path.join(_ROOT, top)):
      for f in files:
        if f.endswith(".py"):
          path = os.path.join(folder, f)
          name = os.path.relpath(path, _ROOT)[:-3].replace(os.sep, ".")
          out[name.removesuffix(".__init__")] = path
  return out


def _imports(name: str, path: str, modules) -> set[str]:
  """The project modules that module ``name`` imports, anywhere in its body."""
  with open(path) as f:
    tree = ast.parse(f.read(), path)
  package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
  found = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      targets = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        parent = package
        for _ in range(node.level - 1):
          parent = parent.rpartition(".")[0]
        base = f"{parent}.{base}" if base else parent
      targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                 for a in node.names]
    else:
      continue
    for target in targets:
      while target and target not in modules:
        target = target.rpartition(".")[0]
      if target and target != name:
        found.add(target)
  return found


def _layer_of(module: str) -> tuple[str, int]:
  if module == "latentjax":
    return module, LAYERS[module]
  for package in sorted(set(LAYERS) - {"latentjax"}, key=len, reverse=True):
    if module == package or module.startswith(package + "."):
      return package, LAYERS[package]
  raise KeyError(module)


@pytest.fixture(scope="module")
def graph():
  modules = _modules()
  return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_every_package_has_a_layer(graph):
  missing = set()
  for module in graph:
    try:
      _layer_of(module)
    except KeyError:
      missing.add(module)
  assert not missing, f"give these a layer in LAYERS (and in the README): {missing}"


def test_imports_only_point_down(graph):
  wrong = []
  for module, targets in graph.items():
    package, layer = _layer_of(module)
    for target in targets:
      other, other_layer = _layer_of(target)
      if other != package and other_layer >= layer:
        wrong.append(f"{module} (layer {layer}) imports {target} (layer {other_layer})")
  assert not wrong, "imports against the layering:\n" + "\n".join(sorted(wrong))


def _circles(graph) -> list[set[str]]:
  """Strongly connected components of more than one module (Tarjan, iteratively)."""
  index, low, on_stack, stack, out = {}, {}, set(), [], []
  counter = 0
  for root in graph:
    if root in index:
      continue
    work = [(root, iter(graph[root]))]
    index[root] = low[root] = counter
    counter += 1
    stack.append(root)
    on_stack.add(root)
    while work:
      v, it = work[-1]
      for w in it:
        if w not in index:
          index[w] = low[w] = counter
          counter += 1
          stack.append(w)
          on_stack.add(w)
          work.append((w, iter(graph.get(w, ()))))
          break
        if w in on_stack:
          low[v] = min(low[v], index[w])
      else:
        work.pop()
        if work:
          low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
          component = set()
          while True:
            w = stack.pop()
            on_stack.discard(w)
            component.add(w)
            if w == v:
              break
          if len(component) > 1:
            out.append(component)
  return out


def test_no_import_circle_but_the_known_one(graph):
  known = {f"latentjax.{m}" for m in KNOWN_CIRCLE}
  for component in _circles(graph):
    assert component <= known, (
        f"an import circle: {sorted(component - known)} with {sorted(component & known)}")


def test_the_circle_finder_finds_circles():
  g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
  assert _circles(g) == [{"a", "b", "c"}]
  assert _circles({"a": {"b"}, "b": set()}) == []


def test_an_upward_import_is_reported(graph):
  fake = dict(graph)
  fake["latentjax.metrics._fake"] = {"latentjax.training._run"}
  with pytest.raises(AssertionError, match="metrics._fake"):
    test_imports_only_point_down(fake)


def test_importing_metrics_loads_nothing_above_it():
  code = ("import sys, latentjax.metrics; "
          "print(sorted({m for m in sys.modules if m.startswith(('latentjax.training', "
          "'latentjax.explore', 'experiments'))}))")
  out = subprocess.run([sys.executable, "-c", code], cwd=_ROOT, capture_output=True,
                       text=True, check=True, env={**os.environ, "JAX_PLATFORMS": "cpu"})
  assert out.stdout.strip() == "[]", out.stdout


def test_names_moved_out_of_metrics_say_where_they_went():
  from latentjax import metrics

  with pytest.raises(AttributeError, match="moved to latentjax.training.feature_network"):
    metrics.feature_network  # noqa: B018
  with pytest.raises(AttributeError, match="no attribute 'nothing'"):
    metrics.nothing  # noqa: B018
