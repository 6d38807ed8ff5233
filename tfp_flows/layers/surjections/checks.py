"""Argument checks shared by the surjection layers (before any work)."""
from tfp_flows.surjections.base import check_int


def check_context_size(owner, context_size):
  """`None`, or the context width as an int >= 1.

  Raises:
    TypeError: if `context_size` is neither None nor an integer.
    ValueError: if it is < 1.
  """
  return None if context_size is None else check_int(owner, "context_size", context_size)


def check_hidden(owner, hidden):
  """Hidden widths as a tuple of ints >= 1 (may be empty).

  Raises:
    TypeError: if `hidden` is not a sequence of integers.
    ValueError: if a width is < 1.
  """
  if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
    raise TypeError(f"{owner}: hidden must be a sequence of integers >= 1, got {hidden!r}.")
  return tuple(check_int(owner, f"hidden[{i}]", h) for i, h in enumerate(hidden))


def check_bool(owner, name, value):
  """Raises TypeError unless `value` is a Python bool; returns it."""
  if not isinstance(value, bool):
    raise TypeError(f"{owner}: {name} must be True or False, got {value!r}.")
  return value
