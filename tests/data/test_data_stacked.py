"""Stacked MNIST: each channel is one source digit; the label encodes the three digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganwatch.data import stack_mnist


def _digits(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    return images, labels


def test_channels_are_source_digits_and_label_formula() -> None:
    images, labels = _digits()
    stacked, stacked_labels = stack_mnist(images, labels, 200, torch.Generator().manual_seed(0))
    assert stacked.shape == (200, 3, 28, 28) and stacked.dtype == torch.uint8
    assert stacked_labels.shape == (200,) and stacked_labels.dtype == torch.int64

    source = torch.from_numpy(images).reshape(len(images), -1)
    for sample, label in zip(stacked, stacked_labels, strict=True):
        digits = []
        for channel in sample:
            # Random 28x28 noise images are unique, so the match identifies the source.
            match = (source == channel.reshape(1, -1)).all(dim=1).nonzero().flatten()
            assert len(match) == 1
            digits.append(int(labels[match[0]]))
        assert int(label) == 100 * digits[0] + 10 * digits[1] + digits[2]


def test_covers_many_of_the_1000_modes() -> None:
    images, _ = _digits(1000)
    labels = np.arange(1000) % 10
    _, stacked_labels = stack_mnist(images, labels, 20_000, torch.Generator().manual_seed(1))
    assert stacked_labels.min() >= 0 and stacked_labels.max() <= 999
    assert len(torch.unique(stacked_labels)) == 1000


def test_rejects_mismatched_inputs() -> None:
    images, labels = _digits()
    with pytest.raises(ValueError, match="labels"):
        stack_mnist(images, labels[:-1], 5, torch.Generator())
