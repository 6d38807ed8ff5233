"""Mixin for this package's tfds builders: their code path without tfds' resource lookup."""
import sys

import tensorflow_datasets as tfds
from etils import epath


class LocalCodePath:
  """Makes a tfds builder's `code_path` the file that defines it.

  tfds' default resolves it through `importlib_resources`, a package tfds uses
  but does not require on Python >= 3.9 (tensorflow/datasets issue #11212);
  the defining file is what that default returns. Put it before
  `tfds.core.GeneratorBasedBuilder` among the bases.
  """

  @tfds.core.utils.classproperty
  @classmethod
  def code_path(cls):
    return epath.Path(sys.modules[cls.__module__].__file__)
