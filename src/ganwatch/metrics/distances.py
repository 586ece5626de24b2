"""Chunked Euclidean distances: k-NN radii and radius comparisons without an N x M matrix.

The k-NN metrics (PRDC, improved precision/recall) are defined on the full pairwise
distance matrix, but 50,000 x 50,000 float32 distances are 10 GB. Everything here walks
the matrix in tiles of ``row_chunk x col_chunk`` and keeps only what the metrics need: the
k+1 smallest squared distances per row (for radii), or per-row/per-column counts and flags
(for the comparisons). Peak extra memory is two tiles (see DEFAULT_ROW_CHUNK).

Squared distances come from one GEMM per tile on augmented operands,
``[x, 1, |x|^2] @ [-2y, |y|^2, 1]^T = |x|^2 + |y|^2 - 2 x.y``, so the GEMM writes final
squared distances and no elementwise pass is spent adding norms. Comparisons are made
between squared distances and squared radii: the square root is monotone, so ``d < r`` and
``d^2 < r^2`` agree, and no square root of the tile is ever taken.

k-NN radii keep a running (k+1)-smallest per row, merged tile by tile; the selection
avoids a full ``topk`` (or any sort) of the tile: see :func:`_smallest_by_groups`.

Two exact transformations make the GEMM cheaper and more accurate; neither changes any
distance:

- both sets are centred on their joint mean, which keeps ``|x|^2`` small and so reduces
  the cancellation in ``|x|^2 + |y|^2 - 2 x.y`` (the main error source in float32);
- coordinates that are constant over both sets are dropped (they add exactly 0 to every
  distance; MNIST has ~100 such border pixels out of 784).

dtype: the default is **float32**. The metrics only compare distances with radii, and a
float32 tile is accurate to ~1e-6 relative on centred data, so a comparison can flip only
for pairs within that margin of a radius: a handful out of 10^8, i.e. a change of ~1e-4 or
less in a metric (the benchmark reports the measured difference). float32 GEMM is ~2x
faster on CPUs and far faster on GPUs. Pass ``dtype=torch.float64`` to reproduce reference
implementations to the last count (the tests do). On CUDA, TF32 is switched off inside these
functions (the trainer enables it), because TF32's 10-bit mantissa would make ~1e-3 errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "DEFAULT_COL_CHUNK",
    "DEFAULT_DTYPE",
    "DEFAULT_ROW_CHUNK",
    "RadiusHits",
    "as_features",
    "centre_and_cast",
    "finite_features",
    "full_precision_matmul",
    "knn_radii",
    "knn_sq_radii",
    "prepare_features",
    "radius_hits",
]

ArrayLike = np.ndarray | torch.Tensor

DEFAULT_DTYPE = torch.float32
#: Tile shape. A float32 tile is 2048 x 16384 x 4 B = 128 MB (float64: 256 MB), and
#: radius_hits holds two. Large tiles mean few, long kernels: on a GPU fewer launches, on a
#: shared CPU fewer thread-pool synchronisations (each can cost a scheduler time slice).
DEFAULT_ROW_CHUNK = 2048
DEFAULT_COL_CHUNK = 16384

# Group size of the two-level k-NN selection (see _smallest_by_groups).
_GROUPS = 16
# Rows processed at once when centring and casting the inputs (bounds float64 temporaries).
_PREP_CHUNK = 8192


def as_features(x: ArrayLike, name: str = "features") -> torch.Tensor:
    """Return ``x`` as a 2-D tensor (N, D), flattening trailing dimensions (images).

    numpy arrays are wrapped without a copy where possible; tensors stay on their device.
    """
    t = torch.from_numpy(np.asarray(x)) if not isinstance(x, torch.Tensor) else x.detach()
    if t.ndim < 2:
        raise ValueError(f"{name} must have shape (N, D) or (N, ...), got {tuple(t.shape)}")
    if t.shape[0] == 0 or t.numel() == 0:
        raise ValueError(f"{name} is empty: shape {tuple(t.shape)}")
    if not (t.is_floating_point() or t.dtype in (torch.uint8, torch.int32, torch.int64)):
        raise TypeError(f"{name} must be numeric, got dtype {t.dtype}")
    return t.reshape(t.shape[0], -1)


def finite_features(x: ArrayLike, name: str = "features") -> torch.Tensor:
    """:func:`as_features`, refusing NaN and infinite values (naming ``name``)."""
    t = as_features(x, name)
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


@contextmanager
def full_precision_matmul() -> Iterator[None]:
    """Run float32 matmuls in full IEEE float32 (no TF32/bf16 shortcuts), then restore.

    The trainer allows TF32 on CUDA for speed; distances compared against radii need the
    full mantissa, so the global setting is overridden only for the duration.
    """
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(previous)


def _varying_columns(sets: Sequence[torch.Tensor]) -> torch.Tensor:
    """Boolean mask of coordinates that take more than one value over all sets."""
    first = sets[0][0]
    varying = torch.zeros(first.shape[0], dtype=torch.bool, device=first.device)
    for s in sets:
        varying |= (s != first).any(dim=0)
    if not bool(varying.any()):
        varying[0] = True  # all points identical: keep one (all-zero) coordinate
    return varying


def centre_and_cast(x: torch.Tensor, mean: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``(x - mean)`` computed in float64 row chunk by row chunk, stored in ``dtype``."""
    out = torch.empty(x.shape, dtype=dtype, device=x.device)
    for start in range(0, x.shape[0], _PREP_CHUNK):
        rows = x[start : start + _PREP_CHUNK].to(torch.float64)
        out[start : start + _PREP_CHUNK] = rows - mean
    return out


