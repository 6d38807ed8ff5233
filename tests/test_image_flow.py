"""ImageFlow (issue 12): configurations, bad input rejected before work, mass of the bound, training."""
import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfp_flows.models.image_flow import ImageFlow
from tfp_flows.models.image_flow_configs import CONFIGS

TINY = dict(steps=1, filters=4, num_blocks=0)


@pytest.fixture(scope="module")
def conditional():
  return CONFIGS["baseline"](num_classes=10, **TINY)


def test_configurations_shapes_and_contracts():
  shapes = {name: make(**TINY).latent_shape for name, make in CONFIGS.items()}
  assert shapes == {"baseline": (7, 7, 4), "maxpool": (7, 7, 1), "reproduction": (3, 3, 1)}
  assert CONFIGS["maxpool"](**TINY).likelihood == "bound"
  assert CONFIGS["reproduction"](**TINY).likelihood == "approximate"


@pytest.mark.parametrize("scales,match", [
    ([{"steps": 1, "reduce": "maxpool", "pool_size": 3}, {"steps": 1}], "divisible by pool_size 3"),
    ([{"steps": 1, "reduce": "maxpool_overlap", "pool_size": 3, "stride": 2}, {"steps": 1}],
     "pool_size=3, stride=2"),
    ([{"steps": 1, "reduce": "maxpool_overlap", "pool_size": 2, "stride": 2}, {"steps": 1}],
     "pool_size=2, stride=2"),
    ([{"steps": 1, "reduce": "slice"}], "except the last"),
])
def test_pools_that_do_not_tile_are_rejected(scales, match):
  with pytest.raises(ValueError, match=match):
    ImageFlow(scales, image_shape=(28, 28, 1), **{k: v for k, v in TINY.items() if k != "steps"})


def test_bad_data_is_rejected_before_work(conditional):
  good = np.zeros([2, 28, 28, 1])
  with pytest.raises(ValueError, match=r"shape \(2, 28, 28\), expected \[N, 28, 28, 1\]"):
    conditional.check_data(good[..., 0], [1, 2])
  with pytest.raises(ValueError, match=r"integers in \[0, 255\] \(8 bits\); images\[1, 3, 4, 0\] = 256"):
    bad = good.copy()
    bad[1, 3, 4, 0] = 256
    conditional.check_data(bad, [1, 2])
  with pytest.raises(ValueError, match="= 0.5"):
    conditional.check_data(good + 0.5, [1, 2])
  with pytest.raises(ValueError, match=r"ImageFlow: labels must be in \[0, 9\] \(num_classes=10\), "
                                       r"got labels\[1\] = 10 \(1 of 2 entries are not\)"):
    conditional.check_data(good, [1, 10])
  with pytest.raises(ValueError, match="needs a label"):
    conditional.check_data(good)
  with pytest.raises(ValueError, match="unconditional"):
    CONFIGS["maxpool"](**TINY).check_data(good, [1, 2])
  with pytest.raises(ValueError, match="needs a label"):
    conditional({"image": good})
  with pytest.raises(ValueError, match=r"expected \[batch, 28, 28, 1\]"):
    conditional({"image": np.zeros([2, 14, 14, 1]), "label": np.array([1, 2])})
  with pytest.raises(ValueError, match=r"ImageFlow: labels must be in \[0, 9\] .* got labels\[1\] = -1"):
    conditional.sample(labels=[3, -1])


def test_probabilities_of_all_binary_2x2_images_sum_to_at_most_one():
  """1-bit 2x2 images: the 16 importance-weighted bounds exp(-bits * 4) sum to <= 1 (plus MC error)."""
  keras.utils.set_random_seed(0)
  model = ImageFlow([{"steps": 2, "reduce": "slice"}, {"steps": 2}], image_shape=(2, 2, 1),
                    num_bits=1, filters=4, num_blocks=0, dtype="float64")
  images = np.array(list(itertools.product([0, 1], repeat=4)), float).reshape(16, 2, 2, 1)
  model(images, training=True)  # ActNorm initialisation on all 16 images
  for v in model.trainable_variables:
    v.assign(v + 0.2 * np.random.default_rng(1).standard_normal(v.shape))
  bits = model.bits_per_dim(images, num_samples=256, batch_size=4096)
  total = float(np.sum(2.0 ** (-4 * bits)))
  assert 0.2 < total < 1.02, total


def test_conditional_fit_lowers_bits_per_dim():
  keras.utils.set_random_seed(0)
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 2, 32)
  images = np.where(rng.random([32, 8, 8, 1]) < 0.3 + 0.4 * labels[:, None, None, None], 3, 0)
  model = ImageFlow([{"steps": 1, "reduce": "maxpool", "pool_size": 2}, {"steps": 1}],
                    image_shape=(8, 8, 1), num_bits=2, num_classes=2, filters=8, num_blocks=0)
  model.compile(optimizer=keras.optimizers.Adam(1e-2))
  data = {"image": images.astype("float32"), "label": labels}
  history = model.fit(data, batch_size=32, epochs=20, verbose=0).history["loss"]
  assert history[-1] < history[0] - 0.3, history
  np.testing.assert_allclose(model.bits_per_dim(images, labels).mean(), history[-1], atol=0.15)
  assert model.sample(labels=[0, 1]).shape == (2, 8, 8, 1)
