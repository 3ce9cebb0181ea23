"""A self-contained HTML report of an experiment: text, pictures, figures and metric tables.

The report opens from disk with no server. Pictures are written next to the HTML file
in an `assets/` directory and referenced by relative paths (files already inside the
report's directory are referenced in place), or embedded as base64 data URIs with
`embed_images=True` for a single portable file. Only the standard library builds the
HTML; all text is escaped. Sections with nothing in them are left out.

    report = Report("VAE on digits", description="β = 1, 20 epochs")
    report.add_section("Samples", images=[(image_grid(samples), "64 samples")])
    report.add_section("Metrics", table={"eval/elbo": -95.2, "FID": 12.3})
    report.add_section("Training", figure=loss_curves("runs/vae/metrics.jsonl"))
    report.write("runs/vae/report.html")
"""

from __future__ import annotations

import base64
import dataclasses
import html
import mimetypes
import os
import pathlib
import re
import shutil
import urllib.parse
from collections.abc import Mapping, Sequence

import numpy as np
import PIL.Image
from matplotlib.figure import Figure

from latentjax.viz._io import (
    PathLike,
    figure_png_bytes,
    png_bytes,
    resolve_upscale,
    to_uint8,
    upscale_nearest,
)

_WIDE_PX = 640  # Pictures at least this wide take a whole row of the figure grid.
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;
 color:#222;max-width:1100px;margin:0 auto;padding:1rem 1.5rem 3rem;background:#fff}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.description{color:#555;margin-top:0}
nav.toc{background:#f6f6f8;border:1px solid #e3e3e8;border-radius:6px;padding:.5rem 1rem}
nav.toc h2{border:none;margin:.3rem 0;font-size:1.05rem}nav.toc ol{margin:.2rem 0}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1rem;
 align-items:start}
