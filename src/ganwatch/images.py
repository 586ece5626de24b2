"""Turn generator output into small uint8 pictures and write them as PNG files.

These functions are pure (arrays in, arrays out) apart from :func:`write_png`, so the
trainer can call them every epoch and the store never has to know about torch. Torch
tensors are accepted by duck typing (anything with ``.detach()``) rather than by importing
torch here, which keeps ``ganwatch.store`` and the CLI light to import.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ganwatch.atomic import write_atomically

SAMPLE_COLOUR = (31, 119, 180)
REFERENCE_COLOUR = (214, 39, 40)
AXIS_COLOUR = (225, 225, 225)

Extent = tuple[float, float, float, float]


def _to_numpy(data: Any) -> np.ndarray:
    """Return ``data`` as a NumPy array; torch tensors may live on a GPU or need grads."""
    if hasattr(data, "detach"):
        data = data.detach().cpu().float().numpy()
    return np.asarray(data)


def image_grid(images: Any, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """Tile a batch of generator outputs into one uint8 image.

    ``images`` is (N, C, H, W) with C in {1, 3} and values in [-1, 1], i.e. a ``tanh``
    output. The layout matches torchvision's ``make_grid(normalize=True,
    value_range=(-1, 1))`` followed by ``save_image`` (black padding, ``nrow`` images per
    row), so pictures look the same as in the usual GAN tutorials without depending on
    torchvision. NaNs, which a diverging generator can produce, are drawn mid-grey instead
    of crashing the epoch.

    Returns an (H, W) array for one channel and (H, W, 3) for three.
    """
    arr = _to_numpy(images)
    if arr.ndim != 4:
        raise ValueError(f"image_grid expects (N, C, H, W), got shape {arr.shape}")
    n, channels, height, width = arr.shape
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    if channels not in (1, 3):
        raise ValueError(f"image_grid supports 1 or 3 channels, got {channels}")
    if nrow < 1 or padding < 0:
        raise ValueError(f"need nrow >= 1 and padding >= 0, got nrow={nrow}, padding={padding}")

    arr = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    # Same rounding as torchvision: scale [-1, 1] to [0, 255] and add 0.5 before truncating.
    pixels = np.clip((arr + 1.0) * 127.5 + 0.5, 0.0, 255.0).astype(np.uint8)
    pixels = pixels.transpose(0, 2, 3, 1)  # to (N, H, W, C)

    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    cell_h, cell_w = height + padding, width + padding
    grid = np.zeros((rows * cell_h + padding, cols * cell_w + padding, channels), np.uint8)
    for index in range(n):
        row, col = divmod(index, cols)
        top, left = padding + row * cell_h, padding + col * cell_w
        grid[top : top + height, left : left + width] = pixels[index]
    return grid[:, :, 0] if channels == 1 else grid


def _points(data: Any) -> np.ndarray:
    """Return finite 2-D points as float64 (N, 2); NaN samples of a broken generator are dropped."""
    arr = _to_numpy(data).astype(np.float64)
    if arr.size == 0:
        return np.empty((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"expected points of shape (N, 2), got {arr.shape}")
    return arr[np.isfinite(arr).all(axis=1)]


def _auto_extent(points: np.ndarray, references: np.ndarray) -> Extent:
    """Pick a square frame around the reference points, or around the samples if there are none.

    Framing by the references keeps the frame the same every epoch, so successive pictures
    of one run can be compared side by side; framing by the samples would zoom out as soon
    as a single sample flies off. The frame is square so that a ring of modes looks round.
    """
    base = references if len(references) else points
    if not len(base):
        return (-1.0, 1.0, -1.0, 1.0)
    low, high = base.min(axis=0), base.max(axis=0)
    centre = (low + high) / 2.0
    half = float((high - low).max()) / 2.0
    half = half * 1.25 if half > 0 else 1.0
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def _to_pixels(points: np.ndarray, extent: Extent, size: int) -> np.ndarray:
    """Map data coordinates to integer pixel coordinates, pinning outliers to the border.

    Pinning (rather than dropping) keeps samples that left the frame visible as a stripe on
    the edge, which is exactly what a diverging generator looks like.
    """
    xmin, xmax, ymin, ymax = extent
    x = (points[:, 0] - xmin) / (xmax - xmin) * (size - 1)
    y = (ymax - points[:, 1]) / (ymax - ymin) * (size - 1)  # image rows grow downwards
    pixels = np.stack([x, y], axis=1)
    return np.clip(np.rint(pixels), 0, size - 1).astype(np.int64)


def scatter_image(
    points: Any,
    reference_points: Any | None = None,
    size: int = 256,
    extent: Extent | None = None,
) -> np.ndarray:
    """Draw 2-D generator samples (blue) and the true mode centres (red rings) as (size, size, 3).

    This is the per-epoch "grid" picture for 2-D toy data, where a picture of the point cloud
    shows mode collapse at a glance. It uses Pillow rather than matplotlib because it runs
    every epoch and must stay cheap. ``extent`` is ``(xmin, xmax, ymin, ymax)``; by default it
    is derived from ``reference_points`` (see :func:`_auto_extent`).
    """
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    samples = _points(points)
    references = _points(reference_points) if reference_points is not None else np.empty((0, 2))
    if extent is None:
        extent = _auto_extent(samples, references)
    xmin, xmax, ymin, ymax = (float(v) for v in extent)
    if not (xmax > xmin and ymax > ymin):
        raise ValueError(f"extent must be (xmin, xmax, ymin, ymax) with max > min, got {extent}")
    frame = (xmin, xmax, ymin, ymax)

    picture = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(picture)
    # A frame, so that pictures set side by side on white (the export timeline) stay apart.
    draw.rectangle([0, 0, size - 1, size - 1], outline=AXIS_COLOUR)
    origin = _to_pixels(np.zeros((1, 2)), frame, size)[0]
    if xmin < 0 < xmax:
        draw.line([(int(origin[0]), 0), (int(origin[0]), size - 1)], fill=AXIS_COLOUR)
    if ymin < 0 < ymax:
        draw.line([(0, int(origin[1])), (size - 1, int(origin[1]))], fill=AXIS_COLOUR)

    if len(samples):
        # Each sample is a 2x2 dot: single pixels vanish when the picture is scaled down.
        dots = _to_pixels(samples, frame, size)
        offsets = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
        dots = np.clip((dots[:, None, :] + offsets).reshape(-1, 2), 0, size - 1)
        draw.point(dots.ravel().tolist(), fill=SAMPLE_COLOUR)

    radius = max(3, size // 64)
    for x, y in _to_pixels(references, frame, size).tolist():
        box = [x - radius, y - radius, x + radius, y + radius]
        draw.ellipse(box, outline=REFERENCE_COLOUR, width=2)
    return np.asarray(picture)


def write_png(path: str | os.PathLike[str], image: np.ndarray) -> Path:
    """Write a uint8 (H, W) or (H, W, 3) array as PNG, atomically, so a dashboard or
    ``ganwatch export`` reading while training writes never sees a half-written PNG. (Not
    fsynced against power loss: losing the latest picture in a crash is harmless.)
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise TypeError(f"write_png expects a uint8 array, got {arr.dtype}")
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise ValueError(f"write_png expects (H, W) or (H, W, 3), got shape {arr.shape}")
    picture = Image.fromarray(np.ascontiguousarray(arr))
    return write_atomically(path, lambda handle: picture.save(handle, format="PNG"), durable=False)
