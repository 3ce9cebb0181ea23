"""What a consumer needs to know about a family, it asks the family.

Code outside the family modules (``latentjax/training/_family*.py``) should not branch on
a family's name, its class or its trait flags: each such branch is a place a new family
has to edit. The branches that remain are counted per file below; the test fails when a
file gains one or a new file starts branching, and says so when a count can come down
(then lower it). The config check has none: a family checks its own keys
(``Family.check_config``, ``Family.check_devices``).
"""

import os
import re

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BRANCH = re.compile(
    r"is_variational|has_encoder|latent_geometry"
    r"|isinstance\([^)]*(Family|models\.(VAE|AutoEncoder|UNet|GAN))"
    r"|family (==|!=|in|not in) |family_impl, [A-Z]")
_FAMILY_FILES = re.compile(r"latentjax/training/_famil[^/]*\.py$")

# Files that still branch, and how often. Lower these as the questions move into `Family`.
REMAINING = {
    "experiments/inversion_study.py": 2,
    "latentjax/explore/_context.py": 6,
    "latentjax/explore/_diffusion_sections.py": 1,
    "latentjax/explore/_generator_sections.py": 1,
    "latentjax/explore/_latent_sections.py": 3,
    "latentjax/explore/_run_sections.py": 11,
    "latentjax/explore/_summary.py": 4,
    "latentjax/models/_factory.py": 1,
    "latentjax/training/_experiment.py": 2,
    "latentjax/training/_feature_network.py": 2,
    "latentjax/training/_quality.py": 7,
    "latentjax/training/_run.py": 1,
    "latentjax/training/_variance.py": 1,
}


def _branch_counts() -> dict[str, int]:
  counts = {}
  for top in ("latentjax", "experiments"):
    for folder, _, files in os.walk(os.path.join(_ROOT, top)):
      for f in files:
        path = os.path.join(folder, f)
        rel = os.path.relpath(path, _ROOT).replace(os.sep, "/")
        if not f.endswith(".py") or _FAMILY_FILES.search(rel):
          continue
        with open(path) as fh:
          n = sum(1 for line in fh if _BRANCH.search(line))
        if n:
          counts[rel] = n
  return counts


def test_no_new_family_branches_outside_the_families():
  counts = _branch_counts()
  grown = {f: (n, REMAINING.get(f, 0)) for f, n in counts.items() if n > REMAINING.get(f, 0)}
  assert not grown, (
      f"new branches on a family's name, class or traits (file: (found, allowed)): {grown}; "
      f"ask the family through a method of the Family interface instead")
  shrunk = {f: (counts.get(f, 0), n) for f, n in REMAINING.items() if counts.get(f, 0) < n}
  assert not shrunk, f"fewer branches than listed (lower REMAINING): {shrunk}"


def test_the_config_check_asks_the_family():
  assert "latentjax/training/_config.py" not in _branch_counts()


def test_the_pattern_finds_the_branches_it_names():
  for line in ('if run.exp.family != "classifier":', "if exp.is_variational:",
               "isinstance(run.family_impl, DiffusionFamily)", "if not view.has_encoder:",
               'cfg.model.family in ("gan", "cgan")'):
    assert _BRANCH.search(line), line
  assert not _BRANCH.search("family = get_family(cfg.model.family)")
