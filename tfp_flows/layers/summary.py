"""Summary networks: a learned embedding of an observed series, the context of a conditional flow."""
import keras
from keras import ops

from tfp_flows.layers.mlp import MLP


@keras.saving.register_keras_serializable(package="tfp_flows")
class SummaryNetwork(keras.layers.Layer):
  """Embeds a count series `[..., T, K]` into a context vector `[..., units]`.

  Counts are compressed with `log1p` first (Poisson counts span orders of
  magnitude). `kind="mlp"`: the series is flattened and passed through an MLP
  (the reproduction's [200, 200, 200] hidden widths and 100 outputs);
  `kind="conv"`: three 1-D convolutions (kernel 5, stride 2, `filters`
  channels, ReLU) over time, global average pooling, then a dense layer to
  `units` (Radev et al. 2020, BayesFlow, use such summary networks for series).

  Args:
    length: T, the series length.
    channels: K, values per time step.
    kind: "mlp" or "conv".
    hidden: MLP hidden widths (kind "mlp").
    units: context width C.
    filters: convolution channels (kind "conv").
    **kwargs: passed to `keras.layers.Layer`.

  Raises:
    ValueError: for an unknown kind or non-positive sizes; in `call`, for
      inputs whose last two dimensions are not `[T, K]`.
  """

  def __init__(self, length, channels, kind="mlp", hidden=(200, 200, 200), units=100,
               filters=32, **kwargs):
    super().__init__(**kwargs)
    if kind not in ("mlp", "conv"):
      raise ValueError(f"kind = {kind!r}: expected 'mlp' or 'conv'.")
    if min(int(length), int(channels), int(units), int(filters)) < 1:
      raise ValueError(f"length = {length}, channels = {channels}, units = {units}, "
                       f"filters = {filters}: expected positive sizes.")
    self.length, self.channels, self.kind = int(length), int(channels), kind
    self.hidden, self.units, self.filters = tuple(int(h) for h in hidden), int(units), int(filters)
    if kind == "mlp":
      self.net = MLP(self.hidden, self.units, dtype=self.dtype_policy)
      self.net.build((None, self.length * self.channels))
    else:
      self.convs = [keras.layers.Conv1D(self.filters, 5, strides=2, padding="same",
                                        activation="relu", dtype=self.dtype_policy)
                    for _ in range(3)]
      self.head = keras.layers.Dense(self.units, dtype=self.dtype_policy)
      shape = (None, self.length, self.channels)
      for conv in self.convs:
        conv.build(shape)
        shape = conv.compute_output_shape(shape)
      self.head.build((None, self.filters))
    self.built = True

  def call(self, x):
    """Context `[..., units]` for counts `x [..., T, K]`."""
    if tuple(x.shape[-2:]) != (self.length, self.channels):
      raise ValueError(f"{self.name} expects series of shape [..., {self.length}, "
                       f"{self.channels}], got {tuple(x.shape)}.")
    h = ops.log1p(ops.cast(x, self.compute_dtype))
    if self.kind == "mlp":
      lead = ops.shape(h)[:-2]
      return self.net(ops.reshape(h, (*lead, self.length * self.channels)))
    lead = ops.shape(h)[:-2]
    h = ops.reshape(h, (-1, self.length, self.channels))
    for conv in self.convs:
      h = conv(h)
    return ops.reshape(self.head(ops.mean(h, axis=1)), (*lead, self.units))

  def get_config(self):
    return {**super().get_config(), "length": self.length, "channels": self.channels,
            "kind": self.kind, "hidden": self.hidden, "units": self.units,
            "filters": self.filters}
