"""What a benchmark's JSON says of the machine it ran on: load averages, CPUs, versions.

Imported by the scripts beside it (`python benchmarks/<script>.py` puts this folder on the path).
"""
import os
import platform


def machine_info(load_before):
  """`os.getloadavg()` before (given) and now, the CPU count, TensorFlow's and Python's versions."""
  import tensorflow as tf

  return {"load_average_before": load_before, "load_average_after": os.getloadavg(),
          "cpu_count": os.cpu_count(), "tensorflow": tf.__version__,
          "python": platform.python_version()}
