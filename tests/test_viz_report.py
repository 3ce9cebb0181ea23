"""Tests for the self-contained HTML report of latentjax.viz."""

import base64
import html.parser
import urllib.parse

import numpy as np
import pytest

from latentjax import viz


class _Collector(html.parser.HTMLParser):
  """Collects start tags with their attributes, and all text."""

  def __init__(self):
    super().__init__()
    self.tags, self.text = [], []

  def handle_starttag(self, tag, attrs):
    self.tags.append((tag, dict(attrs)))

  def handle_data(self, data):
    self.text.append(data)


def _parse(path):
  parser = _Collector()
  parser.feed(path.read_text(encoding="utf-8"))
  parser.close()
  return parser


def _srcs(parsed):
  return [attrs["src"] for tag, attrs in parsed.tags if tag == "img"]


def _report(tmp_path):
  grid = viz.image_grid(np.random.default_rng(0).random((4, 8, 8)))
  existing = viz.save_png(grid, tmp_path / "elsewhere" / "samples grid.png")
  gif = viz.save_gif(np.random.default_rng(1).random((3, 8, 8)), tmp_path / "walk.gif")
  fig = viz.loss_curves({"train/loss": ([0, 1, 2], [3.0, 2.0, 1.0])})
  report = viz.Report("Run <7> & co", description="β = 1 <b>")
  report.add_section("Samples", text="First <script>alert(1)</script>.\n\nSecond.",
                     images=[(grid, "a grid"), (existing, "from disk"), np.random.rand(8, 8),
                             (gif, None)])
  report.add_section("Nothing here")
  report.add_section("Empty too", text="  ", images=[], table={})
  report.add_section("Metrics", table={"elbo": -95.123456, "steps": 2000, "ok": True})
  report.add_section("Runs", table=[{"model": "vae", "fid": 12.5}, {"model": "ae", "mse": 0.1}])
  report.add_section("Curves", figure=fig, code="python -m experiments.train --config=x.py")
  return report


def test_report_writes_assets_that_resolve(tmp_path):
  out = tmp_path / "out" / "report.html"
  path = _report(tmp_path).write(out)
  assert path == out and path.is_file()
  parsed = _parse(path)
  srcs = _srcs(parsed)
  assert len(srcs) == 5
  for src in srcs:
    assert not src.startswith(("/", "data:", "http")), src
    assert (path.parent / urllib.parse.unquote(src)).is_file(), src
  assert all(src.startswith("assets/") for src in srcs)
  assert any(src.endswith(".gif") for src in srcs)


def test_report_references_files_beside_it_in_place(tmp_path):
  picture = viz.save_png(np.random.rand(16, 16, 3), tmp_path / "pics" / "x.png")
  path = viz.Report("r").add_section("s", images=[picture]).write(tmp_path)
  assert path == tmp_path / "report.html"
  assert _srcs(_parse(path)) == ["pics/x.png"]
  assert not (tmp_path / "assets").exists()


def test_report_embedded_images_are_data_uris(tmp_path):
  path = _report(tmp_path).write(tmp_path / "single" / "index.html", embed_images=True)
  srcs = _srcs(_parse(path))
  assert len(srcs) == 5
  for src in srcs:
    assert src.startswith(("data:image/png;base64,", "data:image/gif;base64,")), src[:40]
    header = base64.b64decode(src.split(",", 1)[1])[:6]
    assert header in (b"\x89PNG\r\n", b"GIF89a", b"GIF87a")
  assert not (path.parent / "assets").exists()


def test_report_escapes_text_and_omits_empty_sections(tmp_path):
  path = _report(tmp_path).write(tmp_path / "r.html")
  raw = path.read_text(encoding="utf-8")
  parsed = _parse(path)
  tags = [tag for tag, _ in parsed.tags]
  assert "script" not in tags and "b" not in tags
  assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
  assert "Run &lt;7&gt; &amp; co" in raw
  text = "".join(parsed.text)
  assert "First <script>alert(1)</script>." in text
  assert "Nothing here" not in text and "Empty too" not in text
  sections = [attrs["id"] for tag, attrs in parsed.tags if tag == "section"]
  links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
  assert len(sections) == 4
  assert links == [f"#{s}" for s in sections]  # The table of contents.
  assert "-95.12" in text and "2000" in text and "python -m experiments.train" in text
  headers = [t for t in parsed.text if t in ("model", "fid", "mse")]
  assert headers == ["model", "fid", "mse"]


def test_report_errors(tmp_path):
  report = viz.Report("r")
  with pytest.raises(FileNotFoundError, match="no such file"):
    report.add_section("s", images=[tmp_path / "missing.png"])
  with pytest.raises(ValueError, match=r"`images\[0\]` must be"):
    report.add_section("s", images=[np.zeros((2, 3, 4, 5))])
  with pytest.raises(TypeError, match="`table` must be"):
    report.add_section("s", table=[1, 2])
  assert report.sections == []


def test_empty_report_still_valid(tmp_path):
  path = viz.Report("empty").add_section("blank").write(tmp_path / "e.html")
  parsed = _parse(path)
  assert [t for t, _ in parsed.tags if t in ("nav", "section", "img")] == []
