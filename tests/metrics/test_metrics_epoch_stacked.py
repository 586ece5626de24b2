"""The metric suite on Stacked MNIST: the 1,000-mode count and KL that PacGAN's table reports."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganwatch.data.loader import scale_images
from ganwatch.data.stacked import stack_mnist
from ganwatch.metrics.classes import stacked_mnist_modes
from ganwatch.metrics.inputs import data_kind
from ganwatch.metrics.suite import MetricSuite


def test_stacked_mnist_is_its_own_kind():
    assert data_kind((3, 28, 28)) == "stacked"
    assert data_kind((1, 28, 28)) == "image"


def test_stacked_epoch_metrics_count_modes_and_kl(
    trained_classifier, mnist_test, real_mnist_dir, monkeypatch
):
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(trained_classifier.cache_root))
    images, _ = stack_mnist(
        mnist_test.images, mnist_test.labels, 3000, torch.Generator().manual_seed(0)
    )
    real = scale_images(images, "cpu")
    reference = MetricSuite.prepare(real[:2000], data_dir=str(real_mnist_dir))
    assert reference.kind == "stacked"
    varied, ndb = reference.measure(real[2000:])
    assert ndb is None
    expected = stacked_mnist_modes(trained_classifier.model, real[2000:])
    assert varied["metric/stacked_modes"] == expected["modes_covered"]
    assert varied["metric/stacked_kl"] == pytest.approx(expected["mode_kl"], rel=1e-9)
    # 1,000 held-out stacked images cover several hundred modes; one image repeated covers one
    assert varied["metric/stacked_modes"] > 500
    collapsed, _ = reference.measure(real[2000:2001].expand(1000, -1, -1, -1))
    assert collapsed["metric/stacked_modes"] == 1
    assert collapsed["metric/stacked_kl"] == pytest.approx(np.log(1000), rel=1e-6)
