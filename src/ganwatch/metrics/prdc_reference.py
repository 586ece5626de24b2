"""PRDC against a fixed reference, with the reference's half of the work done once.

A Monitor measures PRDC of a new set of samples against the same reference every epoch. Of
that work, the reference's k-NN radii (10,000 x 10,000 distances for MNIST) are most of it
and never change. :func:`ganwatch.metrics.prdc.prdc` cannot keep them: it centres both sets
on their joint mean, so the reference's float32 coordinates, and the rounding of its radii,
move with every set of samples. Here the reference is centred on its own mean, once, and
each set of samples on that same mean; the reference's operands and radii are then the same
numbers at every evaluation, and its radii are computed once.

Centring on any point leaves every distance unchanged, so this is the same metric: in
float64 it agrees with :func:`~ganwatch.metrics.prdc.prdc` and the ``prdc`` package count for
count, and in float32 it differs from them only by the rounding float32 allows (see
:mod:`ganwatch.metrics.distances`). A sample that duplicates a reference point gets exactly
that point's coordinates, so the exact ties of duplicated data are decided as the radii
decide them. No coordinate is dropped (the reference's constant coordinates may vary in the
samples, and the operands must not change shape between evaluations).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganwatch.metrics.distances import (
    DEFAULT_DTYPE,
    ArrayLike,
    centre_and_cast,
    finite_features,
    knn_sq_radii,
    radius_hits,
)
from ganwatch.metrics.prdc import prdc_values, require_more_than_k


@dataclass(frozen=True)
class PreparedReference:
    """The reference as every evaluation sees it: centred coordinates and squared radii."""

    x: torch.Tensor  # (N, D) centred on its own mean, in the metrics' dtype
    mean: torch.Tensor  # (D,) float64: where every set of samples is centred too
    sq_radii: torch.Tensor  # (N,) squared distance to each point's k-th nearest neighbour
    k: int


def prepare_reference(
    real: ArrayLike, k: int, dtype: torch.dtype = DEFAULT_DTYPE
) -> PreparedReference:
    """Centre ``real`` (N, D) on its mean and compute its squared k-NN radii, once."""
    t = finite_features(real, "reference")
    require_more_than_k("real", t, k)
    mean = t.sum(dim=0, dtype=torch.float64) / t.shape[0]
    x = centre_and_cast(t, mean, dtype)
    return PreparedReference(x, mean, knn_sq_radii(x, k), k)


def prdc_against(reference: PreparedReference, fake: ArrayLike) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against a prepared reference:
    :func:`ganwatch.metrics.prdc.prdc` with the reference's radii computed once."""
    y = finite_features(fake, "samples")
    if y.shape[1] != reference.x.shape[1]:
        raise ValueError(
            f"samples have {y.shape[1]} features, the reference {reference.x.shape[1]}"
        )
    require_more_than_k("fake", y, reference.k)
    y = centre_and_cast(y.to(reference.x.device), reference.mean, reference.x.dtype)
    hits = radius_hits(reference.x, y, reference.sq_radii, knn_sq_radii(y, reference.k))
    return prdc_values(hits, reference.k)
