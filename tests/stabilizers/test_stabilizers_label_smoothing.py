"""One-sided label smoothing: the real target, refused for losses without one."""

from __future__ import annotations

import pytest

from ganwatch.config import LOSSES, ConfigError
from ganwatch.stabilizers.label_smoothing import SMOOTHABLE_LOSSES, real_target

UNSMOOTHABLE = ("wgan", "wgan-gp", "hinge", "ebgan", "began")


def test_the_two_lists_cover_every_loss() -> None:
    assert set(SMOOTHABLE_LOSSES) | set(UNSMOOTHABLE) == set(LOSSES)
    assert not set(SMOOTHABLE_LOSSES) & set(UNSMOOTHABLE)


@pytest.mark.parametrize("loss", LOSSES)
def test_off_is_one_for_every_loss(loss: str) -> None:
    assert real_target(loss, None) == pytest.approx(1.0, rel=0, abs=0)


@pytest.mark.parametrize("loss", ["bce", "minimax", "lsgan", "dragan"])
@pytest.mark.parametrize("value", [0.9, 0.7, 1.0])
def test_smoothable_losses_take_the_value(loss: str, value: float) -> None:
    assert real_target(loss, value) == pytest.approx(value, rel=1e-12, abs=0)


@pytest.mark.parametrize("loss", UNSMOOTHABLE)
def test_losses_without_a_real_label_refuse(loss: str) -> None:
    with pytest.raises(ConfigError) as info:
        real_target(loss, 0.9)
    message = str(info.value)
    assert "--stabilize label-smoothing" in message
    assert f"--loss {loss}" in message
    for name in SMOOTHABLE_LOSSES:
        assert name in message
