"""ganwatch.metrics.kmeans: the k-means behind NDB's bins, checked against its definition
and against scikit-learn's KMeans."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganwatch.metrics import kmeans as km
from ganwatch.metrics import kmeans_seed
from ganwatch.metrics.kmeans import assign, kmeans, kmeans_plusplus

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def blobs(
    n_per: int, centres: np.ndarray, sigma: float, seed: int = 0
) -> tuple[torch.Tensor, np.ndarray]:
    """Gaussian blobs around ``centres``; returns (points, true blob of each point)."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(centres)), n_per)
    points = centres[truth] + sigma * rng.standard_normal((len(truth), centres.shape[1]))
    return torch.as_tensor(points, dtype=torch.float32), truth


def overlapping(n: int = 3000, d: int = 16, k: int = 12, seed: int = 1) -> torch.Tensor:
    """A mixture whose components overlap: many points change cluster during Lloyd."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, d)) * 1.5
    points = centres[rng.integers(0, k, n)] + rng.standard_normal((n, d))
    return torch.as_tensor(points, dtype=torch.float32)


def test_metrics_kmeans_recovers_well_separated_blobs() -> None:
    centres = np.eye(6, 10) * 20.0
    x, truth = blobs(200, centres, sigma=0.5)
    result = kmeans(x, 6, n_init=3, seed=0)
    labels = result.labels.numpy()
    # Each found cluster is exactly one blob (a bijection between labels and blobs).
    pairs = set(zip(labels.tolist(), truth.tolist(), strict=True))
    assert len(pairs) == 6
    assert sorted(p[0] for p in pairs) == list(range(6))
    found = result.centres.numpy()[[labels[truth == b][0] for b in range(6)]]
    np.testing.assert_allclose(found, centres, atol=0.15)
    expected = float(((x.numpy() - found[truth]) ** 2).sum())
    assert result.inertia == pytest.approx(expected, rel=1e-5)


def test_metrics_kmeans_seeded_runs_are_identical_and_seeds_differ() -> None:
    x = overlapping()
    a, b = kmeans(x, 12, n_init=2, seed=7), kmeans(x, 12, n_init=2, seed=7)
    assert torch.equal(a.labels, b.labels)
    assert torch.equal(a.centres, b.centres)
    assert a.inertias == b.inertias
    c = kmeans(x, 12, n_init=2, seed=8)
    assert c.inertias != a.inertias


def test_metrics_kmeans_inertia_matches_scikit_learn_on_blobs() -> None:
    sklearn_cluster = pytest.importorskip("sklearn.cluster")
    rng = np.random.default_rng(3)
    centres = rng.uniform(-10, 10, (8, 5))
    x, _ = blobs(250, centres, sigma=1.0, seed=4)
    ours = kmeans(x, 8, n_init=10, seed=0)
    ref = sklearn_cluster.KMeans(8, n_init=10, max_iter=100, random_state=0).fit(
        x.numpy().astype(np.float64)
    )
    assert ours.inertia == pytest.approx(ref.inertia_, rel=1e-4)
    assert ours.n_iter <= 100


def test_metrics_kmeans_bounds_change_nothing() -> None:
    """The triangle-inequality pruning is exact: same labels, centres and inertia as plain
    Lloyd, with a bound per centre and with centres sharing bounds in groups."""
    x = overlapping()
    plain = kmeans(x, 12, n_init=2, seed=5, prune=False)
    pruned = kmeans(x, 12, n_init=2, seed=5)
    assert torch.equal(plain.labels, pruned.labels)
    torch.testing.assert_close(plain.centres, pruned.centres, rtol=0, atol=1e-5)
    assert plain.inertias == pytest.approx(pruned.inertias, rel=1e-6)
    assert plain.n_iter == pruned.n_iter


def test_metrics_kmeans_grouped_bounds_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    x = overlapping()
    monkeypatch.setattr(km, "MAX_BOUND_ENTRIES", x.shape[0] * 5)  # 12 centres -> 5 groups
    grouped = kmeans(x, 12, n_init=2, seed=5)
    plain = kmeans(x, 12, n_init=2, seed=5, prune=False)
    assert torch.equal(plain.labels, grouped.labels)
    assert plain.inertias == pytest.approx(grouped.inertias, rel=1e-6)


def test_metrics_kmeans_stops_at_convergence_and_labels_match_centres() -> None:
    x = overlapping()
    result = kmeans(x, 12, n_init=1, seed=0, max_iter=100)
    assert result.n_iter < 100
    # Final labels are the nearest final centres (what scikit-learn also guarantees).
    d2 = torch.cdist(x.double(), result.centres.double())
    assert torch.equal(d2.argmin(1), result.labels)
    # ... and the centres are their members' means (a Lloyd fixed point or within tol).
    for j in range(12):
        members = x[result.labels == j]
        torch.testing.assert_close(result.centres[j], members.mean(0), atol=0.05, rtol=0)


def test_metrics_kmeans_max_iter_one_is_one_lloyd_step() -> None:
    x = overlapping()
    gen = torch.Generator().manual_seed(0)
    xc = x - x.mean(0)
    start = xc[kmeans_plusplus(xc, 12, gen)[0]]
    labels = torch.cdist(xc, start).argmin(1)
    means = torch.stack([xc[labels == j].mean(0) for j in range(12)])
    result = kmeans(x, 12, n_init=1, seed=0, max_iter=1)
    assert result.n_iter == 1
    torch.testing.assert_close(result.centres - x.mean(0), means, atol=1e-4, rtol=0)


def test_metrics_kmeans_plusplus_samples_by_squared_distance() -> None:
    """With one candidate per step (plain D^2 sampling) a far outlier is picked almost
    always as the 2nd centre; greedy trials pick distinct, well spread points."""
    rng = np.random.default_rng(0)
    cloud = rng.standard_normal((500, 2)) * 0.1
    x = torch.as_tensor(np.vstack([cloud, [[100.0, 100.0]]]), dtype=torch.float32)
    chosen = kmeans_plusplus(x, 2, torch.Generator().manual_seed(1), n_init=50, n_local_trials=1)
    outlier_picked = (chosen == 500).any(1).float().mean().item()
    assert outlier_picked > 0.95
    centres = np.eye(5) * 10
    pts, truth = blobs(50, centres, 0.1)
    chosen = kmeans_plusplus(pts, 5, torch.Generator().manual_seed(0), n_init=4)
    for run in chosen.numpy():
        assert sorted(truth[run].tolist()) == [0, 1, 2, 3, 4]


def test_metrics_kmeans_assign_equals_float64_argmin() -> None:
    """The float32 matmul assignment, with near-ties redone in float64, gives the labels a
    direct float64 computation gives, on data far from the origin (where the distance
    expansion in float32 would otherwise lose digits)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4000, 64)) + 30.0
    c = x[rng.choice(4000, 50, replace=False)] + 0.01 * rng.standard_normal((50, 64))
    # Make some exact-ish ties: points midway between two centres.
    x[:50] = 0.5 * (c[:50] + np.roll(c, 1, axis=0)[:50]) + 1e-4 * rng.standard_normal((50, 64))
    truth = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(2), axis=1)
    labels, d2 = assign(torch.as_tensor(x), torch.as_tensor(c))
    assert np.array_equal(labels.numpy(), truth)
    best = ((x - c[truth]) ** 2).sum(1)
    np.testing.assert_allclose(d2.numpy(), best, rtol=1e-3, atol=1e-2)


