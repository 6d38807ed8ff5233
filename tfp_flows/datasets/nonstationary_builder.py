"""TensorFlow Datasets builder for `nonstationary_sources` (imports tfds).

Importing this module registers the tfds dataset ``nonstationary_sources``, so
that ``tfds.builder("nonstationary_sources/study_seed1", data_dir=...)`` works.
Configs ``study_seed<k>`` and ``visual_seed<k>`` exist for k = 1..100 (the
study's seeds); `make_builder` also accepts any other seed. Generation is
offline: the examples come from
`tfp_flows.datasets.nonstationary.nonstationary_sources`.
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from tfp_flows.checks import check_choice, check_int
from tfp_flows.datasets.code_path import LocalCodePath
from tfp_flows.datasets.nonstationary import SEED_MAX, SETTINGS, nonstationary_sources

_PREDEFINED_SEEDS = range(1, 101)
_CITATION = """@inproceedings{li2020identifying,
  title={Identifying through Flows for Recovering Latent Representations},
  author={Li, Shen and Hooi, Bryan and Lee, Gim Hee},
  booktitle={International Conference on Learning Representations},
  year={2020}
}"""


@dataclasses.dataclass
class NonstationaryConfig(tfds.core.BuilderConfig):
  """Config of `NonstationarySources`: a setting of `SETTINGS` and a seed.

  Attributes:
    setting: "study" (L=1000, M=40, n=5, 3 layers) or "visual" (L=1000, M=5,
      n=2, 3 layers).
    seed: Generator seed, an int in [0, 2**32 - 1].
  """

  setting: str = "study"
  seed: int = 1


def _config(setting, seed):
  check_choice("make_builder", "config", setting, tuple(SETTINGS))
  return NonstationaryConfig(
    name=f"{setting}_seed{seed}",
    setting=setting,
    seed=seed,
    description=f"{setting} setting {SETTINGS[setting]}, seed {seed}, xtanh "
    "mixing, uncentered Gaussian sources.",
  )


class NonstationarySources(LocalCodePath, tfds.core.GeneratorBasedBuilder):
  """Piecewise-stationary Gaussian sources mixed by a random xtanh MLP.

  One "train" split of N = L * M examples in generation order (segment k is
  examples k*L ... (k+1)*L - 1), each with float32 features ``x`` [n]
  (observation), ``s`` [n] (true sources) and ``u`` [M] (one-hot segment).
  Source: Li, Hooi & Lee 2019 (arXiv:1909.12555), synthetic data.
  """

  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = [_config(setting, seed) for setting in SETTINGS for seed in _PREDEFINED_SEEDS]

  def _info(self):
    params = SETTINGS[self.builder_config.setting]
    dim, n_segments = params["dim"], params["n_segments"]
    return tfds.core.DatasetInfo(
      builder=self,
      description=self.builder_config.description,
      features=tfds.features.FeaturesDict(
        {
          "x": tfds.features.Tensor(shape=(dim,), dtype=np.float32),
          "s": tfds.features.Tensor(shape=(dim,), dtype=np.float32),
          "u": tfds.features.Tensor(shape=(n_segments,), dtype=np.float32),
        }
      ),
      homepage="https://arxiv.org/abs/1909.12555",
      citation=_CITATION,
      disable_shuffling=True,
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    return {"train": self._generate_examples()}

  def _generate_examples(self):
    config = self.builder_config
    data = nonstationary_sources(**SETTINGS[config.setting], seed=config.seed)
    for i in range(data["x"].shape[0]):
      yield i, {key: data[key][i] for key in ("x", "s", "u")}


def make_builder(config="study", seed=1, data_dir=None):
  """Returns the `NonstationarySources` builder for a setting and seed.

  Args:
    config: "study" or "visual" (see `SETTINGS`).
    seed: Generator seed, an int in 0 .. 2**32 - 1; seeds outside 1..100 get a
      custom config of the same name pattern ``<config>_seed<seed>``.
    data_dir: tfds data directory (None: the tfds default).

  Returns:
    A `NonstationarySources` instance (not yet prepared).

  Raises:
    TypeError: For a seed that is not an integer.
    ValueError: For an unknown `config` or a seed outside 0 .. 2**32 - 1.
  """
  seed = check_int("make_builder", "seed", seed, minimum=0, maximum=SEED_MAX)
  builder_config = _config(config, seed)
  if seed in _PREDEFINED_SEEDS:
    builder_config = builder_config.name
  return NonstationarySources(config=builder_config, data_dir=data_dir)


def load_nonstationary(config="study", seed=1, data_dir=None):
  """Prepares (if needed) and loads the tfds `nonstationary_sources` dataset.

  See `NonstationarySources`. `tfp_flows.datasets.load_nonstationary` imports
  this module (and TensorFlow Datasets) on first use.

  Args:
    config: "study" (L=1000, M=40, n=5, 3 layers) or "visual" (L=1000, M=5,
      n=2, 3 layers); see `SETTINGS`.
    seed: Generator seed (int in [0, 2**32 - 1]); seeds 1..100 are predefined
      configs ``<config>_seed<seed>``, others are built as custom configs.
    data_dir: tfds data directory (None: the tfds default).

  Returns:
    `tf.data.Dataset` of the "train" split, in generation order, with
    elements ``{"x": [dim], "s": [dim], "u": [n_segments]}`` float32.

  Raises:
    ValueError: For an unknown `config` or a bad `seed`.
  """
  builder = make_builder(config, seed, data_dir=data_dir)
  builder.download_and_prepare()
  return builder.as_dataset(split="train", shuffle_files=False)
