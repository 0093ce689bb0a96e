"""Real image data sets for the training benchmarks: MNIST and Fashion-MNIST from IDX files, or
scikit-learn's bundled 8x8 handwritten digits when no IDX data set is on the machine.

Where IDX files are looked for, per data set, first found wins:

- `<root>/<FashionMNIST|MNIST>/raw/` (torchvision's layout, what `--download` writes),
  `<root>/<FashionMNIST|MNIST>/`, and `<root>/` itself (taken as Fashion-MNIST: files straight
  in a folder carry no data set name), for the data root (`--data-root`, else `$DATA_ROOT`, else
  `<repo>/data`);
- Fashion-MNIST only: `/usr/share/datasets/fashion-mnist/` (Debian's dataset-fashion-mnist).

Each file may be gzipped (`.gz`) or plain. Fashion-MNIST is preferred over MNIST; without either,
`load()` returns the digits (64 features, not 784: the MLPs' input layer shrinks to match).

Split, fixed for both frameworks: train/validation = a seeded split (SPLIT_SEED) of the official
60k training set into 50k/10k; test = the official 10k. Pixels are float32 in [0, 1].
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = REPO / "data"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
SPLIT_SEED = 0
VALIDATION = 10_000
FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}
# data set -> torchvision's folder and class name (also the class --download calls)
IDX_SETS = {"fashion": "FashionMNIST", "mnist": "MNIST"}
IDX_TYPES: dict[int, DTypeLike] = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
                                  0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class IDXError(ValueError):
    """A bad IDX file, as one line: `<file>: <problem>`."""

    def __init__(self, path, problem: str):
        super().__init__(f"{path}: {problem}")


class FallbackWarning(UserWarning):
    """No IDX data set was found: the run trains on the digits instead."""


class DatasetMissing(LookupError):
    """No files of the requested data set where it was looked for (the message says where)."""


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # (N, features) float32 in [0, 1]
    y: np.ndarray  # (N,) int32 class labels


@dataclass(frozen=True)
class Dataset:
    name: str  # fashion, mnist, digits
    path: str  # the folder the files were read from (the sklearn module for digits)
    train: Split
    validation: Split
    test: Split
    image_side: int  # 28 for the IDX sets, 8 for the digits
    fallback: bool = False  # True for the digits: no IDX data set was found

    @property
    def features(self) -> int:
        return self.train.x.shape[1]


# --- IDX ----------------------------------------------------------------------------------------

def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (gzipped or not) as a NumPy array; IDXError with one line on any problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise IDXError(path, f"cannot read ({err.strerror or err})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise IDXError(path, f"corrupt gzip data ({err})") from None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in IDX_TYPES or not 1 <= raw[3] <= 4:
        raise IDXError(path, f"not an IDX file (magic bytes {raw[:4].hex() or 'missing'})")
    dtype, ndim = np.dtype(IDX_TYPES[raw[2]]), raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise IDXError(path, f"truncated header ({len(raw)} bytes, a {ndim}-d IDX header needs {4 + 4 * ndim})")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a huge claimed shape cannot wrap round
    data = raw[4 + 4 * ndim:]
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "trailing bytes"
        raise IDXError(path, f"{problem}: shape {shape} needs {expected} data bytes, found {len(data)}")
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def idx_folders(name: str, root: Path) -> list[Path]:
    """Where the files of data set `name` may be, in order."""
    sub = IDX_SETS[name]
    folders = [root / sub / "raw", root / sub]
    if name == "fashion":
        folders += [root, DEBIAN_FASHION]
    return folders


def locate(name: str, root: Path) -> Path:
    """The first folder holding all four IDX files of `name`; DatasetMissing says where it looked."""
    folders = idx_folders(name, root)
    for folder in folders:
        if all(find_idx(folder, stem) for stem in FILES.values()):
            return folder
    raise DatasetMissing(f"{IDX_SETS[name]} IDX files not found in " + ", ".join(map(str, folders)))


def read_images_labels(folder: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 784) float32 in [0, 1], labels (N,) int32) of part "train" or "test"."""
    image_file, label_file = find_idx(folder, FILES[f"{part}_images"]), find_idx(folder, FILES[f"{part}_labels"])
    assert image_file is not None and label_file is not None  # `folder` comes from locate(), which found all four files
    images, labels = read_idx(image_file), read_idx(label_file)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise IDXError(image_file, f"wrong dimensions: expected uint8 (N, 28, 28) images, found "
                                   f"{images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise IDXError(label_file, f"wrong dimensions: expected ({images.shape[0]},) labels to match "
                                   f"{image_file.name}, found {labels.shape}")
    if labels.size and labels.max() > 9:
        raise IDXError(label_file, f"label {int(labels.max())} out of range 0..9")
    return (images.reshape(len(images), -1).astype(np.float32) / 255.0), labels.astype(np.int32)


