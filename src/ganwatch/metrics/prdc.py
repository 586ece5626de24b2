"""k-NN manifold metrics: PRDC (Naeem et al. 2020) and improved precision/recall (2019).

Both estimate the real and the fake "manifolds" as unions of balls around each sample, with
radius = distance to the sample's k-th nearest neighbour in its own set, and then count
which samples of one set fall into the other set's balls. Precision asks "are the fakes
realistic?", recall/coverage "is every part of the real data produced?" -- the latter is
what drops under mode collapse.

Both are computed by :mod:`ganwatch.metrics.distances` in tiles, so 50,000 x 50,000 sets
need no distance matrix in memory. Radii follow the references exactly: the (k+1)-th
smallest distance including the zero self-distance.

Comparisons: the two references differ, and each is reproduced as published.

- ``prdc`` uses strict ``<`` everywhere, like the ``prdc`` package
  (clovaai/generative-evaluation-prdc, ``compute_prdc``).
- ``improved_precision_recall`` uses ``<=``, like the authors' code
  (kynkaat/improved-precision-and-recall-metric, ``ManifoldEstimator.evaluate``:
  ``distance_batch <= self.D``). It only matters for exact ties, e.g. duplicated samples.
  The optional percentile clamping of that code is not implemented (it is off by default).
"""

from __future__ import annotations

import torch

from .distances import (
    DEFAULT_COL_CHUNK,
    DEFAULT_DTYPE,
    DEFAULT_ROW_CHUNK,
    ArrayLike,
    RadiusHits,
    knn_sq_radii,
    prepare_features,
    radius_hits,
)

__all__ = ["improved_precision_recall", "prdc"]


def _manifold_hits(
    real: ArrayLike,
    fake: ArrayLike,
    k: int,
    *,
    inclusive: bool,
    dtype: torch.dtype,
    row_chunk: int,
    col_chunk: int,
) -> RadiusHits:
    """Radii of both sets, then one tiled pass over the real x fake distances."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    real_t, fake_t = prepare_features(real, fake, dtype=dtype)
    for name, t in (("real", real_t), ("fake", fake_t)):
        require_more_than_k(name, t, k)
    chunks = {"row_chunk": row_chunk, "col_chunk": col_chunk}
    real_r2 = knn_sq_radii(real_t, k, **chunks)
    fake_r2 = knn_sq_radii(fake_t, k, **chunks)
    return radius_hits(real_t, fake_t, real_r2, fake_r2, inclusive=inclusive, **chunks)


def require_more_than_k(name: str, points: torch.Tensor, k: int) -> None:
    """A k-NN radius needs k other points in the set."""
    if points.shape[0] <= k:
        raise ValueError(f"{name} needs more than k={k} samples, got {points.shape[0]}")


def _fraction(flags: torch.Tensor) -> float:
    return float(flags.count_nonzero().item()) / flags.numel()


def prdc(
    real: ArrayLike,
    fake: ArrayLike,
    k: int = 5,
    *,
    dtype: torch.dtype = DEFAULT_DTYPE,
    row_chunk: int = DEFAULT_ROW_CHUNK,
    col_chunk: int = DEFAULT_COL_CHUNK,
) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` (both (N, D)).

    Definitions (Naeem et al. 2020, as in the ``prdc`` package; r = k-NN radius):

    - precision: fraction of fakes with some real i at distance ``< r_real[i]``;
    - recall: fraction of reals with some fake j at distance ``< r_fake[j]``;
    - density: number of (real i, fake j) pairs with distance ``< r_real[i]``, divided by
      ``k * n_fake`` (can exceed 1: fakes in dense real regions count several times);
    - coverage: fraction of reals whose nearest fake is at distance ``< r_real[i]``.

    Use ``dtype=torch.float64`` to match the package count for count; the float32 default
    is faster and agrees up to comparisons within ~1e-6 relative of a radius.
    """
    hits = _manifold_hits(
        real, fake, k, inclusive=False, dtype=dtype, row_chunk=row_chunk, col_chunk=col_chunk
    )
    return prdc_values(hits, k)


def prdc_values(hits: RadiusHits, k: int) -> dict[str, float]:
    """The four PRDC numbers from the strict (``<``) radius comparisons."""
    n_fake = hits.y_counts.numel()
    return {
        "precision": _fraction(hits.y_counts > 0),
        "recall": _fraction(hits.x_in_y),
        "density": float(hits.y_counts.sum().item()) / (k * n_fake),
        "coverage": _fraction(hits.x_covered),
    }


def improved_precision_recall(
    real: ArrayLike,
    fake: ArrayLike,
    k: int = 3,
    *,
    dtype: torch.dtype = DEFAULT_DTYPE,
    row_chunk: int = DEFAULT_ROW_CHUNK,
    col_chunk: int = DEFAULT_COL_CHUNK,
) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake`` against ``real``.

    - precision: fraction of fakes within ``r_real[i]`` (``<=``) of some real i;
    - recall: fraction of reals within ``r_fake[j]`` (``<=``) of some fake j.

    The ``<=`` is the authors' (see the module docstring); k=3 is their default.
    """
    hits = _manifold_hits(
        real, fake, k, inclusive=True, dtype=dtype, row_chunk=row_chunk, col_chunk=col_chunk
    )
    return {"precision": _fraction(hits.y_counts > 0), "recall": _fraction(hits.x_in_y)}
