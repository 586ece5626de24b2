"""Loss-value rules are on BCE's scale: other losses' values must not trigger them."""

from __future__ import annotations

import pytest

from ganwatch.diagnose import diagnose
from ganwatch.diagnose.verdict import History


def near_zero_losses(epochs: int = 6) -> History:
    """Losses that BCE reaches only when training has broken down: all of them near 0."""
    return History.from_records(
        [
            {"epoch": e, "step": 10 * e, "loss/g": 0.01, "loss/d_real": 0.01, "loss/d_fake": 0.0}
            for e in range(1, epochs + 1)
        ]
    )


def test_near_zero_bce_losses_are_a_convergence_failure():
    verdict = diagnose(near_zero_losses(), config={"loss": "bce"})
    assert verdict.kind == "convergence_failure"
    assert any(e.metric == "loss/g" for e in verdict.evidence)


@pytest.mark.parametrize("loss", ["began", "ebgan", "wgan", "wgan-gp", "hinge", "lsgan"])
def test_the_same_values_from_other_losses_are_not_read_on_bces_scale(loss):
    verdict = diagnose(near_zero_losses(), config={"loss": loss})
    # without metrics, constant losses are only "settled" (a scale-free spread), nothing more
    assert verdict.kind == "healthy"
    assert [e.metric for e in verdict.evidence] == ["loss/g_spread", "confidence/track_record"]
    # and settled losses alone are rarely right: the track record caps them well below 0.4
    assert verdict.confidence < 0.4


def test_the_high_lr_signature_is_bce_only():
    records = [
        {"epoch": e, "step": 10 * e, "loss/g": 0.5, "loss/d_real": 0.001, "loss/d_fake": 3.0}
        for e in range(1, 7)
    ]
    assert diagnose(History.from_records(records)).kind == "convergence_failure"
    critic = diagnose(History.from_records(records), config={"loss": "wgan"})
    assert critic.kind != "convergence_failure"
