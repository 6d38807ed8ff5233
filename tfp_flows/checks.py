"""Argument checks for every public constructor and entry point of `tfp_flows`.

One convention: `check_*(owner, name, value, ...)` returns the value in its
canonical Python form (`int`, `float`, `tuple`, ...) or raises before any
work, with a message `"{owner}: {name} must be {expected}, got {value}"`
that names the class or function, the argument, what was expected and the
value given. A wrong type raises `TypeError`, a value of the right type out
of range `ValueError`.

The module imports no Keras (only NumPy, and TensorFlow for `check_values`),
so every layer of the package can use it, `surjections/` included.

Example:
  >>> check_int("Slice", "keep", 2)
  2
  >>> check_int("Slice", "keep", 0)
  Traceback (most recent call last):
  ValueError: Slice: keep must be an integer >= 1, got 0.
"""
import math
import numbers

import numpy as np
import tensorflow as tf


def check_int(owner, name, value, minimum=1, optional=False, maximum=None):
  """An integer argument in `minimum .. maximum` as a Python `int` (or `None` when `optional`).

  Args:
    owner: the class or function name, for the message.
    name: the argument's name.
    value: the value given: a Python or NumPy integer (bools and floats,
      even integral ones such as `2.0`, are rejected).
    minimum: the smallest allowed value.
    optional: whether `None` is allowed (and returned as is).
    maximum: the largest allowed value (None: no bound), e.g. `2**32 - 1` for a NumPy seed.

  Returns:
    `int(value)`, or `None`.

  Raises:
    TypeError: if `value` is not an integer (nor `None` when `optional`).
    ValueError: if `value < minimum` or `value > maximum`.
  """
  if value is None and optional:
    return None
  bounds = f">= {minimum}" if maximum is None else f"in {minimum} .. {maximum}"
  expected = f"an integer {bounds}{' or None' if optional else ''}"
  if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
    raise TypeError(f"{owner}: {name} must be {expected}, got {value!r} of type "
                    f"{type(value).__name__}.")
  if value < minimum or (maximum is not None and value > maximum):
    raise ValueError(f"{owner}: {name} must be {expected}, got {int(value)}.")
  return int(value)


def check_ints(owner, name, value, minimum=1):
  """A sequence of integers `>= minimum` (a shape, hidden widths) as a tuple; may be empty.

  Args:
    owner: the class or function name, for the message.
    name: the argument's name; entry i is named `name[i]`.
    value: a list, tuple or other iterable of integers (not a string).
    minimum: the smallest allowed entry.

  Returns:
    A tuple of Python `int`s.

  Raises:
    TypeError: if `value` is not a sequence or an entry is not an integer.
    ValueError: if an entry is `< minimum`.
  """
  if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
    raise TypeError(f"{owner}: {name} must be a sequence of integers >= {minimum}, got "
                    f"{value!r} of type {type(value).__name__}.")
  return tuple(check_int(owner, f"{name}[{i}]", v, minimum) for i, v in enumerate(value))


def check_positive(owner, name, value):
  """A positive finite real argument as a Python `float`.

  Args:
    owner: the class or function name, for the message.
    name: the argument's name.
    value: a Python or NumPy real number (bools are rejected).

  Returns:
    `float(value)`.

  Raises:
    TypeError: if `value` is not a real number.
    ValueError: if it is not finite or not `> 0`.
  """
  return _check_real(owner, name, value, "a positive finite number", lambda v: v > 0)


def check_finite(owner, name, value):
  """A finite real argument of any sign as a Python `float`.

  Raises:
    TypeError: if `value` is not a real number (bools are rejected).
    ValueError: if it is NaN or infinite.
  """
  return _check_real(owner, name, value, "a finite number", lambda v: True)


def _check_real(owner, name, value, expected, ok):
  if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
    raise TypeError(f"{owner}: {name} must be {expected}, got {value!r} of type "
                    f"{type(value).__name__}.")
  if not (math.isfinite(value) and ok(value)):
    raise ValueError(f"{owner}: {name} must be {expected}, got {value!r}.")
  return float(value)


def check_choice(owner, name, value, choices):
  """One of the allowed values `choices` (a tuple), returned as is.

  Raises:
    ValueError: if `value` is not in `choices`, e.g. `f: activation must be one of ('xtanh',
      'lrelu'), got 'relu'.`
  """
  if value not in choices:
    raise ValueError(f"{owner}: {name} must be one of {tuple(choices)}, got {value!r}.")
  return value


def check_bool(owner, name, value):
  """A flag as a Python `bool`: `True` or `False` (or a NumPy bool), nothing that merely converts.

  Raises:
    TypeError: if `value` is not a bool (`1`, `"yes"` and `None` included).
  """
  if not isinstance(value, (bool, np.bool_)):
    raise TypeError(f"{owner}: {name} must be True or False, got {value!r} of type "
                    f"{type(value).__name__}.")
  return bool(value)


def check_callable(owner, name, value, returns=None):
  """A callable argument, returned as is.

  Args:
    owner: the class or function name, for the message.
    name: the argument's name.
    value: the value given.
    returns: what the callable must return, for the message (e.g.
      `"a tfd.Distribution"`), or `None`.

  Raises:
    TypeError: if `value` is not callable.
  """
  if not callable(value):
    what = "a callable" + ("" if returns is None else f" returning {returns}")
    raise TypeError(f"{owner}: {name} must be {what}, got {value!r} of type "
                    f"{type(value).__name__}.")
  return value


def check_values(owner, name, value, ok, expected, hint=None):
  """Checks the entries of a tensor: `ValueError` when they are known, a graph assertion otherwise.

  Eagerly (or for constants) the message names the first offending entry,
  `"{owner}: {name} must be {expected}, got {name}[i, j] = v (k of n entries
  are not); {hint}."`; inside a `tf.function` it is the same without the
  entry, raised when the graph runs.

  Args:
    owner: the class or function name, for the message.
    name: the tensor's name, e.g. `"x"` or `"labels"`.
    value: the tensor checked, `[...]`.
    ok: boolean tensor of `value`'s shape, True where the entry is valid.
    expected: what every entry must be, e.g. `"binary (0 or 1)"`.
    hint: how to mend it, appended to the message, or `None`.

  Raises:
    ValueError: eagerly, when some entry of `ok` is False.
    tf.errors.InvalidArgumentError: at run time inside a `tf.function`.
  """
  message = f"{owner}: {name} must be {expected}"
  hint = "" if hint is None else f"; {hint}"
  known = tf.get_static_value(ok)
  if known is None:
    tf.debugging.Assert(tf.reduce_all(ok), [f"{message}{hint}."])
    return
  known = np.asarray(known)
  if known.all():
    return
  bad = np.argwhere(~known)
  values = tf.get_static_value(value)
  if values is None or np.shape(values) != known.shape:
    raise ValueError(f"{message}; {len(bad)} of {known.size} entries are not{hint}.")
  index = tuple(int(i) for i in bad[0])
  raise ValueError(f"{message}, got {name}{list(index)} = {np.asarray(values)[index]} "
                   f"({len(bad)} of {known.size} entries are not){hint}.")
