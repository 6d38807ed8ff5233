"""The IAF-VAE of Kingma et al. 2016: ResNet VAE with an inverse-autoregressive-flow posterior."""
import keras

from tfp_flows.layers.masked_affine import MaskedAffine
from tfp_flows.layers.permutation import Permutation
from tfp_flows.layers.resnet import ResNetDecoder, ResNetEncoder
from tfp_flows.models.vae import BernoulliDecoder, BernoulliVAE, FlowPosterior

POSTERIORS = ("diagonal", "iaf")
SIGMAS = {"learned": "sigmoid", "constant": "one"}


@keras.saving.register_keras_serializable(package="tfp_flows")
class IAFVAE(BernoulliVAE):
  """VAE with a diagonal-Gaussian or IAF posterior (Kingma et al. 2016, arXiv:1606.04934).

  MNIST architecture of the paper's appendix: `ResNetEncoder` (ResNet blocks
  with [16, 32, 32] channels, 2-strided then 1-strided, a 450-unit dense
  layer to the posterior's mean and scale and to the context h) and the
  symmetric `ResNetDecoder` with transposed convolutions, weight
  normalization and ELU throughout, 32 latent dimensions and a Bernoulli
  likelihood. With `posterior="iaf"`, `depth` IAF steps follow the Gaussian
  draw (Sec. 4, eq. 10-14): each a MADE with two hidden layers of `width`
  units that also sees h, giving (m, s); `sigma = sigmoid(s + 1.5)` and
  `z <- sigma * z + (1 - sigma) * m`, so log q falls by `sum log sigma`
  (`sigma="learned"`), or `z <- z + m` (`sigma="constant"`, sigma = 1, the
  volume-preserving variant); the variable order is reversed between steps.
  Each step costs one MADE pass when sampling, which is all the ELBO needs.

  Shapes: images `[batch, 28, 28, 1]` in {0, 1}; z `[batch, latent_size]`.

  Args:
    latent_size: L (32 in the paper).
    posterior: "diagonal" or "iaf".
    depth: number of IAF steps.
    width: hidden units of each step's MADE (320 or 1920 in the paper).
    sigma: "learned" or "constant".
    channels: encoder channels per resolution (the decoder uses them reversed).
    hidden_units: width of the dense layer (450).
    context_size: width of h.
    image_shape: shape of one image.
    free_bits, kl_warmup_steps: see `BernoulliVAE`.
    **kwargs: passed to `keras.Model`.

  Raises:
    ValueError: for an unknown `posterior` or `sigma`, or `depth < 1` with an IAF.

  Example:
    >>> model = IAFVAE(posterior="iaf", depth=2, width=320)
    >>> model.compile(keras.optimizers.Adamax(2e-3))
    >>> # model.fit(load_mnist("train", batch_size=100, shuffle=True), epochs=10)
  """

  def __init__(self, latent_size=32, posterior="diagonal", depth=2, width=320, sigma="learned",
               channels=(16, 32, 32), hidden_units=450, context_size=450,
               image_shape=(28, 28, 1), free_bits=0.0, kl_warmup_steps=0, **kwargs):
    if posterior not in POSTERIORS:
      raise ValueError(f"unknown posterior {posterior!r}; choose from {POSTERIORS}.")
    if sigma not in SIGMAS:
      raise ValueError(f"unknown sigma {sigma!r}; choose from {sorted(SIGMAS)}.")
    if posterior == "iaf" and int(depth) < 1:
      raise ValueError(f"an IAF posterior needs depth >= 1, got {depth}.")
    L, channels = int(latent_size), tuple(int(c) for c in channels)
    steps = []
    for k in range(int(depth) if posterior == "iaf" else 0):
      if k:
        steps.append(Permutation(L, kind="reverse"))
      steps.append(MaskedAffine(L, inverse=True, hidden_units=int(width), num_blocks=1,
                                activation="elu", scale=SIGMAS[sigma],
                                context_size=int(context_size)))
    encoder = ResNetEncoder(L, channels, hidden_units, context_size if steps else None)
    decoder = ResNetDecoder(image_shape, channels[::-1], hidden_units)
    super().__init__(FlowPosterior(encoder, steps), BernoulliDecoder(decoder), L, image_shape,
                     free_bits=free_bits, kl_warmup_steps=kl_warmup_steps, **kwargs)
    self._config = {"latent_size": L, "posterior": posterior, "depth": int(depth),
                    "width": int(width), "sigma": sigma, "channels": channels,
                    "hidden_units": int(hidden_units), "context_size": int(context_size),
                    "image_shape": self.image_shape, "free_bits": self.free_bits,
                    "kl_warmup_steps": self.kl_warmup_steps}
