"""The interactive latent-space explorer for notebooks (ipywidgets; works in Colab).

    explorer = LatentExplorer(explorer_data(run.decoder_fn(), codes))
    explorer            # the last expression of a cell shows the widget

Top: the scatter of the codes with the two picked points A and B (pick them with the
sliders, "random pair", or `explorer.click(x, y)` from your own plot); "decode paths"
draws the linear, spherical and geodesic paths between them on the scatter and shows
them decoded, with their decoded lengths. Bottom: slide point A along a direction (a
principal direction, a class attribute...) and watch the decoded image change.

Every control calls a plain method (`pick`, `click`, `random_pair`, `decode_paths`,
`slide`), which calls the pure functions of `_explorer.py`: the widget has no logic
of its own, and the methods can be driven without a browser.
"""

from __future__ import annotations

import numpy as np

from latentjax.explore._explorer import (
    ExplorerData,
    PathView,
    nearest_code,
    path_view,
    png_bytes,
    scatter_figure,
    slide_view,
)


class LatentExplorer:
  """Linked scatter / decoder views over an `ExplorerData`.

  Args:
    data: from `explorer_data`.
    num_frames: decoded images per path.
    num_points: points of each path.
    geodesic_steps: optimisation steps of each geodesic.
    resolution: fine resampling for path lengths.
    max_amount: the direction slider spans [-max_amount, max_amount] (in the
      direction's scale, e.g. standard deviations).
    seed: seed of "random pair".
  """

  def __init__(self, data: ExplorerData, *, num_frames: int = 10, num_points: int = 24,
               geodesic_steps: int = 300, resolution: int = 128, max_amount: float = 3.0,
               seed: int = 0):
    import ipywidgets as w

    self.data = data
    self.path_kwargs = dict(num_frames=num_frames, num_points=num_points,
                            geodesic_steps=geodesic_steps, resolution=resolution)
    self._rng = np.random.RandomState(seed)
    n = data.codes.shape[0]
    self.start, self.end = 0, min(1, n - 1)
    self.view: PathView | None = None
    self._next_click = 0
    self.start_slider = w.IntSlider(value=self.start, min=0, max=n - 1, description="A")
    self.end_slider = w.IntSlider(value=self.end, min=0, max=n - 1, description="B")
    self.random_button = w.Button(description="random pair")
    self.paths_button = w.Button(description="decode paths", button_style="primary")
    self.status = w.HTML()
    self.scatter_image = w.Image(format="png")
    self.strip_image = w.Image(format="png")
    names = list(data.directions)
    self.direction = w.Dropdown(options=names, value=names[0] if names else None,
                                description="direction")
    self.amount = w.FloatSlider(value=0.0, min=-max_amount, max=max_amount, step=0.25,
                                description="amount")
    self.slide_image = w.Image(format="png")
    self.start_slider.observe(self._on_start, names="value")
    self.end_slider.observe(self._on_end, names="value")
    self.random_button.on_click(lambda _: self.random_pair())
    self.paths_button.on_click(lambda _: self.decode_paths())
    self.direction.observe(lambda ch: self.slide(direction=ch["new"]), names="value")
    self.amount.observe(lambda ch: self.slide(amount=ch["new"]), names="value")
    self.widget = w.VBox([
        w.HTML("<b>Pick two codes A and B, then decode the paths between them</b>"),
        w.HBox([self.start_slider, self.end_slider, self.random_button, self.paths_button]),
        self.status,
        w.HBox([self.scatter_image, self.strip_image]),
        w.HTML("<b>Slide A along a direction</b>"),
        w.HBox([self.direction, self.amount]),
        self.slide_image,
    ])
    self._draw_scatter()
    if names:
      self.slide()

  # Plain methods: each control calls one of these.
  def pick(self, start: int | None = None, end: int | None = None) -> tuple[int, int]:
    """Selects codes A and/or B by index; returns (A, B)."""
    if start is not None:
      self.start = int(start)
    if end is not None:
      self.end = int(end)
    self.view = None
    self._sync_sliders()
    self._draw_scatter()
    if start is not None and self.data.directions:
      self.slide()
    return self.start, self.end

  def click(self, x: float, y: float) -> int:
    """Picks the code nearest to scatter coordinates (x, y), alternately as A and B."""
    index = nearest_code(self.data, x, y)
    if self._next_click == 0:
      self.pick(start=index)
    else:
      self.pick(end=index)
    self._next_click = 1 - self._next_click
    return index

  def random_pair(self) -> tuple[int, int]:
    """Picks two different random codes (of different labels when there are labels)."""
    n, labels = self.data.codes.shape[0], self.data.labels
    a = int(self._rng.randint(n))
    pool = np.arange(n) if labels is None else np.flatnonzero(labels != labels[a])
    pool = pool[pool != a]
    b = int(self._rng.choice(pool)) if pool.size else (a + 1) % n
    return self.pick(start=a, end=b)

  def decode_paths(self) -> PathView | None:
    """Computes, draws and decodes the three paths between A and B."""
    if self.start == self.end:
      self.status.value = "Pick two different codes."
      return None
    self.status.value = "computing the geodesic ..."
    self.view = path_view(self.data, self.start, self.end, **self.path_kwargs)
    lengths = ", ".join(f"{m} {v:.3g}" for m, v in self.view.lengths.items())
    self.status.value = f"decoded lengths: {lengths}"
    self.strip_image.value = png_bytes(self.view.strip)
    self._draw_scatter()
    return self.view

  def slide(self, direction: str | None = None, amount: float | None = None) -> np.ndarray:
    """Decodes A moved along a direction; returns the picture shown."""
    direction = self.direction.value if direction is None else direction
    amount = float(self.amount.value if amount is None else amount)
    pic = slide_view(self.data, direction, amount, self.start)
    self.slide_image.value = png_bytes(pic)
    return pic

  # Display.
  def _on_start(self, change):
    if change["new"] != self.start:  # Not an echo of pick() moving the slider.
      self.pick(start=change["new"])

  def _on_end(self, change):
    if change["new"] != self.end:
      self.pick(end=change["new"])

  def _sync_sliders(self):
    for slider, value in ((self.start_slider, self.start), (self.end_slider, self.end)):
      if slider.value != value:
        slider.value = value

  def _draw_scatter(self):
    fig = scatter_figure(self.data, selected=(self.start, self.end),
                         paths=self.view.paths if self.view is not None else None)
    self.scatter_image.value = png_bytes(fig)

  def _repr_mimebundle_(self, **kwargs):
    return self.widget._repr_mimebundle_(**kwargs)