def prepare_features(*sets: ArrayLike, dtype: torch.dtype = DEFAULT_DTYPE) -> list[torch.Tensor]:
    """Centre the sets on their joint mean, drop jointly constant coordinates, cast to dtype.

    Both steps leave every pairwise distance (within and across sets) unchanged; they exist
    to make float32 GEMM distances cheaper and more accurate (see the module docstring).
    All sets must have the same dimension and live on the same device.
    """
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    tensors = [finite_features(s, f"set {i}") for i, s in enumerate(sets)]
    dims = {t.shape[1] for t in tensors}
    if len(dims) != 1:
        raise ValueError(f"all feature sets must have the same dimension, got {sorted(dims)}")
    varying = _varying_columns(tensors)
    if not bool(varying.all()):
        tensors = [t[:, varying] for t in tensors]
    total = sum(t.shape[0] for t in tensors)
    mean = sum(t.sum(dim=0, dtype=torch.float64) for t in tensors) / total
    return [centre_and_cast(t, mean, dtype) for t in tensors]


def _row_operand(x: torch.Tensor) -> torch.Tensor:
    """``[x, 1, |x|^2]``: the left GEMM operand (norms in float64, then cast)."""
    sq = x.to(torch.float64).square().sum(dim=1, keepdim=True).to(x.dtype)
    return torch.cat([x, torch.ones_like(sq), sq], dim=1)


def _col_operand(y: torch.Tensor) -> torch.Tensor:
    """``[-2y, |y|^2, 1]``: the right GEMM operand, so that rows @ cols^T = squared distance."""
    sq = y.to(torch.float64).square().sum(dim=1, keepdim=True).to(y.dtype)
    return torch.cat([-2.0 * y, sq, torch.ones_like(sq)], dim=1)


def _check_chunks(row_chunk: int, col_chunk: int) -> None:
    if row_chunk < 1 or col_chunk < 1:
        raise ValueError(f"chunk sizes must be >= 1, got {row_chunk} and {col_chunk}")


def _column_tiles(start: int, stop: int, col_chunk: int) -> Iterator[tuple[int, int]]:
    """Column ranges covering [start, stop); widths are multiples of _GROUPS where possible.

    Keeping widths divisible lets every tile but a final sliver (< _GROUPS columns) use the
    fast grouped selection.
    """
    width = max(_GROUPS, col_chunk - col_chunk % _GROUPS)
    while start < stop:
        end = min(start + width, stop)
        if end - start >= _GROUPS and (end - start) % _GROUPS:
            end -= (end - start) % _GROUPS
        yield start, end
        start = end