def test_metrics_kmeans_relocates_an_empty_cluster() -> None:
    """An emptied cluster takes the point farthest from its centre (scikit-learn's rule)."""
    x = torch.tensor([[0.0], [0.1], [0.2], [10.0]])
    run = km._Run(x, x.pow(2).sum(1), torch.tensor([[0.0], [5.0], [50.0]]), torch.zeros(4).long())
    run.labels[:] = torch.tensor([0, 0, 0, 1])
    centres, relocated = km._update_centres(run, None)
    assert relocated
    # The point at 10 is farthest from its centre (5): it moves to the empty cluster 2.
    torch.testing.assert_close(centres, torch.tensor([[0.1], [0.0], [10.0]]))


def test_metrics_kmeans_rejects_bad_arguments() -> None:
    x = torch.zeros(5, 2)
    with pytest.raises(ValueError, match="k <="):
        kmeans(x, 6)
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        kmeans(torch.zeros(5), 2)
    with pytest.raises(ValueError, match="n_init"):
        kmeans(x, 2, n_init=0)


@pytest.mark.parametrize("k", [1, 2])
def test_metrics_kmeans_tiny_k(k: int) -> None:
    x = overlapping(n=300, d=4, k=3)
    result = kmeans(x, k, n_init=2, seed=0)
    assert result.centres.shape == (k, 4)
    assert set(result.labels.unique().tolist()) == set(range(k))
    if k == 1:
        torch.testing.assert_close(result.centres[0], x.mean(0), atol=1e-5, rtol=0)


def test_metrics_kmeans_chunking_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    x = overlapping(n=1000)
    whole = kmeans(x, 12, n_init=1, seed=2)
    monkeypatch.setattr(kmeans_seed, "CHUNK_BYTES", 12 * 4 * 37)  # 37-row chunks
    chunked = kmeans(x, 12, n_init=1, seed=2)
    assert torch.equal(whole.labels, chunked.labels)
    assert chunked.inertia == pytest.approx(whole.inertia, rel=1e-6)
