"""A cheap per-epoch diversity score for a small batch of samples (e.g. the 64 fixed-noise
images of the epoch grid).

Mode collapse means the generator maps different noise vectors to (nearly) the same output,
so the samples of one batch end up close to each other. The score is

    diversity = mean pairwise distance within the batch
                / mean pairwise distance within a batch of real data,

~1 for samples as varied as the data, near 0 when every noise vector gives the same sample.
It needs no feature network and costs one 64 x 64 distance matrix, so it can run every epoch.

The expected mean pairwise distance of i.i.d. samples does not depend on the batch size
(it is a mean over pairs), so the reference can be drawn once with the batch size of the
samples; averaging a few reference draws only reduces its noise.
"""

from __future__ import annotations

import torch

from .distances import ArrayLike, as_features

__all__ = ["diversity", "mean_pairwise_distance", "reference_diversity"]

# Rows per block when summing distances, bounding memory for large batches.
_BLOCK = 1024


def mean_pairwise_distance(samples: ArrayLike) -> float:
    """Mean Euclidean distance over all pairs of distinct rows of (N, ...) samples (float64).

    Distances are computed from differences, not the GEMM shortcut, so near-identical
    samples (the collapsed case this measures) get accurate tiny distances, not round-off.
    """
    x = as_features(samples, "samples").to(torch.float64)
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 samples for pairwise distances, got {n}")
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    for start in range(0, n, _BLOCK):
        block = x[start : start + _BLOCK]
        total += torch.cdist(block, x, compute_mode="donot_use_mm_for_euclid_dist").sum()
    return float(total) / (n * (n - 1))  # the zero diagonal adds nothing


def reference_diversity(
    reference: ArrayLike, n: int = 64, seed: int = 0, *, draws: int = 10
) -> float:
    """Mean pairwise distance of random size-``n`` batches of ``reference``, averaged over
    ``draws`` batches. Compute once per data set; use ``n`` = the sample batch size.

    Rows are drawn without replacement by a ``torch.Generator`` seeded with ``seed``.
    """
    data = as_features(reference, "reference")
    if not 2 <= n <= data.shape[0]:
        raise ValueError(f"n must be in [2, {data.shape[0]}] for this reference, got {n}")
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    generator = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(draws):
        rows = torch.randperm(data.shape[0], generator=generator)[:n].to(data.device)
        values.append(mean_pairwise_distance(data[rows]))
    return sum(values) / draws


def diversity(samples: ArrayLike, reference_value: float) -> float:
    """Mean pairwise distance of ``samples`` divided by ``reference_value``.

    ``reference_value`` comes from :func:`reference_diversity` on real data of the same
    kind (same scaling, same flattening). ~1: as diverse as the data; -> 0: collapse.
    """
    if not reference_value > 0:
        raise ValueError(f"reference_value must be > 0, got {reference_value}")
    return mean_pairwise_distance(samples) / reference_value
