"""Pictures of an NDB evaluation: the bin-proportion chart and the bin centres.

:func:`ndb_chart` draws what Fig. 7c of Richardson & Weiss (2018) draws: per bin the
reference proportion with its standard error and the query proportion beside it, with the
significantly different bins marked, so one can see *which* modes a model drops or
overproduces, not just how many. :func:`bin_centre_images` shows what those bins are (for
image data, each centre is the mean image of the bin's members).

Matplotlib is imported inside the functions and drawn on an Agg canvas owned by the figure,
never through ``pyplot``: no global figure state, no GUI backend, safe in a training loop
or a worker thread, and importing this module stays cheap.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .ndb import NDBBins, NDBResult

__all__ = ["bin_centre_images", "ndb_chart"]

REFERENCE_COLOUR = "#9e9e9e"
QUERY_COLOUR = "#1f77b4"
FLAG_COLOUR = "#d62728"
FLAG_RGB = (214, 39, 40)


def ndb_chart(
    result: NDBResult,
    path: str | Path | None = None,
    *,
    title: str | None = None,
    query_label: str = "query",
    size: tuple[float, float] = (10.0, 4.0),
    dpi: int = 100,
) -> bytes:
    """PNG of the per-bin proportions: reference +-SE (grey) beside the query (blue).

    Bins that differ significantly have their query bar in red and a marker above. The
    image is ``size`` inches at ``dpi`` (1000 x 400 pixels by default). Returns the PNG
    bytes, also written to ``path`` when given.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bins = np.arange(result.bins)
    ref, query = result.ref_proportions, result.query_proportions
    flagged = np.asarray(result.different, dtype=bool)
    ax.bar(
        bins - 0.2,
        ref,
        width=0.4,
        yerr=result.ref_se,
        color=REFERENCE_COLOUR,
        ecolor="#424242",
        error_kw={"elinewidth": 0.8, "capsize": 1.5},
    )
    ax.bar(bins + 0.2, query, width=0.4, color=np.where(flagged, FLAG_COLOUR, QUERY_COLOUR))
    top = np.maximum(ref + result.ref_se, query)
    ax.plot(bins[flagged], top[flagged] * 1.05, "v", color=FLAG_COLOUR, markersize=4)
    ax.set_xlim(-0.8, result.bins - 0.2)
    ax.set_xlabel("bin (largest reference bin first)")
    ax.set_ylabel("proportion of samples")
    ax.set_title(title or _summary(result))
    ax.legend(
        handles=[
            Patch(color=REFERENCE_COLOUR, label="reference ± SE"),
            Patch(color=QUERY_COLOUR, label=query_label),
            Patch(color=FLAG_COLOUR, label=f"{query_label}: significantly different"),
        ],
        loc="upper right",
        fontsize="small",
    )
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    png = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(png)
    return png


def _summary(result: NDBResult) -> str:
    """One-line title: the scores the chart explains."""
    return (
        f"NDB = {result.ndb} of {result.bins} bins (NDB/K = {result.ndb_k:.3f}), "
        f"JS = {result.js:.4f}, {result.n_query:,} samples vs {result.n_ref:,} reference"
    )


def bin_centre_images(
    bins: NDBBins,
    shape: tuple[int, ...] = (28, 28),
    *,
    different: Any = None,
    columns: int | None = None,
    pad: int = 2,
    value_range: tuple[float, float] | None = None,
    path: str | Path | None = None,
) -> np.ndarray:
    """Tile the bin centres as images: (rows * (H + 2 pad), columns * (W + 2 pad), 3) uint8.

    ``shape`` is one sample's image shape, (H, W) or (C, H, W) with C in {1, 3}. Bins are
    laid out in order (largest first), ``columns`` per row (default: a square-ish grid).
    ``different`` (a boolean per bin, or an :class:`NDBResult`) outlines the flagged bins in
    red within their ``pad``-pixel frame. Values are scaled from ``value_range`` (default:
    the centres' own min and max) to 0..255. Written as PNG to ``path`` when given.
    """
    images = _centre_pixels(bins.centres, shape, value_range)
    k, height, width = images.shape[:3]
    columns = columns or math.ceil(math.sqrt(k))
    rows = math.ceil(k / columns)
    cell_h, cell_w = height + 2 * pad, width + 2 * pad
    canvas = np.zeros((rows * cell_h, columns * cell_w, 3), dtype=np.uint8)
    flags = _flags(different, k)
    for index in range(k):
        top, left = (index // columns) * cell_h, (index % columns) * cell_w
        if flags[index] and pad > 0:
            canvas[top : top + cell_h, left : left + cell_w] = FLAG_RGB
        canvas[top + pad : top + pad + height, left + pad : left + pad + width] = images[index]
    if path is not None:
        from PIL import Image

        Image.fromarray(canvas).save(path)
    return canvas


def _centre_pixels(
    centres: np.ndarray, shape: tuple[int, ...], value_range: tuple[float, float] | None
) -> np.ndarray:
    """Centres as (K, H, W, 3) uint8 images."""
    centres = np.asarray(centres, dtype=np.float64)
    if int(np.prod(shape)) != centres.shape[1]:
        raise ValueError(f"shape {shape} does not hold the {centres.shape[1]} values of a centre")
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise ValueError(f"shape must be (H, W) or (C, H, W) with C in 1 or 3, got {shape}")
    low, high = value_range if value_range is not None else (centres.min(), centres.max())
    scaled = (centres - low) / (high - low) if high > low else np.zeros_like(centres)
    pixels = np.clip(np.round(scaled * 255.0), 0, 255).astype(np.uint8)
    pixels = pixels.reshape(-1, *shape).transpose(0, 2, 3, 1)
    return np.repeat(pixels, 3, axis=3) if shape[0] == 1 else pixels


def _flags(different: Any, k: int) -> np.ndarray:
    """A boolean per bin from an array-like or an NDBResult (None: nothing flagged)."""
    if different is None:
        return np.zeros(k, dtype=bool)
    flags = np.asarray(getattr(different, "different", different), dtype=bool)
    if flags.shape != (k,):
        raise ValueError(f"need one flag per bin ({k}), got shape {flags.shape}")
    return flags
