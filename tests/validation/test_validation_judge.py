"""The validation judge: its labelling rules, and what it says of real and degenerate digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganwatch.data.loader import scale_images
from ganwatch.validation.judge import (
    JUDGE_SAMPLES,
    Truth,
    image_truth,
    label_from,
    point_truth,
    train_judge,
    truth_of_counts,
)


@pytest.mark.parametrize(
    ("quality", "held", "kl", "label"),
    [
        (0.95, 10, 0.01, "healthy"),
        (0.55, 10, 0.15, "healthy"),
        (0.45, 10, 0.05, "undecided"),  # data-like enough not to fail, not good enough
        (0.9, 9, 0.05, "undecided"),  # one class missing: neither call is wrong
        (0.9, 7, 0.3, "mode_collapse"),
        (0.9, 10, 0.6, "mode_collapse"),  # every class, but far from its share
        (0.29, 10, 0.01, "convergence_failure"),  # every class: not collapsed, just poor
        (0.25, 5, 1.0, "mixed_failure"),  # collapsed, within 0.1 of the 30% line
        (0.35, 10, 0.9, "mixed_failure"),
        (0.15, 5, 1.0, "convergence_failure"),  # collapsed, but far below the line
        (0.45, 5, 1.0, "mode_collapse"),
        (float("nan"), 0, 0.0, "convergence_failure"),
    ],
)
def test_labels(quality, held, kl, label) -> None:
    assert label_from(quality, held, 10, kl) == label


def test_without_the_mixed_band_the_30_percent_line_decides() -> None:
    assert label_from(0.25, 5, 10, 1.0, mixed_band=0.0) == "convergence_failure"
    assert label_from(0.35, 5, 10, 1.0, mixed_band=0.0) == "mode_collapse"
    mixed = Truth("mixed_failure", 0.25, 5, 10, 1.0)
    assert mixed.relabelled(0.0) == Truth("convergence_failure", 0.25, 5, 10, 1.0)
    assert mixed.relabelled() == mixed
    diverged = Truth("divergence", float("nan"), 0, 0, float("nan"))
    assert diverged.relabelled() is diverged  # about the losses: no numbers to relabel


def test_truth_of_counts_holds_a_class_at_a_quarter_of_its_share() -> None:
    # 1,000 recognisable samples over 10 classes: a fair share is 100, a quarter of it 25
    counts = np.array([24] + [976 // 9] * 9)
    truth = truth_of_counts(counts, int(counts.sum()), 2000)
    assert (truth.held, truth.classes) == (9, 10)
    assert truth.quality == pytest.approx(counts.sum() / 2000)
    uniform = truth_of_counts(np.full(10, 100), 1000, 1000)
    assert uniform.kl == pytest.approx(0.0, abs=1e-12) and uniform.label == "healthy"


@pytest.fixture(scope="module")
def judge(real_mnist_dir):
    from ganwatch.data import load_dataset

    train = load_dataset("mnist", data_dir=real_mnist_dir)
    return train_judge(train.data, train.labels)


def test_real_digits_are_healthy_and_degenerate_ones_are_not(judge, mnist_test) -> None:
    real = scale_images(torch.from_numpy(mnist_test.images).unsqueeze(1), "cpu")
    truth = image_truth(real, judge)
    assert truth.label == "healthy" and truth.quality > 0.8 and truth.held == 10
    blank = image_truth(-torch.ones(2000, 1, 28, 28), judge)
    noise = image_truth(
        torch.rand(2000, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1, judge
    )
    assert blank.label == noise.label == "convergence_failure"
    sevens = image_truth(real[torch.from_numpy(mnist_test.labels == 7)], judge)
    assert sevens.label == "mode_collapse" and sevens.held == 1


def test_points_on_every_mode_are_healthy_and_on_two_a_collapse() -> None:
    from ganwatch.data import load_dataset

    ring = load_dataset("ring", size=JUDGE_SAMPLES, seed=3)
    assert point_truth(ring.data, "ring").label == "healthy"
    two = ring.data[ring.labels < 2]
    assert point_truth(two, "ring").label == "mode_collapse"
    assert point_truth(ring.data * 3, "ring").label == "convergence_failure"
