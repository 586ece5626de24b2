"""``load_dataset``: one call from a dataset name to tensors on the training device.

The whole data set is held as one tensor on the device. The data sets here are small
(MNIST as float32 is ~190 MB), and sampling batches by indexing a device tensor avoids a
DataLoader and host-to-device copies in the training loop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from ganwatch.catalog import DATASETS

from .download import PathLike, ensure_files, find_file
from .idx import IdxFormatError, read_idx
from .sources import SPLIT_FILES
from .stacked import stack_mnist
from .toy import sample_toy

__all__ = ["DATASETS", "Dataset", "load_dataset", "scale_images"]


#: The size of an image in an MNIST-format file (MNIST, Fashion-MNIST, KMNIST).
IMAGE_SIZE = (28, 28)
#: Points drawn for a toy data set when ``size`` is not given.
TOY_DEFAULT_SIZES = {"train": 100_000, "test": 10_000}
# Added to the seed for the test split of toy data, so train and test are independent draws.
_TOY_TEST_SEED_OFFSET = 1_000_003


@dataclass
class Dataset:
    """A whole data set, already on its device.

    ``data`` is (N, C, 28, 28) float32 in [-1, 1] for images (``kind == "image"``) or
    (N, 2) float32 for toy points (``kind == "points"``); ``labels`` is int64 (N,) on the
    same device: the digit, the stacked-MNIST mode (0..999) or the toy mixture component.
    """

    name: str
    data: torch.Tensor
    labels: torch.Tensor | None
    kind: str

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. (1, 28, 28) or (2,)."""
        return tuple(self.data.shape[1:])

    def __len__(self) -> int:
        return int(self.data.shape[0])


def scale_images(images: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """uint8 images -> float32 in [-1, 1] on ``device``, as ``(x / 255 - 0.5) / 0.5``.

    The uint8 tensor is moved first (4x fewer bytes to copy) and converted on the device.
    The formula is the article's, kept literally so values match it bit for bit.
    """
    x = images.to(device).to(torch.float32)
    return (x / 255 - 0.5) / 0.5


def _read_split(
    name: str, split: str, data_dir: PathLike | None, download: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Return (uint8 images (N, 28, 28), labels (N,)) numpy arrays of one split."""
    file_names = SPLIT_FILES[split]
    folder = ensure_files(name, data_dir, files=file_names, download=download)
    image_path, label_path = (find_file(folder, f) for f in file_names)
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != IMAGE_SIZE:
        raise IdxFormatError(
            f"{image_path}: expected uint8 images of {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]} pixels "
            f"(N, {IMAGE_SIZE[0]}, {IMAGE_SIZE[1]}), found {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise IdxFormatError(
            f"{label_path}: expected {len(images)} labels to match {image_path}, "
            f"found shape {labels.shape}"
        )
    classes = DATASETS[name].classes
    if not np.issubdtype(labels.dtype, np.integer) or (
        len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < classes
    ):
        raise IdxFormatError(
            f"{label_path}: expected integer labels 0..{classes - 1} ({name} has {classes} "
            f"classes), found {labels.dtype} labels from {labels.min()} to {labels.max()}"
        )
    return images, labels


#: Bytes a toy point takes while it is drawn: float64 coordinates, an int64 label, float32 copy.
_TOY_BYTES_PER_POINT = 40


def _check_memory(needed: int, what: str) -> None:
    """Refuse an allocation that cannot fit in the memory this machine has free, before it
    is made (the kernel would otherwise kill the process with no message)."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: no check
        return
    if needed > free:
        raise ValueError(
            f"{what} would need about {needed / 2**30:.1f} GiB of memory; this machine has "
            f"{free / 2**30:.1f} GiB free"
        )


def _take(count: int, size: int | None, name: str, split: str) -> int:
    """Number of samples to keep: ``size`` if given (and available), else all ``count``."""
    if size is None:
        return count
    if size > count:
        raise ValueError(f"size={size} but {name} {split} has only {count} samples")
    return size


def load_dataset(
    name: str,
    *,
    split: str = "train",
    data_dir: PathLike | None = None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    size: int | None = None,
    download: bool = True,
) -> Dataset:
    """Load dataset ``name`` (one of :data:`DATASETS`) onto ``device``.

    - ``mnist``, ``fashion-mnist``, ``kmnist``: the IDX files of ``split`` ("train" or
      "test"), found or downloaded as :func:`ganwatch.data.download.ensure_files` explains;
      ``size`` keeps the first ``size`` images (asking for more than the files hold is an
      error, not a silent shortfall).
    - ``stacked-mnist``: ``size`` stacked samples (default: as many as the MNIST split has)
      built from that MNIST split with ``seed`` (the files are looked up as ``mnist``).
    - ``ring``, ``grid``: ``size`` points drawn once with ``seed`` (default 100,000 for
      train, 10,000 for test; test uses a different stream than train).
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    if split not in SPLIT_FILES:
        raise ValueError(f"unknown split {split!r}; valid: {', '.join(SPLIT_FILES)}")
    if size is not None and size < 1:
        raise ValueError(f"size must be a positive number of samples, got {size}")

    spec = DATASETS[name]
    if spec.kind == "points":
        toy_seed = seed if split == "train" else seed + _TOY_TEST_SEED_OFFSET
        generator = torch.Generator().manual_seed(toy_seed)
        n = TOY_DEFAULT_SIZES[split] if size is None else size
        _check_memory(n * _TOY_BYTES_PER_POINT, f"{n:,} points of {name} (--train-size)")
        points, labels = sample_toy(name, n, generator)
        return Dataset(name, points.to(device), labels.to(device), "points")

    images, labels = _read_split(spec.files, split, data_dir, download)
    if spec.measure == "stacked":
        n = len(images) if size is None else size
        generator = torch.Generator().manual_seed(seed)
        stacked, stacked_labels = stack_mnist(images, labels, n, generator)
        return Dataset(name, scale_images(stacked, device), stacked_labels.to(device), "image")

    keep = _take(len(images), size, name, split)
    pixels = torch.from_numpy(images[:keep]).unsqueeze(1)
    targets = torch.from_numpy(labels[:keep]).to(torch.int64)
    return Dataset(name, scale_images(pixels, device), targets.to(device), "image")
