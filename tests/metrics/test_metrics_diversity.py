"""The per-epoch diversity score: ~1 for data-like batches, ~0 for a collapsed batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganwatch.metrics.diversity import diversity, mean_pairwise_distance, reference_diversity


def fake_images(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 1, 28, 28) images in [-1, 1]: random strokes on a -1 background."""
    images = np.full((n, 1, 28, 28), -1.0)
    for image in images:
        rows, cols = rng.integers(4, 24, 2)
        image[0, rows : rows + 4, :] = 1.0
        image[0, :, cols : cols + 3] = rng.uniform(-1, 1, (28, 1))
    return images


def test_mean_pairwise_distance_brute_force():
    x = np.random.default_rng(0).standard_normal((50, 7))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    expected = d[np.triu_indices(50, 1)].mean()
    assert mean_pairwise_distance(x) == pytest.approx(expected, rel=1e-12)
    assert mean_pairwise_distance(torch.from_numpy(x).float()) == pytest.approx(expected, 1e-6)


def test_collapsed_batch_scores_far_below_a_diverse_one():
    rng = np.random.default_rng(1)
    reference = fake_images(2000, rng)
    ref_value = reference_diversity(reference, n=64, seed=0)
    diverse = diversity(fake_images(64, rng), ref_value)
    collapsed_batch = np.repeat(fake_images(1, rng), 64, axis=0)
    collapsed_batch += 0.01 * rng.standard_normal(collapsed_batch.shape)
    collapsed = diversity(collapsed_batch, ref_value)
    assert 0.85 < diverse < 1.15
    assert collapsed < 0.05 * diverse
    assert diversity(np.repeat(reference[:1], 64, axis=0), ref_value) == 0.0


def test_reference_is_reproducible_and_validated():
    reference = np.random.default_rng(2).standard_normal((300, 10))
    assert reference_diversity(reference, seed=3) == reference_diversity(reference, seed=3)
    assert reference_diversity(reference, seed=3) != reference_diversity(reference, seed=4)
    with pytest.raises(ValueError, match="n must be"):
        reference_diversity(reference[:10], n=64)
    with pytest.raises(ValueError, match="reference_value"):
        diversity(reference[:5], 0.0)
    with pytest.raises(ValueError, match="at least 2"):
        mean_pairwise_distance(reference[:1])
