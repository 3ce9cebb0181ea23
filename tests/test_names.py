"""did_you_mean: the closest valid name, or nothing when none is close."""

from latentjax._names import did_you_mean


def test_suggests_the_closest_name_only_when_one_is_close():
  assert did_you_mean("mnits", ["mnist", "fashion_mnist", "digits"]) == " (did you mean 'mnist'?)"
  assert did_you_mean("trian", ("test", "train")) == " (did you mean 'train'?)"
  assert did_you_mean("zzz", ["mnist", "digits"]) == ""
  assert did_you_mean("x", []) == ""
