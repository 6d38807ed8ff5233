"""tfp_flows: normalizing flows and surjective flows for TensorFlow Probability, with Keras 3 models.

Layers: `bijectors`, `surjections`, `distributions` (pure TFP math),
`layers` (Keras 3 layers that own variables and return TFP objects),
`models` (Keras 3 models trained with `model.fit`), beside `datasets` and
`metrics`. Direction convention (TFP's): a bijector's `forward` maps latent
to data, and `log_prob(x)` runs `inverse`.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
