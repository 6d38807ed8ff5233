"""The MLP VAE (DLGM) of Rezende & Mohamed 2015 with a planar or NICE posterior flow."""
import math

import keras
from keras import ops

from tfp_flows.layers.additive_coupling import AdditiveCoupling
from tfp_flows.layers.planar import Planar
from tfp_flows.models.vae import BernoulliDecoder, BernoulliVAE, FlowPosterior

POSTERIORS = ("diagonal", "planar", "nice")


@keras.saving.register_keras_serializable(package="tfp_flows")
class MLPEncoder(keras.layers.Layer):
  """Images -> `(loc [batch, L], scale [batch, L], h [batch, H])` through one hidden layer.

  `h` (the hidden layer, H units) is the context from which the posterior
  flow's parameters are computed; `scale = softplus(.) + 1e-4`.

  Args:
    latent_size: L.
    hidden_units: H.
    activation: Keras activation of the hidden layer.
    **kwargs: passed to `keras.layers.Layer`.
  """

  def __init__(self, latent_size, hidden_units=400, activation="elu", **kwargs):
    super().__init__(**kwargs)
    self.hidden = keras.layers.Dense(hidden_units, activation=activation)
    self.loc, self.scale = keras.layers.Dense(latent_size), keras.layers.Dense(latent_size)
    self._config = dict(latent_size=latent_size, hidden_units=hidden_units, activation=activation)

  def call(self, x):
    h = self.hidden(ops.reshape(x, (-1, math.prod(x.shape[1:]))))
    return self.loc(h), ops.softplus(self.scale(h)) + 1e-4, h

  def get_config(self):
    return {**super().get_config(), **self._config}


@keras.saving.register_keras_serializable(package="tfp_flows")
class MLPDecoder(keras.layers.Layer):
  """z `[batch, L]` -> Bernoulli logits `[batch, *image_shape]` through one hidden layer.

  Args:
    image_shape: shape of one image.
    hidden_units: H.
    activation: Keras activation of the hidden layer.
    **kwargs: passed to `keras.layers.Layer`.
  """

  def __init__(self, image_shape=(28, 28, 1), hidden_units=400, activation="elu", **kwargs):
    super().__init__(**kwargs)
    self.image_shape = tuple(int(s) for s in image_shape)
    self.hidden = keras.layers.Dense(hidden_units, activation=activation)
    self.logits = keras.layers.Dense(int(ops.prod(self.image_shape)))
    self._config = dict(
      image_shape=self.image_shape, hidden_units=hidden_units, activation=activation
    )

  def call(self, z):
    return ops.reshape(self.logits(self.hidden(z)), (-1,) + self.image_shape)

  def get_config(self):
    return {**super().get_config(), **self._config}


@keras.saving.register_keras_serializable(package="tfp_flows")
class DLGM(BernoulliVAE):
  """Deep latent Gaussian model with a normalizing-flow posterior (Rezende & Mohamed 2015, Sec. 6.2).

  Encoder and decoder are MLPs with one hidden layer of `hidden_units`;
  the posterior is `N(loc(x), diag scale(x)^2)` followed by `num_steps`
  planar steps (Sec. 4.1, eq. 10-12) or NICE additive couplings (Dinh et al.
  2015, Sec. 3.2; volume preserving, alternating halves), whose parameters are
  computed from the encoder's hidden layer (amortised, Sec. 4.2: planar steps
  add `Dense(h)` to their own u, w, b; NICE couplings see h in their networks).
  The paper's MNIST DLGM has 40 latent variables; its deterministic layers
  used maxout units, for which ELU stands in here.

  Shapes: images `[batch, 28, 28, 1]` in {0, 1}; z `[batch, latent_size]`.

  Args:
    latent_size: L.
    hidden_units: H, width of the hidden layers (and of the flow's context).
    posterior: "diagonal", "planar" or "nice".
    num_steps: K, flow steps (ignored for "diagonal").
    coupling_hidden: hidden widths of each NICE coupling network.
    image_shape: shape of one image.
    free_bits, kl_warmup_steps: see `BernoulliVAE`.
    **kwargs: passed to `keras.Model`.

  Raises:
    ValueError: for an unknown `posterior` or `num_steps < 1` with a flow.

  Example:
    >>> model = DLGM(posterior="planar", num_steps=10, kl_warmup_steps=10000)
    >>> model.compile(keras.optimizers.Adam(1e-3))
    >>> # model.fit(load_mnist("train", batch_size=100, shuffle=True), epochs=10)
  """

  def __init__(
    self,
    latent_size=40,
    hidden_units=400,
    posterior="diagonal",
    num_steps=10,
    coupling_hidden=(200,),
    image_shape=(28, 28, 1),
    free_bits=0.0,
    kl_warmup_steps=0,
    **kwargs,
  ):
    if posterior not in POSTERIORS:
      raise ValueError(f"unknown posterior {posterior!r}; choose from {POSTERIORS}.")
    if posterior != "diagonal" and int(num_steps) < 1:
      raise ValueError(f"a {posterior} posterior needs num_steps >= 1, got {num_steps}.")
    L, H = int(latent_size), int(hidden_units)
    if posterior == "planar":
      steps = [Planar(L, context_size=H) for _ in range(num_steps)]
    elif posterior == "nice":
      steps = [
        AdditiveCoupling(L, hidden=tuple(coupling_hidden), parity=k % 2, context_size=H)
        for k in range(num_steps)
      ]
    else:
      steps = []
    super().__init__(
      FlowPosterior(MLPEncoder(L, H), steps),
      BernoulliDecoder(MLPDecoder(image_shape, H)),
      L,
      image_shape,
      free_bits=free_bits,
      kl_warmup_steps=kl_warmup_steps,
      **kwargs,
    )
    self._config = dict(
      latent_size=L,
      hidden_units=H,
      posterior=posterior,
      num_steps=int(num_steps),
      coupling_hidden=tuple(coupling_hidden),
      image_shape=self.image_shape,
      free_bits=self.free_bits,
      kl_warmup_steps=self.kl_warmup_steps,
    )
