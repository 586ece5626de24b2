"""One-sided label smoothing: the real target, refused for losses without one."""

from __future__ import annotations

import pytest

from ganwatch.catalog import LOSSES
from ganwatch.config import ConfigError, build_config
from ganwatch.stabilizers.label_smoothing import LabelSmoothing

UNSMOOTHABLE = ("wgan", "wgan-gp", "hinge", "ebgan", "began")
SMOOTHABLE = ("bce", "minimax", "lsgan", "dragan")


def test_the_catalog_says_which_losses_have_a_real_label() -> None:
    assert {name for name, spec in LOSSES.items() if spec.smoothable} == set(SMOOTHABLE)
    assert {name for name, spec in LOSSES.items() if not spec.smoothable} == set(UNSMOOTHABLE)


@pytest.mark.parametrize("value", [0.9, 0.7, 1.0])
def test_the_real_target_is_the_knob(value: float) -> None:
    assert LabelSmoothing(value).real_target(1.0) == pytest.approx(value, rel=1e-12, abs=0)


@pytest.mark.parametrize("loss", SMOOTHABLE)
def test_smoothable_losses_accept_it(loss: str) -> None:
    config = build_config({"dataset": "ring", "loss": loss, "stabilize": "label-smoothing:0.8"})
    assert config.stabilize == "label-smoothing:0.8"


@pytest.mark.parametrize("loss", UNSMOOTHABLE)
def test_losses_without_a_real_label_refuse(loss: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_config({"dataset": "ring", "loss": loss, "stabilize": "label-smoothing"})
    message = str(info.value)
    assert "--stabilize label-smoothing" in message
    assert f"--loss {loss}" in message
    assert "no real label" in message
