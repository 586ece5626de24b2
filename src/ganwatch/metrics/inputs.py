"""What the metrics take: samples from files or dataset names, as float arrays of one kind.

``ganwatch metrics`` reads a ``.npy`` array or a dataset name (``mnist``, ``mnist:test``);
the Monitor gets arrays or tensors from a training loop. Both go through here, so they agree
on how values are scaled (uint8 is pixel values 0..255; floats are a generator's tanh output
in [-1, 1]) and on what kind of data a shape is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganwatch.catalog import DATASETS
from ganwatch.catalog.datasets import is_toy

#: Kinds of data, by what can be measured of them.
IMAGE, STACKED, POINTS, ROWS = "image", "stacked", "points", "rows"


@dataclass
class Samples:
    """An array to evaluate, and the dataset it came from when it was named."""

    array: np.ndarray
    dataset: str | None = None


def load_samples(
    source: str,
    *,
    data_dir: str | None = None,
    default_split: str = "train",
    size: int | None = None,
) -> Samples:
    """Read ``source``: a ``.npy`` file, or ``NAME`` / ``NAME:SPLIT`` of a ganwatch dataset."""
    from ganwatch.data import load_dataset

    name, _, split = source.partition(":")
    if name in DATASETS and not Path(source).exists():
        dataset = load_dataset(name, split=split or default_split, data_dir=data_dir, size=size)
        return Samples(dataset.data.cpu().numpy(), name)
    path = Path(source)
    if path.suffix != ".npy":
        raise ValueError(
            f"{source}: expected a .npy file or a dataset name "
            f"({', '.join(DATASETS)}, optionally NAME:train or NAME:test)"
        )
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from exc
    if array.ndim not in (2, 3, 4) or len(array) == 0:
        raise ValueError(
            f"{path}: expected images (N, 28, 28) or (N, C, 28, 28), or features "
            f"(N, D); got shape {array.shape}"
        )
    if size is not None:
        array = array[:size]
    return Samples(array)


def as_float(x: Any) -> torch.Tensor:
    """Samples as a float32 CPU tensor: uint8 pixel values scaled to [-1, 1] exactly as the
    datasets are (so the same digits give the same numbers either way), floats as given."""
    from ganwatch.data.loader import scale_images

    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    x = torch.as_tensor(x).detach().to("cpu")
    if x.dtype == torch.uint8:
        return scale_images(x, "cpu")
    return x.float()


def data_kind(sample_shape: tuple[int, ...], dataset: str | None = None) -> str:
    """What a sample of this shape is: 1-channel 28x28 images (or 28x28), Stacked MNIST's
    3x28x28, 2-D points of a known toy mixture (``dataset``), or plain rows of numbers."""
    shape = tuple(sample_shape)
    if shape in ((1, 28, 28), (28, 28)):
        return IMAGE
    if shape == (3, 28, 28):
        return STACKED
    if shape == (2,) and is_toy(dataset):
        return POINTS
    return ROWS


def is_images(array: Any) -> bool:
    """(N, 28, 28) or (N, C, 28, 28)."""
    return array.ndim in (3, 4) and tuple(array.shape[-2:]) == (28, 28)


def jsonable(value: Any) -> Any:
    """numpy and torch values to plain Python, recursively, for ``--json``."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        return jsonable(value.detach().cpu().numpy())
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN or inf
    return value