figure{margin:0;padding:.5rem;border:1px solid #eee;border-radius:6px;background:#fafafa}
figure.wide{grid-column:1/-1}
figure img{display:block;max-width:100%;height:auto;margin:0 auto}
figure img.pixel{image-rendering:pixelated;min-width:128px}
figcaption{font-size:.9rem;color:#444;text-align:center;margin-top:.3rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.92rem;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.3rem .7rem;text-align:left}
th{background:#f0f0f4}tr:nth-child(even) td{background:#fafafc}
td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f6f8;border:1px solid #e3e3e8;border-radius:6px;padding:.7rem;overflow-x:auto}
"""


@dataclasses.dataclass(frozen=True)
class _Image:
  caption: str
  data: bytes | None = None  # PNG bytes of an array or a figure.
  source: pathlib.Path | None = None  # An existing image file.
  pixel: bool = False  # Small picture: render with crisp pixels.
  width: int = 0  # Pixel width when known; wide pictures span the whole grid row.


@dataclasses.dataclass(frozen=True)
class _Section:
  title: str
  text: str
  images: tuple[_Image, ...]
  table: tuple[tuple[str, ...], tuple[tuple[object, ...], ...]] | None
  code: str


def _image_item(item, index: int) -> _Image:
  source, caption = item, ""
  if isinstance(item, tuple) and len(item) == 2 and (item[1] is None or isinstance(item[1], str)):
    source, caption = item[0], item[1] or ""
  if isinstance(source, Figure):
    data = figure_png_bytes(source)
    return _Image(caption, data=data, width=_png_width(data))
  if isinstance(source, (str, os.PathLike)):
    path = pathlib.Path(source)
    if not path.is_file():
      raise FileNotFoundError(f"`images[{index}]`: no such file {os.fspath(path)!r}")
    try:
      with PIL.Image.open(path) as im:
        width = im.size[0]
    except (OSError, ValueError):  # SVG or another format Pillow does not read.
      width = 0
    return _Image(caption, source=path, width=width)
  arr = to_uint8(source)
  if arr.ndim == 3 and arr.shape[-1] == 1:
    arr = arr[..., 0]
  if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (3, 4))):
    raise ValueError(
        f"`images[{index}]` must be a file path, a Figure or a picture [H, W] / [H, W, 3], "
        f"got shape {arr.shape}")
  scale = resolve_upscale(arr.shape[0], arr.shape[1], None, 96)
  return _Image(caption, data=png_bytes(upscale_nearest(arr, scale)), pixel=scale > 1,
                width=arr.shape[1] * scale)


def _png_width(data: bytes) -> int:
  return int.from_bytes(data[16:20], "big")  # The IHDR chunk of a PNG.


def _cell(value) -> object:
  if hasattr(value, "__array__") and np.ndim(value) == 0:
    value = np.asarray(value).item()
  return value


def _table(table) -> tuple | None:
  if table is None:
    return None
  if isinstance(table, Mapping):
    if not table:
      return None
    return ("name", "value"), tuple((str(k), _cell(v)) for k, v in table.items())
  rows = list(table)
  if not rows:
    return None
  if not all(isinstance(r, Mapping) for r in rows):
    raise TypeError("`table` must be a mapping or a sequence of mappings")
  columns = list(dict.fromkeys(k for r in rows for k in r))
  return (tuple(str(c) for c in columns),
          tuple(tuple(_cell(r.get(c, "")) for c in columns) for r in rows))


def _format(value) -> tuple[str, bool]:
  """Returns (text, is_number) for a table cell."""
  if isinstance(value, bool) or value is None:
    return ("" if value is None else str(value)), False
  if isinstance(value, int):
    return str(value), True
  if isinstance(value, float):
    return f"{value:.4g}", True
  return str(value), False


def _slug(text: str, index: int) -> str:
  slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]
  return f"s{index}-{slug}" if slug else f"s{index}"


class Report:
  """Collects sections of text, pictures, figures and tables; writes one HTML page.

  Example:
    >>> report = Report("Digits VAE")
    >>> report.add_section("Samples", images=[(np.random.rand(64, 64, 3), "noise")])
    >>> report.write("/tmp/report/report.html")  # + /tmp/report/assets/*.png
  """

  def __init__(self, title: str, *, description: str | None = None):
    """Starts an empty report.

    Args:
      title: page title and top heading.
      description: optional line under the title (run name, config, date).
    """
    self.title = str(title)
    self.description = description or ""
    self._sections: list[_Section] = []

  @property
  def sections(self) -> list[str]:
    """Titles of the sections added so far (including empty ones, which `write` omits)."""
    return [s.title for s in self._sections]

  def add_section(
      self,
      title: str,
      *,
      text: str | None = None,
      images: Sequence = (),
      table: Mapping | Sequence[Mapping] | None = None,
      figure: Figure | Sequence[Figure] | None = None,
      code: str | None = None,
  ) -> Report:
    """Adds a section. Pictures are rendered now, so later changes don't affect them.

    Args:
      title: section heading (also its entry in the table of contents).
      text: paragraphs, separated by blank lines; shown escaped, not as HTML.
      images: items, each a source or a (source, caption) pair; a source is a path
        to an existing image file (PNG, GIF, JPEG, SVG), a picture array ([H, W] or
        [H, W, 3], uint8 or float in [0, 1]) or a matplotlib `Figure`.
      table: a mapping name -> value (two-column table) or a list of mappings
        (one row each, columns the union of their keys). Floats show 4 digits.
      figure: a matplotlib `Figure` or a list of them, shown after `images`.
      code: preformatted text (a config, a command line).

    Returns:
      The report itself, so calls can be chained.

    Raises:
      FileNotFoundError: if an image path does not exist.
      ValueError: if an image array is not a picture.
      TypeError: if `table` is neither a mapping nor a sequence of mappings.
    """
    items = list(images)
    if figure is not None:
      items += [figure] if isinstance(figure, Figure) else list(figure)
    self._sections.append(_Section(
        title=str(title), text=(text or "").strip(),
        images=tuple(_image_item(item, i) for i, item in enumerate(items)),
        table=_table(table), code=(code or "").strip("\n")))
    return self

  def write(self, path: PathLike, *, embed_images: bool = False) -> pathlib.Path:
    """Writes the report as HTML (and its pictures, unless embedded).

    Args:
      path: the HTML file, or an existing directory to write `report.html` into.
      embed_images: embed pictures as base64 data URIs (one portable file) instead
        of writing them to an `assets/` directory beside the HTML.

    Returns:
      The path of the HTML file.
    """
    path = pathlib.Path(path)
    if path.is_dir():
      path = path / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    root = path.parent.resolve()
    sections = [s for s in self._sections if s.text or s.images or s.table or s.code]
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(self.title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<header><h1>{esc(self.title)}</h1>"]
    if self.description:
      out.append(f'<p class="description">{esc(self.description)}</p>')
    out.append("</header>")
    ids = [_slug(s.title, i + 1) for i, s in enumerate(sections)]
    if sections:
      out.append('<nav class="toc"><h2>Contents</h2><ol>')
      out += [f'<li><a href="#{i}">{esc(s.title)}</a></li>'
              for i, s in zip(ids, sections, strict=True)]
      out.append("</ol></nav>")
    out.append("<main>")
    for si, (section, sid) in enumerate(zip(sections, ids, strict=True), start=1):
      out.append(f'<section id="{sid}"><h2>{esc(section.title)}</h2>')
      for para in re.split(r"\n\s*\n", section.text) if section.text else []:
        out.append(f"<p>{esc(para.strip())}</p>")
      if section.images:
        out.append('<div class="figures">')
        for ii, image in enumerate(section.images, start=1):
          src = self._src(image, path, root, f"s{si:02d}-{ii:02d}", embed_images)
          cls = ' class="pixel"' if image.pixel else ""
          wide = ' class="wide"' if image.width >= _WIDE_PX else ""
          alt = esc(image.caption or f"{section.title} {ii}")
          out.append(f'<figure{wide}><img src="{esc(src)}" alt="{alt}"{cls} loading="lazy">')
          if image.caption:
            out.append(f"<figcaption>{esc(image.caption)}</figcaption>")
          out.append("</figure>")
        out.append("</div>")
      if section.table:
        out.append(self._table_html(*section.table))
      if section.code:
        out.append(f"<pre>{esc(section.code)}</pre>")
      out.append("</section>")
    out += ["</main>", "</body>", "</html>", ""]
    path.write_text("\n".join(out), encoding="utf-8")
    return path

  @staticmethod
  def _src(image: _Image, html_path: pathlib.Path, root: pathlib.Path, key: str,
           embed: bool) -> str:
    """Returns the `src` of a picture, writing or copying it under `assets/` if needed."""
    suffix = image.source.suffix.lower() if image.source is not None else ".png"
    if embed:
      data = image.data if image.data is not None else image.source.read_bytes()
      mime = mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"
      return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    if image.source is not None:
      resolved = image.source.resolve()
      if resolved.is_relative_to(root):
        return urllib.parse.quote(resolved.relative_to(root).as_posix())
    assets = html_path.parent / "assets"
    assets.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", html_path.stem)
    if image.source is not None:
      name = re.sub(r"[^A-Za-z0-9_.-]+", "_", image.source.stem)[:40]
      target = assets / f"{stem}-{key}-{name}{suffix}"
      shutil.copyfile(image.source, target)
    else:
      target = assets / f"{stem}-{key}.png"
      target.write_bytes(image.data)
    return urllib.parse.quote(f"assets/{target.name}")

  @staticmethod
  def _table_html(columns: tuple[str, ...], rows: tuple[tuple[object, ...], ...]) -> str:
    esc = html.escape
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in columns)
           + "</tr></thead>", "<tbody>"]
    for row in rows:
      cells = []
      for value in row:
        text, is_number = _format(value)
        cls = ' class="num"' if is_number else ""
        cells.append(f"<td{cls}>{esc(text)}</td>")
      out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)
