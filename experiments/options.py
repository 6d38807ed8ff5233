"""The options several studies share, declared once, and checks of option values for `configure`.

Part of `experiments.runner` (which re-exports these names: studies call `runner.choices`,
...). Declarations (a study's `add_arguments`, each with the study's own help text):
`add_seed` (`--seed`), `add_names` (a list option such as `--models`), `add_count` (a count
overriding the preset's, such as `--epochs`). Checks (a study's `configure`): each takes the
option's name as typed (e.g. `"--epochs"`) and the value argparse gave (strings, or a list of
strings for a list option), returns the parsed value and, for a bad one, raises a ValueError
naming the option, the value and what was expected, before any work; `override_count`
applies a count option to the config.
"""
import math

SEED_MAX = 2**32 - 1  # NumPy's and tf.random's seeds are 32-bit


def integer(option, value, low, high=None, words=()):
  """`int(value)` if an integer in `low .. high`, or `value` itself if it is one of `words`.

  Args:
    option: the option's name, for the message.
    value: the value given, e.g. `"3"`.
    low: the least integer accepted.
    high: the largest integer accepted (None: no bound).
    words: strings also accepted as they are, e.g. `("auto",)`.

  Raises:
    ValueError: e.g. `--parallel must be 'auto' or an integer >= 1, got 'many'.`
  """
  if value in words:
    return value
  try:
    number = int(str(value))
  except ValueError:
    number = None
  if number is None or number < low or (high is not None and number > high):
    bounds = f">= {low}" if high is None else f"in {low} .. {high}"
    expected = " or ".join([*map(repr, words), f"an integer {bounds}"])
    raise ValueError(f"{option} must be {expected}, got {value!r}.")
  return number


def positive_int(option, value):
  """`int(value)` if it is an integer >= 1, else a ValueError naming `option` and `value`."""
  return integer(option, value, 1)


def seed(option, value):
  """`int(value)` if a seed in 0 .. 2**32 - 1 (NumPy's range), else a ValueError naming `option`."""
  return integer(option, value, 0, SEED_MAX)


def number(option, value, low):
  """`float(value)` if a finite number >= `low`, else a ValueError naming `option` and `value`."""
  try:
    result = float(str(value))
  except ValueError:
    result = math.nan
  if not (math.isfinite(result) and result >= low):
    raise ValueError(f"{option} must be a finite number >= {low}, got {value!r}.")
  return result


def choices(option, values, allowed, expected=None):
  """The names given to a list option, each checked: a list of them, in order, without repeats.

  Args:
    option: the option's name, e.g. `"--models"`.
    values: what argparse gave (`nargs="+"`): names separated by spaces, commas or both, e.g.
      `["iflow,ivae"]` or `["planar-2", "nice"]`.
    allowed: the names accepted (a collection), or a predicate `name -> bool`.
    expected: what `allowed` accepts, in words (required with a predicate; default: the
      sorted names).

  Raises:
    ValueError: naming the option, the unknown names (or that none was given) and what was
      expected, e.g. `--models: unknown 'flowx'; expected names from ['iflow', 'ivae'],
      separated by spaces or commas.`
  """
  values = [values] if isinstance(values, str) else list(values)
  known = allowed if callable(allowed) else allowed.__contains__
  expected = expected or f"names from {sorted(allowed)}"
  names = [n.strip() for v in values for n in str(v).split(",") if n.strip()]
  unknown = [n for n in names if not known(n)]
  if unknown or not names:
    got = f"unknown {', '.join(map(repr, unknown))}" if unknown else f"no name in {values!r}"
    raise ValueError(f"{option}: {got}; expected {expected}, separated by spaces or commas.")
  return list(dict.fromkeys(names))


def add_seed(parser, help):
  """Declares `--seed`, the study's one seed (default "0"), checked in `configure` by `seed`."""
  parser.add_argument("--seed", default="0", help=help)


def add_names(parser, option, help, default=None):
  """Declares the list option `option` (names, `nargs="+"`), checked in `configure` by `choices`.

  `default` None: the preset's names (the study's `configure` falls back to them).
  """
  parser.add_argument(option, nargs="+", default=default, help=help)


def add_count(parser, option, help):
  """Declares `option`, a count >= 1 overriding the preset's (default None: the preset's).

  `configure` applies it with `override_count`.
  """
  parser.add_argument(option, default=None, help=help)


def override_count(config, args, option):
  """Sets `config[name]` (name: `option` without `--`, `-` as `_`) to the option's value, if given.

  Raises:
    ValueError: naming `option`, if the value is not an integer >= 1.
  """
  name = option.lstrip("-").replace("-", "_")
  value = getattr(args, name)
  if value is not None:
    config[name] = positive_int(option, value)
  return config
