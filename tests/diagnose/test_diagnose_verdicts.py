"""The acceptance cases: plausible metric values for real, collapsed, noise and NaN runs."""

from __future__ import annotations

import numpy as np

from ganwatch.diagnose import (
    History,
    Thresholds,
    detect_convergence_failure,
    detect_healthy,
    detect_high_lr_signature,
    detect_mode_collapse,
    diagnose,
)

# Held-out real MNIST digits measured against the training split.
REAL = {
    "metric/classes_covered": 10,
    "metric/classes": 10,
    "metric/class_kl": 0.0001,
    "metric/precision": 0.93,
    "metric/recall": 0.93,
    "metric/coverage": 0.93,
    "metric/density": 0.93,
    "metric/fid": 2.0,
    "metric/ndb_k": 0.28,  # test vs train: different writers, not collapse
    "metric/diversity": 1.0,
}
# Digits of two classes only.
TWO_CLASSES = {
    "metric/classes_covered": 2,
    "metric/classes": 10,
    "metric/class_kl": 1.5,
    "metric/precision": 0.95,
    "metric/recall": 0.15,
    "metric/coverage": 0.2,
    "metric/density": 1.1,
    "metric/fid": 180.0,
    "metric/ndb_k": 0.8,
    "metric/diversity": 0.8,
}
# Uniform noise images: the classifier still puts them into some (arbitrary) classes.
NOISE = {
    "metric/classes_covered": 3,
    "metric/classes": 10,
    "metric/class_kl": 1.2,
    "metric/precision": 0.0,
    "metric/recall": 0.0,
    "metric/coverage": 0.0,
    "metric/density": 0.0,
    "metric/fid": 450.0,
    "metric/ndb_k": 0.97,
    "metric/diversity": 1.3,
}
HEALTHY_LOSSES = {"loss/g": 1.2, "loss/d_real": 0.55, "loss/d_fake": 0.5, "loss/g_std": 0.2}
D_WINS = {"loss/g": 7.5, "loss/d_real": 0.01, "loss/d_fake": 0.004, "d/real": 0.99, "d/fake": 0.004}
HIGH_LR = {"loss/g": 0.3, "loss/d_real": 0.002, "loss/d_fake": 6.0}


def history(*epochs: dict, nonfinite_step: int | None = None, reference=None) -> History:
    """One record per epoch, 100 steps each."""
    records = [{"epoch": i + 1, "step": 100 * (i + 1), **e} for i, e in enumerate(epochs)]
    return History.from_records(records, nonfinite_step=nonfinite_step, reference=reference)


def test_real_data_is_healthy() -> None:
    verdict = diagnose(history(REAL, REAL, REAL))
    assert verdict.kind == "healthy"
    assert verdict.confidence >= 0.7
    assert verdict.remedies == []
    assert {e.metric for e in verdict.evidence} >= {"metric/precision", "metric/ndb_k"}


def test_real_data_with_held_out_ndb_and_reference_is_healthy() -> None:
    held_out = {**REAL, "metric/ndb_k": 0.03}
    ref = {"metric/fid": 1.5, "metric/ndb_k": 0.03}
    assert diagnose(history(held_out, held_out, reference=ref)).kind == "healthy"


def test_real_data_with_healthy_losses_is_more_confidently_healthy() -> None:
    epochs = [{**REAL, **HEALTHY_LOSSES}] * 4
    with_losses = diagnose(history(*epochs))
    assert with_losses.kind == "healthy"
    assert with_losses.confidence > diagnose(history(REAL, REAL, REAL, REAL)).confidence


def test_two_classes_is_mode_collapse() -> None:
    verdict = diagnose(history(TWO_CLASSES, TWO_CLASSES, TWO_CLASSES))
    assert verdict.kind == "mode_collapse"
    assert verdict.confidence > 0.9
    covered = next(e for e in verdict.evidence if e.metric == "metric/classes_covered")
    assert (covered.value, covered.op, covered.threshold) == (2.0, "<", 7.0)
    assert verdict.remedies


def test_two_classes_is_decisive_even_after_one_epoch() -> None:
    assert diagnose(history(TWO_CLASSES)).kind == "mode_collapse"


def test_noise_is_convergence_failure_not_collapse() -> None:
    verdict = diagnose(history(NOISE, NOISE, NOISE))
    assert verdict.kind == "convergence_failure"
    metrics = {e.metric for e in verdict.evidence}
    assert {"metric/precision", "metric/fid"} <= metrics
    # Arbitrary classes and high NDB from noise must not count as collapse: precision gates them.
    assert detect_mode_collapse(history(NOISE, NOISE, NOISE)) is None


def test_nan_is_divergence_from_its_step() -> None:
    verdict = diagnose(history(REAL, HEALTHY_LOSSES, nonfinite_step=137))
    assert verdict.kind == "divergence"
    assert verdict.confidence == 1.0
    assert verdict.since_step == 137
    assert verdict.remedies[0].flag.startswith("--lr")


def test_infinite_loss_in_series_is_divergence() -> None:
    verdict = diagnose(history(HEALTHY_LOSSES, {**HEALTHY_LOSSES, "loss/g": np.inf}))
    assert verdict.kind == "divergence"
    assert verdict.since_step == 200


