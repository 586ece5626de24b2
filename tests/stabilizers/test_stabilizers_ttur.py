"""TTUR: generator and discriminator rates around --lr with their ratio, geometric mean kept."""

from __future__ import annotations

import math

import pytest

from ganwatch.stabilizers.ttur import learning_rates


def test_article_setting() -> None:
    lr_g, lr_d = learning_rates(2e-4, 4)
    assert lr_g == pytest.approx(1e-4, rel=1e-12, abs=0)
    assert lr_d == pytest.approx(4e-4, rel=1e-12, abs=0)


@pytest.mark.parametrize(("lr", "ratio"), [(2e-4, 4.0), (1e-3, 2.0), (0.1, 0.5), (5e-5, 10.0)])
def test_ratio_and_geometric_mean(lr: float, ratio: float) -> None:
    lr_g, lr_d = learning_rates(lr, ratio)
    assert lr_d / lr_g == pytest.approx(ratio, rel=1e-12, abs=0)
    assert math.sqrt(lr_g * lr_d) == pytest.approx(lr, rel=1e-12, abs=0)


def test_ratio_one_keeps_both_rates() -> None:
    lr_g, lr_d = learning_rates(3e-4, 1.0)
    assert lr_g == pytest.approx(3e-4, rel=1e-12, abs=0)
    assert lr_d == pytest.approx(3e-4, rel=1e-12, abs=0)


def test_off_gives_lr_twice() -> None:
    assert learning_rates(2e-4, None) == (2e-4, 2e-4)
