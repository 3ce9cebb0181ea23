"""Tests for latentjax.viz GIF writing."""

import numpy as np
import pytest
from PIL import Image, ImageSequence

from latentjax import viz


def _frames(t=5, shape=(8, 8)):
  ramp = np.linspace(0, 1, t)[:, None, None]
  return np.broadcast_to(ramp, (t, *shape)) * np.random.default_rng(0).random(shape)


def test_save_gif_writes_upscaled_looping_animation(tmp_path):
  path = viz.save_gif(_frames(), tmp_path / "gifs" / "walk.gif", fps=5)
  with Image.open(path) as im:
    assert im.format == "GIF"
    assert im.size == (128, 128)  # 8x8 frames upscaled to min_cell_px=128.
    assert im.n_frames == 5
    assert im.info["loop"] == 0
    assert im.info["duration"] == 200
    frames = [np.asarray(f.convert("L")) for f in ImageSequence.Iterator(im)]
  assert np.std(frames[-1]) > 0
  assert not np.array_equal(frames[0], frames[-1])


def test_save_gif_boomerang_pause_and_rgb(tmp_path):
  rgb = np.random.default_rng(1).random((4, 6, 10, 3))
  path = viz.save_gif(rgb, tmp_path / "b.gif", boomerang=True, pause_ends=1, upscale=3,
                      loop=None)
  seq = viz.gif_frames(rgb, boomerang=True, pause_ends=1, upscale=3)
  assert seq.shape == (1 + 4 + 1 + 2, 18, 30, 3)  # pause, forward, pause, back (no ends).
  with Image.open(path) as im:
    assert im.size == (30, 18)
    assert "loop" not in im.info
    # Pillow merges identical consecutive frames (the pauses) into longer ones.
    durations = [f.info["duration"] for f in ImageSequence.Iterator(im)]
  assert len(durations) == 6 and sum(durations) == 8 * 100


def test_save_gif_errors(tmp_path):
  with pytest.raises(ValueError, match=r"`frames` must be \[T, H, W, C\]"):
    viz.save_gif(np.zeros((4, 8, 8, 2)), tmp_path / "x.gif")
  with pytest.raises(ValueError, match="`fps` must be positive"):
    viz.save_gif(_frames(), tmp_path / "x.gif", fps=0)