def test_discriminator_winning_is_convergence_failure() -> None:
    verdict = diagnose(history(HEALTHY_LOSSES, D_WINS, D_WINS, D_WINS))
    assert verdict.kind == "convergence_failure"
    assert verdict.since_step == 200
    assert {"loss/d_real", "loss/d_fake", "loss/g"} <= {e.metric for e in verdict.evidence}


def test_discriminator_winning_for_one_epoch_is_not_enough() -> None:
    assert detect_convergence_failure(history(HEALTHY_LOSSES, HEALTHY_LOSSES, D_WINS)) is None


def test_high_lr_signature_is_convergence_failure_with_lr_remedy_first() -> None:
    verdict = diagnose(history(HIGH_LR, HIGH_LR, HIGH_LR), config={"lr": 0.2, "beta1": 0.5})
    assert verdict.kind == "convergence_failure"
    assert verdict.since_step == 100
    assert verdict.remedies[0].flag == "--lr 2e-4"
    assert detect_high_lr_signature(history(HIGH_LR, HIGH_LR)) is not None
    assert detect_high_lr_signature(history(D_WINS, D_WINS)) is None


def test_settled_losses_alone_are_healthy_with_low_confidence() -> None:
    epochs = [{**HEALTHY_LOSSES, "loss/g": g} for g in (1.1, 1.3, 1.2, 1.25)]
    verdict = diagnose(history(*epochs))
    assert verdict.kind == "healthy"
    assert verdict.confidence < 0.5


def test_trending_losses_without_metrics_are_warming_up() -> None:
    epochs = [{**HEALTHY_LOSSES, "loss/g": g} for g in (0.5, 1.5, 3.0)]
    assert diagnose(history(*epochs)).kind == "warming_up"


def test_since_step_is_the_onset_of_the_current_run() -> None:
    collapsing = [REAL, REAL, TWO_CLASSES, TWO_CLASSES, TWO_CLASSES]
    verdict = diagnose(history(*collapsing))
    assert verdict.kind == "mode_collapse"
    assert (verdict.epoch, verdict.step, verdict.since_step) == (5, 500, 300)


def test_epochs_without_metrics_do_not_break_the_run() -> None:
    # Metrics every other epoch; the losses-only epochs in between leave the onset alone.
    epochs = [REAL, HEALTHY_LOSSES, TWO_CLASSES, HEALTHY_LOSSES, TWO_CLASSES, HEALTHY_LOSSES]
    verdict = diagnose(history(*epochs))
    assert verdict.kind == "mode_collapse"
    assert verdict.since_step == 300
    assert verdict.step == 600


def test_recovery_ends_the_failure() -> None:
    assert diagnose(history(TWO_CLASSES, TWO_CLASSES, REAL, REAL)).kind == "healthy"


def test_one_ambiguous_epoch_is_warming_up() -> None:
    middling = {
        "metric/classes_covered": 6,
        "metric/classes": 10,
        "metric/precision": 0.35,
        "metric/recall": 0.2,
        "metric/fid": 90.0,
        **HEALTHY_LOSSES,
    }
    verdict = diagnose(history(middling))
    assert verdict.kind == "warming_up"
    assert verdict.since_step is None
    assert (verdict.epoch, verdict.step) == (1, 100)


def test_empty_history_is_warming_up() -> None:
    empty = History(np.array([], int), np.array([], int), {})
    assert diagnose(empty).kind == "warming_up"


def test_healthy_needs_min_epochs() -> None:
    assert detect_healthy(history(REAL)) is None
    assert diagnose(history(REAL)).kind == "warming_up"


def test_both_failures_keep_the_weaker_ones_evidence() -> None:
    # Two classes covered and the discriminator winning: both hold, the stronger one wins.
    both = {**TWO_CLASSES, **D_WINS}
    verdict = diagnose(history(both, both, both))
    assert verdict.kind in ("mode_collapse", "convergence_failure")
    assert any(e.note.startswith("(also a sign of") for e in verdict.evidence)


def test_toy_data() -> None:
    good = {"metric/modes_captured": 8, "metric/modes": 8, "metric/high_quality": 0.9}
    dropped = {**good, "metric/modes_captured": 3}
    scattered = {**good, "metric/high_quality": 0.05}
    assert diagnose(history(good, good)).kind == "healthy"
    assert diagnose(history(dropped, dropped)).kind == "mode_collapse"
    assert diagnose(history(scattered, scattered)).kind == "convergence_failure"


def test_thresholds_are_a_parameter() -> None:
    strict = Thresholds(healthy_precision=0.95)
    assert diagnose(history(REAL, REAL), thresholds=strict).kind == "warming_up"


def test_ndb_alone_only_counts_when_very_high() -> None:
    assert detect_mode_collapse(history({**REAL, "metric/ndb_k": 0.5})) is None
    very_high = detect_mode_collapse(history({**REAL, "metric/ndb_k": 0.7}))
    assert very_high is not None and very_high.confidence < 0.9


def test_oscillating_generator_loss_is_only_supporting() -> None:
    oscillating = {**HEALTHY_LOSSES, "loss/g_std": 2.0}
    assert detect_mode_collapse(history(oscillating, oscillating)) is None
    low_div = {**oscillating, "metric/diversity": 0.2}
    with_support = detect_mode_collapse(history(low_div, low_div))
    without = detect_mode_collapse(history(*[{"metric/diversity": 0.2}] * 2))
    assert with_support is not None and without is not None
    assert with_support.confidence > without.confidence
    assert "g_oscillation" in with_support.tags
