"""`apply_in_batches`: one batch size for every call, outputs in order, padding dropped."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax._batching import apply_in_batches


def test_outputs_equal_the_whole_batch_and_every_call_has_one_size():
  x = np.arange(14, dtype=np.float32).reshape(7, 2)
  sizes = []

  def fn(b):
    sizes.append(b.shape[0])
    return {"sum": b.sum(axis=1), "twice": 2 * b}

  out = apply_in_batches(fn, x, batch_size=3)
  np.testing.assert_array_equal(out["sum"], x.sum(axis=1))
  np.testing.assert_array_equal(out["twice"], 2 * x)
  assert sizes == [3, 3, 3]


def test_a_jitted_function_compiles_once_and_padding_repeats_real_rows():
  traces = []

  @jax.jit
  def fn(b):
    traces.append(b.shape)
    return jnp.min(b, axis=1)  # padding by zeros would not change this; check the rows

  x = np.full((5, 4), 7.0, np.float32)
  np.testing.assert_array_equal(apply_in_batches(fn, x, batch_size=4), np.full(5, 7.0))
  assert traces == [(4, 4)]


def test_pytree_inputs_and_a_batch_larger_than_the_data():
  x = {"a": np.ones((2, 3)), "b": np.arange(2)}
  out = apply_in_batches(lambda t: t["a"].sum(axis=1) + t["b"], x, batch_size=100)
  np.testing.assert_array_equal(out, [3.0, 4.0])


@pytest.mark.parametrize(("x", "size", "match"), [
    (np.ones((3, 2)), 0, "batch_size"),
    (np.ones((0, 2)), 2, "`x`"),
    ({"a": np.ones((3,)), "b": np.ones((2,))}, 2, "`x`"),
    ({}, 2, "`x`"),
])
def test_bad_arguments_are_named(x, size, match):
  with pytest.raises(ValueError, match=match):
    apply_in_batches(lambda b: b, x, size)


def test_outputs_without_the_batch_axis_are_refused():
  with pytest.raises(ValueError, match="`fn` must return"):
    apply_in_batches(lambda b: b.sum(), np.ones((4, 2)), 2)
