"""Toy 2-D mixtures: exact centres and sigmas, and the statistics of drawn samples."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from ganwatch.data import mode_centres, mode_sigma, sample_toy


def test_ring_centres_exact() -> None:
    centres = mode_centres("ring")
    assert centres.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0, atol=1e-12)
    angles = np.mod(np.arctan2(centres[:, 1], centres[:, 0]), 2 * math.pi)
    np.testing.assert_allclose(angles, np.arange(8) * math.pi / 4, atol=1e-12)
    assert mode_sigma("ring") == 0.01


def test_grid_centres_exact() -> None:
    centres = mode_centres("grid")
    expected = list(itertools.product([-4.0, -2.0, 0.0, 2.0, 4.0], repeat=2))
    assert [tuple(c) for c in centres] == expected
    assert mode_sigma("grid") == 0.05


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_sit_on_their_modes(name: str) -> None:
    points, labels = sample_toy(name, 10_000, torch.Generator().manual_seed(0))
    assert points.dtype == torch.float32 and points.shape == (10_000, 2)
    assert labels.dtype == torch.int64 and labels.shape == (10_000,)

    centres = torch.as_tensor(mode_centres(name), dtype=torch.float32)
    sigma = mode_sigma(name)
    offsets = points - centres[labels]
    # Every point within 5 sigma per coordinate of its own centre, hence nearest to it.
    assert offsets.abs().max() < 5 * sigma
    nearest = torch.cdist(points, centres).argmin(dim=1)
    assert torch.equal(nearest, labels)
    # Per-coordinate spread matches sigma; weights are uniform; every mode is present.
    assert offsets.std(dim=0).sub(sigma).abs().max() < 0.05 * sigma
    counts = torch.bincount(labels, minlength=len(centres))
    assert (counts > 0).all()
    expected = 10_000 / len(centres)
    assert (counts - expected).abs().max() < 5 * math.sqrt(expected)


def test_same_seed_same_points_different_seed_different_points() -> None:
    a = sample_toy("ring", 100, torch.Generator().manual_seed(3))
    b = sample_toy("ring", 100, torch.Generator().manual_seed(3))
    c = sample_toy("ring", 100, torch.Generator().manual_seed(4))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_unknown_toy_name() -> None:
    with pytest.raises(ValueError, match="ring, grid"):
        mode_centres("spiral")
