"""Keras layer of the slice surjection (SurVAE Sec. 4.1); the math is `tfp_flows.surjections.SliceDistribution`."""
import keras

from tfp_flows.checks import check_int, check_ints
from tfp_flows.layers.step import check_context
from tfp_flows.layers.surjections.conditional import ConditionalLocScale
from tfp_flows.surjections.slice import SliceDistribution


@keras.saving.register_keras_serializable(package="tfp_flows")
class Slice(keras.layers.Layer):
  """Keras layer owning the Gaussian decoder p(x2 | z, context) of a `SliceDistribution`.

  Args:
    event_size: D, the size of x.
    keep: d, how many leading entries are kept as z.
    context_size: C of the context the decoder sees, or None.
    hidden: hidden widths of the decoder MLP.
    activation: decoder activation.
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    TypeError: for non-integer sizes or widths.
    ValueError: unless 0 < keep < event_size; for `context_size` or a hidden
      width < 1.
  """

  def __init__(self, event_size, keep, context_size=None, hidden=(64,), activation="relu",
               **kwargs):
    super().__init__(**kwargs)
    event_size = check_int("Slice", "event_size", event_size, minimum=2)
    keep = check_int("Slice", "keep", keep)
    if not keep < event_size:
      raise ValueError(f"Slice: keep = {keep} must satisfy 0 < keep < event_size = "
                       f"{event_size} (a slice larger than the input).")
    self.event_size, self.keep = event_size, keep
    self.context_size = check_int("Slice", "context_size", context_size, optional=True)
    self.hidden, self.activation = check_ints("Slice", "hidden", hidden), activation
    self.decoder = ConditionalLocScale(self.event_size - self.keep, self.keep,
                                       self.context_size, self.hidden, activation,
                                       dtype=self.dtype_policy)
    self.built = True

  def distribution(self, inner, context=None):
    """`SliceDistribution` on `inner` (event `[keep]`); the decoder also sees `context [..., C]`.

    Raises:
      ValueError: for a context that does not fit `context_size` (see `check_context`).
    """
    context = check_context(context, self.context_size, "Slice")
    return SliceDistribution(
        inner, lambda z: self.decoder.distribution(z, context=context), self.event_size)

  def call(self, x):
    """Data -> latent: returns `x[..., :keep]`."""
    return x[..., :self.keep]

  def get_config(self):
    return {**super().get_config(), "event_size": self.event_size, "keep": self.keep,
            "context_size": self.context_size, "hidden": self.hidden, "activation": self.activation}