def split(x: np.ndarray, y: np.ndarray, validation: int) -> tuple[Split, Split]:
    """The fixed seeded train/validation split of an official training set."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    train, val = order[:len(x) - validation], order[len(x) - validation:]
    return Split(x[train], y[train]), Split(x[val], y[val])


def load_idx(name: str, root: Path) -> Dataset:
    folder = locate(name, root)
    (x, y), test = read_images_labels(folder, "train"), read_images_labels(folder, "test")
    train, validation = split(x, y, min(VALIDATION, len(x) // 6))  # a sixth of a smaller set
    return Dataset(name, str(folder), train, validation, Split(*test), image_side=28)


# --- the always-available fallback --------------------------------------------------------------

def load_digits() -> Dataset:
    """scikit-learn's bundled 1797 8x8 digits as 64 features in [0, 1]: test = a seeded sixth,
    validation = another sixth, train = the rest (1199/299/299)."""
    import sklearn.datasets

    bunch = sklearn.datasets.load_digits()
    x, y = (bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.int32)
    sixth = len(x) // 6
    rest, test = split(x, y, sixth)
    train, validation = split(rest.x, rest.y, sixth)
    return Dataset("digits", sklearn.datasets.__file__, train, validation, test, image_side=8, fallback=True)


# --- choosing what a run trains on ----------------------------------------------------------------

def data_root(option: str | None = None) -> Path:
    """--data-root, else $DATA_ROOT, else <repo>/data."""
    return Path(option or os.environ.get("DATA_ROOT") or DEFAULT_ROOT).expanduser()


@cache
def load(root: Path, prefer: tuple[str, ...] = ("fashion", "mnist")) -> Dataset:
    """The first IDX data set of `prefer` found for `root`, else the digits. IDXError if a data
    set's files are there but bad (never silently replaced by another data set)."""
    for name in prefer:
        try:
            return load_idx(name, root)
        except DatasetMissing:
            continue
    return load_digits()


def missing_reason(root: Path, prefer: tuple[str, ...] = ("fashion", "mnist")) -> str:
    """Why load() fell back to the digits: where each IDX data set was looked for."""
    reasons = []
    for name in prefer:
        try:
            locate(name, root)
        except DatasetMissing as err:
            reasons.append(str(err))
    return "; ".join(reasons)


def download(name: str, root: Path) -> Path:
    """torchvision's download of `name` ("fashion" or "mnist") into `<root>/<Class>/raw/`; only
    on request (--download), never in tests."""
    import torchvision.datasets

    cls = getattr(torchvision.datasets, IDX_SETS[name])
    for train in (True, False):
        cls(str(root), train=train, download=True)
    return root / IDX_SETS[name] / "raw"


# --- batches ------------------------------------------------------------------------------------

def epoch_order(samples: int, batch: int, epoch: int, seed: int = 0) -> np.ndarray:
    """Epoch `epoch`'s batches as sample indices, (samples // batch, batch) int32: one seeded
    permutation made in NumPy and shared by both frameworks; the last partial batch is dropped
    (every step has the same shape, so nothing recompiles)."""
    steps = samples // batch
    if steps == 0:
        raise ValueError(f"batch {batch} is larger than the {samples} training samples")
    order = np.random.default_rng((seed, epoch)).permutation(samples)[:steps * batch]
    return order.reshape(steps, batch).astype(np.int32)
