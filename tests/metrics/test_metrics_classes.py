"""Tests of the class metrics: exact values on hand-made predictions, then real MNIST through
the trained classifier (real vs real must look perfect, a two-digit subset collapsed)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch
from torch import nn

from ganwatch.data import stack_mnist
from ganwatch.metrics.classes import (
    class_distribution,
    class_metrics,
    classes_covered,
    inception_score,
    kl_divergence,
    stacked_mnist_modes,
)

if TYPE_CHECKING:  # fixtures' types only; conftest modules are not imported by name
    from tests.metrics.conftest import MnistSplit, TrainedClassifier


def one_hot(classes: list[int], num_classes: int = 10) -> np.ndarray:
    return np.eye(num_classes)[classes]


# ------------------------------------------------------------------ exact values


def test_kl_divergence_values() -> None:
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.25, 0.25, 0.5])
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert kl_divergence(p, q) == pytest.approx(math.log(2))
    # Unnormalised weights are normalised first.
    assert kl_divergence(2 * p, 4 * q) == pytest.approx(kl_divergence(p, q))


def test_kl_divergence_is_finite_where_the_reference_has_no_mass() -> None:
    value = kl_divergence(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
    assert math.isfinite(value)
    assert value == pytest.approx(0.5 * math.log(0.5) + 0.5 * math.log(0.5 / 1e-6))
    with pytest.raises(ValueError):
        kl_divergence(np.array([0.5, 0.5]), np.array([0.0, 0.0]))


def test_class_distribution_from_labels_or_weights() -> None:
    labels = np.array([0, 0, 1, 3])
    np.testing.assert_allclose(class_distribution(labels, 4), [0.5, 0.25, 0, 0.25])
    np.testing.assert_allclose(class_distribution(np.array([2.0, 1.0, 1.0]), 3), [0.5, 0.25, 0.25])
    with pytest.raises(ValueError):
        class_distribution(np.array([0, 4]), 4)
    with pytest.raises(ValueError):
        class_distribution(np.array([0.5, 0.5]), 4)


def test_a_class_needs_a_tenth_of_its_reference_share_to_be_covered() -> None:
    reference = np.full(10, 0.1)
    generated = np.zeros(10)
    generated[0] = 0.97
    generated[1] = 0.01  # exactly 10% of its reference share: covered
    generated[2] = 0.009  # just below: not covered
    generated[3] = 0.011
    assert classes_covered(generated, reference) == 3
    # A class absent from the reference is never counted, whatever is generated.
    reference = np.array([0.5, 0.5, 0.0])
    assert classes_covered(np.array([0.4, 0.3, 0.3]), reference) == 2


def test_inception_score_extremes() -> None:
    confident_and_even = one_hot(list(range(10)) * 10)
    score, std = inception_score(confident_and_even)
    assert score == pytest.approx(10.0) and std == pytest.approx(0.0, abs=1e-12)
    collapsed = one_hot([3] * 100)
    assert inception_score(collapsed)[0] == pytest.approx(1.0)
    unsure = np.full((100, 10), 0.1)
    assert inception_score(unsure)[0] == pytest.approx(1.0)
    # More splits than samples: one sample per split, each of which scores 1.
    assert inception_score(one_hot([0, 1, 2]), splits=10)[0] == pytest.approx(1.0)
    assert inception_score(one_hot([0, 1, 2]), splits=1)[0] == pytest.approx(3.0)


def test_class_metrics_of_a_collapsed_generator() -> None:
    probs = one_hot([7] * 955 + [1] * 40 + [2] * 5)
    reference = np.arange(1000) % 10
    metrics = class_metrics(torch.from_numpy(probs), reference)
    assert metrics["class_histogram"] == [0, 40, 5, 0, 0, 0, 0, 955, 0, 0]
    # 7 and 1 are covered (1 at 4% of samples); 2 is not: 0.5% is below a tenth of 10%.
    assert metrics["classes_covered"] == 2
    assert metrics["class_kl"] == pytest.approx(
        0.955 * math.log(9.55) + 0.04 * math.log(0.4) + 0.005 * math.log(0.05)
    )
    assert 1.0 <= metrics["inception_score"] < 1.5


class Brightness(nn.Module):
    """A fake digit classifier: the digit is the image's mean brightness, 0 (-1.0) to 9 (0.8)."""

    def __init__(self) -> None:
        super().__init__()
        self.centres = nn.Parameter(-1.0 + 0.2 * torch.arange(10.0), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -1000 * (x.mean(dim=(1, 2, 3)).unsqueeze(1) - self.centres) ** 2


def brightness_stacks(modes: list[int]) -> torch.Tensor:
    digits = torch.tensor([[m // 100, m // 10 % 10, m % 10] for m in modes], dtype=torch.float32)
    return (-1.0 + 0.2 * digits).view(-1, 3, 1, 1).expand(-1, 3, 28, 28).contiguous()


def test_stacked_modes_are_read_channel_by_channel() -> None:
    modes = [0, 7, 7, 123, 999, 450]
    result = stacked_mnist_modes(Brightness(), brightness_stacks(modes))
    histogram = np.array(result["histogram"])
    assert len(histogram) == 1000 and histogram.sum() == len(modes)
    assert histogram[[0, 7, 123, 999, 450]].tolist() == [1, 2, 1, 1, 1]
    assert result["modes_covered"] == 5


def test_stacked_mode_kl_is_log_1000_for_one_mode_and_zero_for_all() -> None:
    one_mode = stacked_mnist_modes(Brightness(), brightness_stacks([42] * 20))
    assert one_mode["modes_covered"] == 1
    assert one_mode["mode_kl"] == pytest.approx(math.log(1000))
    every_mode = stacked_mnist_modes(Brightness(), brightness_stacks(list(range(1000))))
    assert every_mode["modes_covered"] == 1000
    assert every_mode["mode_kl"] == pytest.approx(0.0, abs=1e-9)


def test_stacked_modes_reject_single_channel_images() -> None:
    with pytest.raises(ValueError, match="3, 28, 28"):
        stacked_mnist_modes(Brightness(), torch.zeros(4, 1, 28, 28))


# ------------------------------------------------------------------ real MNIST


def test_real_test_split_covers_every_class(
    mnist_test: MnistSplit, mnist_test_probs: np.ndarray
) -> None:
    metrics = class_metrics(mnist_test_probs, mnist_test.labels)
    assert metrics["classes_covered"] == 10
    assert metrics["class_kl"] < 0.01
    assert sum(metrics["class_histogram"]) == 10_000
    assert metrics["inception_score"] > 9
    assert metrics["inception_score_std"] < 0.3


def test_two_digit_subset_covers_two_classes(
    mnist_test: MnistSplit, mnist_test_probs: np.ndarray
) -> None:
    keep = np.isin(mnist_test.labels, [3, 8])
    metrics = class_metrics(mnist_test_probs[keep], mnist_test.labels)
    assert metrics["classes_covered"] == 2
    assert metrics["class_kl"] > 1
    # Near 2 (two classes, confidently); a few confident misreads can push it a bit above.
    assert 1.5 < metrics["inception_score"] < 2.5


def test_real_stacked_mnist_covers_most_modes(
    trained_classifier: TrainedClassifier, mnist_test: MnistSplit
) -> None:
    generator = torch.Generator().manual_seed(0)
    stacked, _ = stack_mnist(mnist_test.images, mnist_test.labels, 10_000, generator)
    result = stacked_mnist_modes(trained_classifier.model, stacked)
    assert result["modes_covered"] > 900
    assert result["mode_kl"] < 0.1


def test_stacks_of_zeros_and_ones_cover_at_most_eight_modes(
    trained_classifier: TrainedClassifier, mnist_test: MnistSplit, mnist_test_probs: np.ndarray
) -> None:
    # Only digits the classifier reads correctly: this checks the mode count, and a single
    # misread source digit would otherwise repeat in ~14 stacks as an extra mode.
    predicted = mnist_test_probs.argmax(axis=1)
    keep = np.isin(mnist_test.labels, [0, 1]) & (predicted == mnist_test.labels)
    generator = torch.Generator().manual_seed(0)
    stacked, _ = stack_mnist(mnist_test.images[keep], mnist_test.labels[keep], 10_000, generator)
    result = stacked_mnist_modes(trained_classifier.model, stacked)
    assert result["modes_covered"] <= 8
    assert result["modes_covered"] == 8  # 2^3 combinations, each ~1,250 times
    assert result["mode_kl"] == pytest.approx(math.log(1000 / 8), abs=0.05)
    covered = np.flatnonzero(result["histogram"]).tolist()
    assert covered == [0, 1, 10, 11, 100, 101, 110, 111]


def test_float_stacks_give_the_same_modes_as_uint8(
    trained_classifier: TrainedClassifier, mnist_test: MnistSplit
) -> None:
    generator = torch.Generator().manual_seed(1)
    stacked, labels = stack_mnist(mnist_test.images, mnist_test.labels, 500, generator)
    as_float = (stacked.float() / 255 - 0.5) / 0.5
    from_uint8 = stacked_mnist_modes(trained_classifier.model, stacked)
    assert stacked_mnist_modes(trained_classifier.model, as_float) == from_uint8
    # And the modes are the stacks' true labels, up to the classifier's few errors.
    true_histogram = np.bincount(labels.numpy(), minlength=1000)
    assert np.abs(true_histogram - np.array(from_uint8["histogram"])).sum() < 0.1 * 500
