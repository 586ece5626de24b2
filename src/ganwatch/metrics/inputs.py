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

#: Kinds of data, by what can be measured of them: MNIST-like digits (a built-in classifier),
#: Stacked MNIST, points of a known mixture, any other pictures, and plain rows of numbers.
IMAGE, STACKED, POINTS, PICTURE, ROWS = "image", "stacked", "points", "picture", "rows"
#: The sizes of pictures ganwatch measures (smaller have too little to see, larger are
#: averaged down before the embedding anyway).
MIN_SIDE, MAX_SIDE, MAX_CHANNELS = 8, 256, 4
#: How a value range maps onto [-1, 1] (what every metric reads).
VALUE_RANGES = ("auto", "0,255", "0,1", "-1,1")


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
    3x28x28, 2-D points of a known toy mixture (``dataset``), other pictures (C, H, W) with
    1 to 4 channels, or plain rows of numbers."""
    shape = tuple(sample_shape)
    spec = DATASETS.get(dataset or "")
    if shape in ((1, 28, 28), (28, 28)) and (spec is None or spec.classifier):
        return IMAGE
    if shape == (3, 28, 28) and (dataset is None or (spec and spec.measure == "stacked")):
        return STACKED
    if shape == (2,) and is_toy(dataset):
        return POINTS
    if len(shape) == 3 and shape[0] <= MAX_CHANNELS:
        return PICTURE
    return ROWS


def to_nchw(x: torch.Tensor) -> torch.Tensor:
    """Images as (N, C, H, W): (N, H, W) gains a channel, (N, H, W, C) with 1 to 4 channels
    last (NHWC, as NumPy and PIL hold pictures) is transposed; anything else is returned."""
    if x.dim() == 3 and min(x.shape[1:]) >= MIN_SIDE:
        return x.unsqueeze(1)
    if x.dim() == 4 and x.shape[-1] <= MAX_CHANNELS < x.shape[1]:
        return x.permute(0, 3, 1, 2).contiguous()
    return x


def check_pictures(x: torch.Tensor, what: str) -> None:
    """Refuse pictures ganwatch cannot measure, saying what was expected."""
    channels, height, width = x.shape[1:]
    if channels > MAX_CHANNELS or not (
        MIN_SIDE <= min(height, width) <= max(height, width) <= MAX_SIDE
    ):
        raise ValueError(
            f"{what}: expected images (N, C, H, W) or (N, H, W, C) with 1 to {MAX_CHANNELS} "
            f"channels and sides of {MIN_SIDE} to {MAX_SIDE} pixels, got {tuple(x.shape)}"
        )


def value_range_of(x: torch.Tensor, stated: str | None = "auto") -> str:
    """The range a reference's values are in: uint8 is "0,255"; floats within [0, 1] are
    "0,1" and within [-1, 1] "-1,1" (a generator's tanh output); "auto" (or None) detects it."""
    stated = stated or "auto"
    if stated not in VALUE_RANGES:
        raise ValueError(f"value_range: expected one of {', '.join(VALUE_RANGES)}, got {stated!r}")
    if stated != "auto":
        return stated
    if x.dtype == torch.uint8:
        return "0,255"
    if x.is_floating_point() and len(x) and float(x.min()) >= 0:
        return "0,1" if float(x.max()) <= 1 else "0,255"
    return "-1,1"


def float_samples_range(reference: torch.Tensor, stated: str | None) -> str:
    """How float samples will be read: as stated; else in the float reference's own range;
    else ("auto", a uint8 reference) detected batch by batch, since a loop that trains on
    uint8 images scales them itself, to [0, 1] or (for a tanh generator) to [-1, 1]."""
    if stated not in (None, "auto"):
        return value_range_of(reference, stated)
    return value_range_of(reference) if reference.is_floating_point() else "auto"


def to_unit_range(x: torch.Tensor, value_range: str) -> torch.Tensor:
    """Values in ``value_range`` mapped onto [-1, 1], as float32 (uint8 always as 0..255;
    "auto" detects the range of these values)."""
    if value_range == "auto":
        value_range = value_range_of(x)
    if x.dtype == torch.uint8 or value_range == "0,255":
        return as_float(
            x.to(torch.uint8) if x.dtype == torch.uint8 else x.clamp(0, 255).round().to(torch.uint8)
        )
    x = x.float()
    return x * 2 - 1 if value_range == "0,1" else x


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


@dataclass
class View:
    """One set of samples as the metrics read it, each derived form computed once: the
    samples, their features, class probabilities and realism groups (None where the kind of
    data has none)."""

    x: torch.Tensor
    features: torch.Tensor | None = None
    probs: torch.Tensor | None = None
    groups: torch.Tensor | None = None

    def rows(self, index: Any) -> View:
        def pick(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t[index]

        return View(self.x[index], pick(self.features), pick(self.probs), pick(self.groups))


def as_tensor(values: Any) -> torch.Tensor:
    """Arrays, tensors or lists as a CPU tensor, without a copy where none is needed."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu()
    return torch.as_tensor(np.asarray(values))