def _merge_smallest(best: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """The ``best.shape[1]`` smallest values per row of ``best`` and ``candidates``."""
    both = torch.cat([best, candidates], dim=1)
    return both.topk(best.shape[1], dim=1, largest=False, sorted=False).values


def _smallest_by_groups(tile: torch.Tensor, m: int) -> torch.Tensor:
    """The m smallest values of each row of a (rows, cols) tile, as (rows, m), unsorted.

    A plain ``topk`` over each row costs several ns per element on a CPU. Instead, split
    each row into ``cols / _GROUPS`` groups of _GROUPS strided columns: one vectorised
    ``amin`` gives every group's minimum, ``topk`` then runs on a tile _GROUPS times
    smaller, and only the m chosen groups are gathered for a final small ``topk``.

    Exact: a group that is not chosen has a minimum no smaller than each of the m chosen
    minima, so every one of its values has at least m values of the chosen groups at or
    below it; hence the m smallest values of the row can all be taken from chosen groups.
    """
    rows, cols = tile.shape
    width = cols // _GROUPS
    if cols % _GROUPS or width <= m:
        return tile.topk(min(m, cols), dim=1, largest=False, sorted=False).values
    groups = tile.view(rows, _GROUPS, width)  # groups[r, :, w] is group w of row r
    chosen = groups.amin(dim=1).topk(m, dim=1, largest=False, sorted=False).indices
    picked = groups.gather(2, chosen.unsqueeze(1).expand(rows, _GROUPS, m))
    return picked.reshape(rows, _GROUPS * m).topk(m, dim=1, largest=False, sorted=False).values


def _self_tile(
    rows_op: torch.Tensor,
    cols_op: torch.Tensor,
    row_start: int,
    col_start: int,
    buffer: torch.Tensor,
) -> torch.Tensor:
    """Squared distances between two ranges of one set, with d(i, i) set to exactly 0.

    The GEMM gives self-distances only up to round-off, while the references see 0 there;
    an exact 0 keeps the "(k+1)-th smallest including self" rule exact.
    """
    n_rows, n_cols = rows_op.shape[0], cols_op.shape[0]
    tile = buffer[: n_rows * n_cols].view(n_rows, n_cols)
    torch.mm(rows_op, cols_op.T, out=tile)
    tile.diagonal(offset=row_start - col_start).zero_()
    return tile


def knn_sq_radii(
    x: torch.Tensor,
    k: int,
    *,
    row_chunk: int = DEFAULT_ROW_CHUNK,
    col_chunk: int = DEFAULT_COL_CHUNK,
) -> torch.Tensor:
    """Squared distance from each row of a prepared set to its k-th nearest other row.

    "Excluding self" is implemented as the prdc package and the Kynkäänniemi et al. code do
    it: take the (k+1)-th smallest distance *including* the zero self-distance. With
    duplicate points the two readings agree (a duplicate counts as a neighbour at 0).
    ``x`` must be centred and cast as :func:`prepare_features` does (it, or
    :mod:`ganwatch.metrics.prdc_reference` for a fixed reference); the result has x's dtype,
    clamped >= 0.

    The whole matrix is computed, although it is symmetric: computing only the upper
    triangle and selecting along columns too was measured slower on the CPU (the column
    selection costs more than the GEMM it saves, even at D=784).
    """
    n = x.shape[0]
    if k < 1 or n <= k:
        raise ValueError(f"k-NN radii need 1 <= k < number of points, got k={k}, n={n}")
    _check_chunks(row_chunk, col_chunk)
    rows_all, cols_all = _row_operand(x), _col_operand(x)
    size = min(row_chunk, n) * min(col_chunk + _GROUPS, n)
    tiles = torch.empty(size, dtype=x.dtype, device=x.device)
    out = torch.empty(n, dtype=x.dtype, device=x.device)
    with full_precision_matmul():
        for r0 in range(0, n, row_chunk):
            r1 = min(r0 + row_chunk, n)
            best = torch.full((r1 - r0, k + 1), torch.inf, dtype=x.dtype, device=x.device)
            for c0, c1 in _column_tiles(0, n, col_chunk):
                tile = _self_tile(rows_all[r0:r1], cols_all[c0:c1], r0, c0, tiles)
                best = _merge_smallest(best, _smallest_by_groups(tile, k + 1))
            out[r0:r1] = best.amax(dim=1)
    return out.clamp_min_(0.0)


def knn_radii(
    x: ArrayLike,
    k: int,
    *,
    dtype: torch.dtype = DEFAULT_DTYPE,
    row_chunk: int = DEFAULT_ROW_CHUNK,
    col_chunk: int = DEFAULT_COL_CHUNK,
) -> torch.Tensor:
    """Distance from each point of ``x`` (N, D) to its k-th nearest neighbour, excluding self.

    Returns an (N,) tensor of ``dtype`` on x's device (CPU for numpy input).
    """
    (prepared,) = prepare_features(x, dtype=dtype)
    return knn_sq_radii(prepared, k, row_chunk=row_chunk, col_chunk=col_chunk).sqrt_()


@dataclass
class RadiusHits:
    """What the k-NN metrics need from the cross distances d(x_i, y_j), and nothing more.

    - ``y_counts`` (M,) int64: for each y_j, how many x_i have ``d(x_i, y_j) < r_x[i]``;
    - ``x_covered`` (N,) bool: x_i has some y_j with ``d(x_i, y_j) < r_x[i]``;
    - ``x_in_y`` (N,) bool: x_i has some y_j with ``d(x_i, y_j) < r_y[j]``.

    ``<`` becomes ``<=`` when computed with ``inclusive=True``.
    """

    y_counts: torch.Tensor
    x_covered: torch.Tensor
    x_in_y: torch.Tensor


def radius_hits(
    x: torch.Tensor,
    y: torch.Tensor,
    x_sq_radii: torch.Tensor,
    y_sq_radii: torch.Tensor,
    *,
    inclusive: bool = False,
    row_chunk: int = DEFAULT_ROW_CHUNK,
    col_chunk: int = DEFAULT_COL_CHUNK,
) -> RadiusHits:
    """Compare every cross distance with both sets' squared radii, tile by tile.

    ``x`` and ``y`` must share one centring and cast (one :func:`prepare_features` call, or
    :mod:`ganwatch.metrics.prdc_reference`'s reference mean) and the radii come from
    :func:`knn_sq_radii` on them.

    Per tile (after the GEMM) this costs five cheap passes; see :func:`_tile_hits`.
    """
    _check_chunks(row_chunk, col_chunk)
    n, m = x.shape[0], y.shape[0]
    rows_all, cols_all = _row_operand(x), _col_operand(y)
    size = min(row_chunk, n) * min(col_chunk, m)
    buffers = (
        torch.empty(size, dtype=x.dtype, device=x.device),
        torch.empty(size, dtype=x.dtype, device=x.device),
    )
    hits = RadiusHits(
        y_counts=torch.zeros(m, dtype=torch.int64, device=x.device),
        x_covered=torch.zeros(n, dtype=torch.bool, device=x.device),
        x_in_y=torch.zeros(n, dtype=torch.bool, device=x.device),
    )
    with full_precision_matmul():
        for r0 in range(0, n, row_chunk):
            r1 = min(r0 + row_chunk, n)
            for c0 in range(0, m, col_chunk):
                c1 = min(c0 + col_chunk, m)
                _tile_hits(
                    rows_all[r0:r1],
                    cols_all[c0:c1],
                    x_sq_radii[r0:r1],
                    y_sq_radii[c0:c1],
                    inclusive,
                    buffers,
                    hits,
                    (r0, r1, c0, c1),
                )
    return hits


def _tile_hits(
    rows_op: torch.Tensor,
    cols_op: torch.Tensor,
    row_sq_radii: torch.Tensor,
    col_sq_radii: torch.Tensor,
    inclusive: bool,
    buffers: tuple[torch.Tensor, torch.Tensor],
    hits: RadiusHits,
    bounds: tuple[int, int, int, int],
) -> None:
    """Update ``hits`` with one tile of squared cross distances.

    The passes are chosen for speed on a CPU, where bool reductions are slow:

    - coverage needs only the row minimum: ``min_j d2 < r_x^2`` (an ``amin`` pass);
    - the per-column counts are taken from comparisons written as 0.0/1.0 into a float
      tile and summed by a float reduction (exact: at most row_chunk < 2^24 per sum);
    - "x_i within r_y[j] of some y_j" subtracts r_y[j]^2 in place and takes the row
      minimum again. IEEE subtraction is exact in sign (``a - b < 0`` iff ``a < b``, and
      ``a - b == 0`` iff ``a == b``), so this is the same comparison as ``d2 < r_y^2``.
    """
    r0, r1, c0, c1 = bounds
    shape = (r1 - r0, c1 - c0)
    tile = buffers[0][: shape[0] * shape[1]].view(shape)
    flags = buffers[1][: shape[0] * shape[1]].view(shape)
    below = torch.le if inclusive else torch.lt
    torch.mm(rows_op, cols_op.T, out=tile)
    hits.x_covered[r0:r1] |= below(tile.amin(dim=1), row_sq_radii)
    below(tile, row_sq_radii.unsqueeze(1), out=flags)
    hits.y_counts[c0:c1] += flags.sum(dim=0).to(torch.int64)
    tile.sub_(col_sq_radii.unsqueeze(0))
    hits.x_in_y[r0:r1] |= below(tile.amin(dim=1), 0.0)
