"""The argument checks of `tfp_flows.checks`: each returns good input in canonical form and
rejects bad input with a message naming the owner, the argument, the value and what was expected."""
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.checks import (check_bool, check_callable, check_choice, check_finite, check_int,
                              check_ints, check_positive, check_values)


@pytest.mark.parametrize("call, expected", [
    (lambda: check_int("Owner", "size", 3), 3),
    (lambda: check_int("Owner", "size", np.int64(2), minimum=2), 2),
    (lambda: check_int("Owner", "blocks", 0, minimum=0), 0),
    (lambda: check_int("Owner", "size", None, optional=True), None),
    (lambda: check_int("Owner", "seed", 2**32 - 1, minimum=0, maximum=2**32 - 1), 2**32 - 1),
    (lambda: check_finite("Owner", "slope", np.float64(-0.5)), -0.5),
    (lambda: check_choice("Owner", "mode", "b", ("a", "b")), "b"),
    (lambda: check_ints("Owner", "shape", [4, np.int32(5)]), (4, 5)),
    (lambda: check_ints("Owner", "hidden", ()), ()),
    (lambda: check_positive("Owner", "bound", 2), 2.0),
    (lambda: check_positive("Owner", "bound", np.float32(0.5)), 0.5),
    (lambda: check_bool("Owner", "flag", np.bool_(True)), True),
    (lambda: check_callable("Owner", "fn", len), len),
])
def test_good_input_comes_back_in_canonical_form(call, expected):
  got = call()
  assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("call, error, message", [
    (lambda: check_int("Owner", "size", 0), ValueError,
     r"^Owner: size must be an integer >= 1, got 0\.$"),
    (lambda: check_int("Owner", "size", np.int64(1), minimum=2), ValueError,
     r"^Owner: size must be an integer >= 2, got 1\.$"),
    (lambda: check_int("Owner", "size", 2.0), TypeError,
     r"^Owner: size must be an integer >= 1, got 2\.0 of type float\.$"),
    (lambda: check_int("Owner", "size", True), TypeError,
     r"^Owner: size must be an integer >= 1, got True of type bool\.$"),
    (lambda: check_int("Owner", "size", None), TypeError,
     r"^Owner: size must be an integer >= 1, got None of type NoneType\.$"),
    (lambda: check_int("Owner", "size", "3", optional=True), TypeError,
     r"^Owner: size must be an integer >= 1 or None, got '3' of type str\.$"),
    (lambda: check_int("Owner", "seed", 2**32, minimum=0, maximum=2**32 - 1), ValueError,
     r"^Owner: seed must be an integer in 0 \.\. 4294967295, got 4294967296\.$"),
    (lambda: check_int("Owner", "seed", -1, minimum=0, maximum=9), ValueError,
     r"^Owner: seed must be an integer in 0 \.\. 9, got -1\.$"),
    (lambda: check_finite("Owner", "slope", float("nan")), ValueError,
     r"^Owner: slope must be a finite number, got nan\.$"),
    (lambda: check_finite("Owner", "slope", None), TypeError,
     r"^Owner: slope must be a finite number, got None of type NoneType\.$"),
    (lambda: check_choice("Owner", "mode", "c", ("a", "b")), ValueError,
     r"^Owner: mode must be one of \('a', 'b'\), got 'c'\.$"),
    (lambda: check_ints("Owner", "shape", (4, 0)), ValueError,
     r"^Owner: shape\[1\] must be an integer >= 1, got 0\.$"),
    (lambda: check_ints("Owner", "shape", 4), TypeError,
     r"^Owner: shape must be a sequence of integers >= 1, got 4 of type int\.$"),
    (lambda: check_ints("Owner", "shape", "44"), TypeError,
     r"^Owner: shape must be a sequence of integers >= 1, got '44' of type str\.$"),
    (lambda: check_positive("Owner", "bound", 0.0), ValueError,
     r"^Owner: bound must be a positive finite number, got 0\.0\.$"),
    (lambda: check_positive("Owner", "bound", float("inf")), ValueError,
     r"^Owner: bound must be a positive finite number, got inf\.$"),
    (lambda: check_positive("Owner", "bound", "1"), TypeError,
     r"^Owner: bound must be a positive finite number, got '1' of type str\.$"),
    (lambda: check_positive("Owner", "bound", True), TypeError,
     r"^Owner: bound must be a positive finite number, got True of type bool\.$"),
    (lambda: check_bool("Owner", "flag", 1), TypeError,
     r"^Owner: flag must be True or False, got 1 of type int\.$"),
    (lambda: check_callable("Owner", "fn", 3, "a tfd.Distribution"), TypeError,
     r"^Owner: fn must be a callable returning a tfd.Distribution, got 3 of type int\.$"),
    (lambda: check_callable("Owner", "fn", "f"), TypeError,
     r"^Owner: fn must be a callable, got 'f' of type str\.$"),
])
def test_bad_input_is_named_with_its_value_and_what_was_expected(call, error, message):
  with pytest.raises(error, match=message):
    call()


def test_check_values_names_the_first_bad_entry_eagerly_and_asserts_in_a_graph():
  x = tf.constant([[0.0, 1.0], [1.0, 0.5], [2.0, 1.0]])
  with pytest.raises(ValueError, match=r"^Owner: x must be binary, got x\[1, 1\] = 0\.5 "
                                       r"\(2 of 6 entries are not\); binarize it\.$"):
    check_values("Owner", "x", x, (x == 0) | (x == 1), "binary", "binarize it")
  good = x[:1]
  check_values("Owner", "x", good, (good == 0) | (good == 1), "binary")
  with pytest.raises(ValueError, match=r"^Owner: x must be < 2 in column 0; 1 of 3 entries are "
                                       r"not\.$"):  # `ok` of another shape: no entry to name
    check_values("Owner", "x", x, x[:, 0] < 2, "< 2 in column 0")

  @tf.function
  def graph(v):
    check_values("Owner", "x", v, v >= 0, ">= 0", "shift it")
    return v

  np.testing.assert_array_equal(graph(tf.constant([1.0, 2.0])), [1.0, 2.0])
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"Owner: x must be >= 0; shift it\."):
    graph(tf.constant([1.0, -2.0]))
