"""Mode coverage on the toy ring and grid (VEEGAN/PacGAN rules)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganwatch.data.toy import mode_centres, mode_sigma, sample_toy
from ganwatch.metrics.toy import toy_mode_metrics


def ring_metrics(samples, **kwargs):
    return toy_mode_metrics(samples, mode_centres("ring"), mode_sigma("ring"), **kwargs)


def test_perfect_ring_samples_capture_all_modes():
    samples, labels = sample_toy("ring", 2500, torch.Generator().manual_seed(0))
    out = ring_metrics(samples)
    assert out["modes_captured"] == 8
    assert out["high_quality"] > 0.98  # 3 sigma in 2-D keeps 1 - exp(-4.5) = 98.9%
    assert sum(out["histogram"]) == round(out["high_quality"] * 2500)
    assert out["mode_kl"] < 0.01
    per_mode = np.bincount(labels.numpy(), minlength=8)  # each sample's true mode
    good = np.asarray(out["histogram"])
    assert np.all(good <= per_mode) and np.all(good >= 0.95 * per_mode)


def test_two_modes_give_two_captured_and_high_kl():
    centres = mode_centres("ring")
    rng = np.random.default_rng(1)
    picks = rng.integers(0, 2, 1000) * 5  # modes 0 and 5 only
    samples = centres[picks] + 0.01 * rng.standard_normal((1000, 2))
    out = ring_metrics(samples)
    assert out["modes_captured"] == 2
    assert [i for i, c in enumerate(out["histogram"]) if c] == [0, 5]
    assert out["mode_kl"] == pytest.approx(math.log(4), abs=0.01)  # uniform over 2 of 8


def test_collapse_to_one_point_and_uniform_noise():
    one = np.tile(mode_centres("ring")[3], (500, 1))
    out = ring_metrics(one)
    assert out["modes_captured"] == 1 and out["high_quality"] == 1.0
    assert out["mode_kl"] == pytest.approx(math.log(8))
    noise = np.random.default_rng(2).uniform(-1.5, 1.5, (5000, 2))
    out = ring_metrics(noise)
    assert out["high_quality"] < 0.01  # 8 discs of radius 0.03 in a 3 x 3 square: ~0.25%


def test_three_sigma_rule_is_strict():
    sigma = mode_sigma("ring")
    centre = mode_centres("ring")[0]
    inside = centre + [3 * sigma * 0.999, 0.0]
    outside = centre + [3 * sigma * 1.001, 0.0]
    out = ring_metrics(np.stack([inside, outside]))
    assert out["high_quality"] == 0.5 and out["histogram"][0] == 1


def test_min_count_raises_the_bar():
    centres = mode_centres("ring")
    samples = np.concatenate([np.tile(centres[0], (10, 1)), centres[1:2]])
    assert ring_metrics(samples)["modes_captured"] == 2
    assert ring_metrics(samples, min_count=5)["modes_captured"] == 1


def test_grid_and_no_high_quality_samples():
    samples, _ = sample_toy("grid", 5000, torch.Generator().manual_seed(3))
    out = toy_mode_metrics(samples, mode_centres("grid"), mode_sigma("grid"))
    assert out["modes_captured"] == 25 and len(out["histogram"]) == 25
    far = toy_mode_metrics(np.full((10, 2), 100.0), mode_centres("grid"), mode_sigma("grid"))
    assert far["modes_captured"] == 0 and far["high_quality"] == 0.0
    assert math.isnan(far["mode_kl"])


def test_validation():
    with pytest.raises(ValueError, match="sigma"):
        toy_mode_metrics(np.zeros((3, 2)), mode_centres("ring"), 0.0)
    with pytest.raises(ValueError, match="2-D"):
        toy_mode_metrics(np.zeros((3, 3)), mode_centres("ring"), 0.01)
