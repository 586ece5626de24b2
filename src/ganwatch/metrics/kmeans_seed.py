"""Nearest centres and k-means++ seeding: the two pieces of k-means that read every point.

Distances come from one matrix product, ``||x||^2 - 2 x c^T + ||c||^2``, in float32, over
chunks of rows so memory stays bounded whatever the data size; the k-means++ seeding of all
initialisations runs together, so each step reads the data once for every initialisation's
candidates instead of once per initialisation. :mod:`ganwatch.metrics.kmeans` runs Lloyd's
iterations on top of them.
"""

from __future__ import annotations

import math

import torch

__all__ = ["CHUNK_BYTES", "assign", "kmeans_plusplus", "squared_distances"]

#: Bytes a temporary distance block may take; rows are processed in chunks below this.
CHUNK_BYTES = 1 << 26


def chunk_rows(columns: int, itemsize: int = 4) -> int:
    """Rows per chunk so that a (rows, columns) block stays under :data:`CHUNK_BYTES`."""
    return max(1, CHUNK_BYTES // max(1, columns * itemsize))


def squared_distances(
    x: torch.Tensor,
    c: torch.Tensor,
    x_sq: torch.Tensor | None = None,
    c_sq: torch.Tensor | None = None,
) -> torch.Tensor:
    """(N, K) squared Euclidean distances by one matmul, clamped at 0 against rounding."""
    if x_sq is None:
        x_sq = (x * x).sum(1)
    if c_sq is None:
        c_sq = (c * c).sum(1)
    d2 = torch.addmm(c_sq.unsqueeze(0), x, c.T, alpha=-2.0)
    d2 += x_sq.unsqueeze(1)
    return d2.clamp_(min=0.0)


def _refine_ties(
    x: torch.Tensor, c: torch.Tensor, labels: torch.Tensor, d2: torch.Tensor, gap_tol: torch.Tensor
) -> None:
    """Redo in float64 the rows whose two nearest centres are closer than float32 can tell.

    Only those rows can come out differently from an exact computation, and they are few,
    so the evaluation stays a float32 matmul while matching a float64 reference.
    """
    if c.shape[0] < 2:
        return
    top2 = d2.topk(2, dim=1, largest=False).values
    rows = ((top2[:, 1] - top2[:, 0]) <= gap_tol).nonzero().squeeze(1)
    if rows.numel() == 0:
        return
    x64, c64 = x[rows].double(), c.double()
    shift = c64.mean(0)
    exact = squared_distances(x64 - shift, c64 - shift)
    labels[rows] = exact.argmin(1)


def assign(
    x: torch.Tensor, centres: torch.Tensor, *, exact_ties: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest centre of every row of ``x``: (labels int64 (N,), squared distances (N,)).

    Computed as a float32 matmul over chunks of rows. With ``exact_ties`` the few rows whose
    best two centres are within float32 rounding of each other are decided again in float64,
    so the labels agree with a direct float64 computation (the reference code's) row for row.
    """
    xf = x.to(torch.float32)
    cf = centres.to(device=xf.device, dtype=torch.float32)
    shift = cf.mean(0)  # distances are translation invariant; centring shrinks rounding
    xs, cs = xf - shift, cf - shift
    x_sq, c_sq = (xs * xs).sum(1), (cs * cs).sum(1)
    exact_c = centres.to(x.device)
    labels = torch.empty(xs.shape[0], dtype=torch.int64, device=xs.device)
    best = torch.empty(xs.shape[0], dtype=torch.float32, device=xs.device)
    step = chunk_rows(cs.shape[0])
    # Worst-case float32 error of a D-term dot product, doubled: gaps below it are "ties".
    rel = 2.0 * xs.shape[1] * torch.finfo(torch.float32).eps
    for start in range(0, xs.shape[0], step):
        stop = start + step
        d2 = squared_distances(xs[start:stop], cs, x_sq[start:stop], c_sq)
        best[start:stop], labels[start:stop] = d2.min(1)
        if exact_ties:
            gap_tol = rel * (x_sq[start:stop] + c_sq.max())
            _refine_ties(x[start:stop], exact_c, labels[start:stop], d2, gap_tol)
    return labels, best


def _candidate_sq_dists(x: torch.Tensor, x_sq: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """(len(rows), N) squared distances from the points ``x[rows]`` to every point."""
    cand, cand_sq = x[rows], x_sq[rows]
    out = torch.empty(rows.shape[0], x.shape[0], dtype=x.dtype, device=x.device)
    step = chunk_rows(rows.shape[0], x.element_size())
    for start in range(0, x.shape[0], step):
        stop = start + step
        out[:, start:stop] = squared_distances(cand, x[start:stop], cand_sq, x_sq[start:stop])
    return out


def kmeans_plusplus(
    x: torch.Tensor,
    k: int,
    generator: torch.Generator,
    *,
    n_init: int = 1,
    n_local_trials: int | None = None,
    x_sq: torch.Tensor | None = None,
) -> torch.Tensor:
    """Greedy k-means++ seeding (Arthur & Vassilvitskii 2007) for ``n_init`` runs at once.

    Each new centre is the best, by resulting potential (sum of squared distances to the
    nearest centre), of ``n_local_trials`` candidates drawn with probability proportional
    to D^2, the squared distance to the nearest centre chosen so far; the default
    ``2 + ln K`` trials is scikit-learn's. ``n_local_trials=1`` is the original D^2 sampling.
    Returns the chosen point indices, (n_init, k) int64.

    All runs advance together so that each step computes the candidates of every run with
    one pass over ``x``; the random draws come from ``generator`` (on the CPU) so that a
    seed gives the same choice on every device.
    """
    n = x.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= number of points ({n}), got k={k}")
    trials = n_local_trials if n_local_trials is not None else 2 + int(math.log(k))
    if x_sq is None:
        x_sq = (x * x).sum(1)
    runs = torch.arange(n_init, device=x.device)
    chosen = torch.empty(n_init, k, dtype=torch.int64, device=x.device)
    chosen[:, 0] = torch.randint(n, (n_init,), generator=generator).to(x.device)
    closest = _candidate_sq_dists(x, x_sq, chosen[:, 0])  # (n_init, N)
    potential = closest.sum(1, dtype=torch.float64)
    for j in range(1, k):
        draws = torch.rand(n_init, trials, generator=generator, dtype=torch.float64)
        targets = draws.to(x.device) * potential.unsqueeze(1)
        cumulative = closest.cumsum(1, dtype=torch.float64)
        cand = torch.searchsorted(cumulative, targets).clamp_(max=n - 1)  # (n_init, trials)
        d2 = _candidate_sq_dists(x, x_sq, cand.reshape(-1)).view(n_init, trials, n)
        torch.minimum(d2, closest.unsqueeze(1), out=d2)
        pots = d2.sum(2, dtype=torch.float64)
        best = pots.argmin(1)
        closest = d2[runs, best]
        potential = pots[runs, best]
        chosen[:, j] = cand[runs, best]
    return chosen
