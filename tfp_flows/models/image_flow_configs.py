"""Named configurations of `ImageFlow` for 28x28 MNIST: multiscale baseline, MaxPoolFlow, the reproduction's."""
from tfp_flows.models.image_flow import ImageFlow


def baseline(steps=4, num_scales=3, **kwargs):
  """RealNVP/Glow multiscale flow: per scale `steps` steps, then squeeze and factor out half (`"slice"`).

  On 28x28x1: 28x28x1 -> 14x14x2 -> 7x7x4 (3 scales; 7 cannot be squeezed further).

  Args:
    steps: flow steps per scale.
    num_scales: scales (2 or 3 on MNIST).
    **kwargs: passed to `ImageFlow` (num_classes, filters, ...).
  """
  scales = [{"steps": steps, "reduce": "slice"}] * (num_scales - 1) + [{"steps": steps}]
  return ImageFlow(scales, **kwargs)


def maxpool_flow(steps=4, num_scales=3, **kwargs):
  """The baseline with a 2x2 `MaxPool2D` in place of each squeeze + slice (SurVAE's MaxPoolFlow, Sec. 5.3).

  On 28x28x1: 28x28x1 -> 14x14x1 -> 7x7x1. The pooled dimension falls 4x per
  scale (2x for the baseline's factor-out); exact likelihood (a bound with
  dequantization).
  """
  scales = ([{"steps": steps, "reduce": "maxpool", "pool_size": 2}] * (num_scales - 1)
            + [{"steps": steps}])
  return ImageFlow(scales, **kwargs)


def reproduction(steps=5, **kwargs):
  """The reproduction's architecture: 4 scales of `steps` couplings; max-pool 28 -> 14 -> 7, overlapping 7 -> 3.

  The last pool is `MaxPool2DOverlap` (3x3 windows, stride 2), so the model's
  likelihood is approximate ("approx." in every table).
  """
  pool = {"steps": steps, "reduce": "maxpool", "pool_size": 2}
  scales = [pool, pool, {"steps": steps, "reduce": "maxpool_overlap", "pool_size": 3,
                         "stride": 2}, {"steps": steps}]
  return ImageFlow(scales, **kwargs)


CONFIGS = {"baseline": baseline, "maxpool": maxpool_flow, "reproduction": reproduction}
