"""The acceptance cases: plausible metric values for real, collapsed, noise and NaN runs."""

from __future__ import annotations

import numpy as np

from ganwatch.catalog.verdicts import also_found
from ganwatch.diagnose import (
    History,
    Thresholds,
    Verdict,
    detect_convergence_failure,
    detect_healthy,
    detect_high_lr_signature,
    detect_mode_collapse,
    diagnose,
)
from ganwatch.diagnose.confidence import calibrated
from ganwatch.metrics.bands import Band, Bands

# What held-out real MNIST digits score at 512 samples against 10,000 training digits (the
# real-data bands; measured with ganwatch.metrics.suite, five draws).
BANDS = Bands(
    512,
    5,
    {
        "metric/coverage": Band(0.224, 0.005, 0.220, 0.232),
        "metric/fid": Band(12.9, 1.5, 11.2, 15.0),
        "metric/ndb_k": Band(0.052, 0.013, 0.04, 0.07),
        "metric/realism": Band(0.992, 0.007, 0.981, 1.0),
        "metric/recall": Band(0.952, 0.003, 0.947, 0.954),
    },
)
# Real test digits measured at 512 samples against the training split.
REAL = {
    "metric/classes_covered": 10,
    "metric/classes": 10,
    "metric/class_kl": 0.011,
    "metric/precision": 0.93,
    "metric/recall": 0.95,
    "metric/coverage": 0.20,
    "metric/density": 0.96,
    "metric/fid": 24.0,
    "metric/ndb_k": 0.12,  # test vs train: different writers, not collapse
    "metric/diversity": 0.96,
    "metric/realism": 0.977,
}
# Digits of two classes only: data-like, but few classes.
TWO_CLASSES = {
    **REAL,
    "metric/classes_covered": 2,
    "metric/class_kl": 1.5,
    "metric/recall": 0.15,
    "metric/coverage": 0.03,
    "metric/fid": 180.0,
    "metric/ndb_k": 0.8,
    "metric/diversity": 0.8,
    "metric/realism": 0.98,
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
    "metric/realism": 0.0,
}
# One blank image for every noise vector (the article's model early at quick scale): the
# classifier sees one class, precision can even be 1, but nothing is data-like.
BLANK = {
    **NOISE,
    "metric/classes_covered": 1,
    "metric/precision": 1.0,
    "metric/fid": 1145.0,
    "metric/diversity": 0.0,
}
HEALTHY_LOSSES = {"loss/g": 1.2, "loss/d_real": 0.55, "loss/d_fake": 0.5, "loss/g_std": 0.2}
D_WINS = {"loss/g": 7.5, "loss/d_real": 0.01, "loss/d_fake": 0.004, "d/real": 0.99, "d/fake": 0.004}
HIGH_LR = {"loss/g": 0.3, "loss/d_real": 0.002, "loss/d_fake": 6.0}


def history(*epochs: dict, nonfinite_step: int | None = None, bands=BANDS) -> History:
    """One record per epoch, 100 steps each, judged against the real-data bands."""
    records = [{"epoch": i + 1, "step": 100 * (i + 1), **e} for i, e in enumerate(epochs)]
    return History.from_records(records, nonfinite_step=nonfinite_step, bands=bands)


def test_real_data_is_healthy() -> None:
    verdict = diagnose(history(REAL, REAL, REAL))
    assert verdict.kind == "healthy"
    assert verdict.confidence >= 0.7
    assert verdict.remedies == []
    assert {e.metric for e in verdict.evidence} >= {"metric/realism", "metric/coverage"}


def test_real_data_is_healthy_at_any_sample_count() -> None:
    """Coverage depends on the count; judged against real data's band it is fine at each."""
    for n, real_coverage in ((256, 0.12), (1000, 0.38), (5000, 0.87)):
        bands = Bands(
            n,
            5,
            {
                **BANDS.bands,
                "metric/coverage": Band(
                    real_coverage, 0.005, real_coverage - 0.01, real_coverage + 0.01
                ),
            },
        )
        measured = {**REAL, "metric/coverage": real_coverage - 0.02}
        assert diagnose(history(measured, measured, bands=bands)).kind == "healthy", n


def test_real_data_with_healthy_losses_is_more_confidently_healthy() -> None:
    epochs = [{**REAL, **HEALTHY_LOSSES}] * 4
    with_losses = diagnose(history(*epochs))
    assert with_losses.kind == "healthy"
    assert with_losses.confidence > diagnose(history(REAL, REAL, REAL, REAL)).confidence


def test_blank_samples_are_a_convergence_failure_with_the_d_wins_evidence() -> None:
    """The article's model at quick scale: D wins, G's loss climbs, every sample is blank."""
    epochs = [{**BLANK, **D_WINS, "loss/g": g} for g in (3.4, 5.0, 7.0, 9.0)]
    verdict = diagnose(history(*epochs), config={"lr": 2e-4, "beta1": 0.5, "latent_dim": 128})
    assert verdict.kind == "convergence_failure"
    metrics = {e.metric for e in verdict.evidence}
    assert {"metric/realism", "loss/d_real", "loss/d_fake"} <= metrics
    flags = [r.flag for r in verdict.remedies]
    assert not any("pacgan" in f or "minibatch" in f or "unrolled" in f for f in flags)
    assert any(
        f
        in (
            "--stabilize label-smoothing",
            "--stabilize instance-noise",
            "--stabilize spectral-norm",
            "--stabilize ttur",
        )
        for f in flags
    )
    assert detect_mode_collapse(history(*epochs)) is None  # collapse metrics are not read


def test_two_classes_is_mode_collapse() -> None:
    h = history(TWO_CLASSES, TWO_CLASSES, TWO_CLASSES)
    verdict = diagnose(h)
    assert verdict.kind == "mode_collapse"
    # four signals add up to > 0.9; the report says what such verdicts' record allows
    strength = detect_mode_collapse(h).confidence
    assert strength > 0.9
    assert verdict.confidence == calibrated(round(strength, 4), "mode_collapse", "images")
    covered = next(e for e in verdict.evidence if e.metric == "metric/classes_covered")
    assert (covered.value, covered.op, covered.threshold) == (2.0, "<", 7.0)
    assert verdict.remedies


def test_two_classes_is_decisive_even_after_one_epoch() -> None:
    assert diagnose(history(TWO_CLASSES)).kind == "mode_collapse"


def test_noise_is_convergence_failure_not_collapse() -> None:
    verdict = diagnose(history(NOISE, NOISE, NOISE))
    assert verdict.kind == "convergence_failure"
    metrics = {e.metric for e in verdict.evidence}
    assert {"metric/realism", "metric/fid"} <= metrics
    # Arbitrary classes and high NDB from noise must not count as collapse: realism gates them.
    assert detect_mode_collapse(history(NOISE, NOISE, NOISE)) is None


def test_speckled_digits_of_few_classes_are_a_convergence_failure() -> None:
    """Digit-shaped noise (the corpus's early MNIST epochs): the classifier's features pass
    it and see few classes, the pixels do not pass it. Far from the data outranks few modes."""
    speckled = {**TWO_CLASSES, "metric/realism": 0.75, "metric/pixel_realism": 0.6}
    verdict = diagnose(history(speckled, speckled, speckled))
    assert verdict.kind == "convergence_failure"
    first = verdict.evidence[0]
    assert (first.metric, first.op, first.threshold) == ("metric/pixel_realism", "<", 0.85)
    assert detect_mode_collapse(history(speckled, speckled, speckled)) is not None
    # A crisp collapse (a healthy GAN's samples of few classes) keeps its pixels close to data.
    crisp = {**speckled, "metric/pixel_realism": 0.95}
    assert diagnose(history(crisp, crisp, crisp)).kind == "mode_collapse"


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
        "metric/classes_covered": 8,
        "metric/classes": 10,
        "metric/realism": 0.6,
        "metric/coverage": 0.05,
        "metric/fid": 300.0,
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
    # Two classes covered and the discriminator winning: both hold, D winning outranks.
    both = {**TWO_CLASSES, **D_WINS}
    verdict = diagnose(history(both, both, both))
    assert verdict.kind == "convergence_failure"
    assert any(e.note.startswith("(also a sign of mode collapse)") for e in verdict.evidence)
    assert also_found(e.to_dict() for e in verdict.evidence) == {"mode_collapse"}


def test_d_winning_outright_outranks_a_collapse() -> None:
    """The corpus's learning rate 0.2: one repeated, digit-like image that realism passes,
    D separating perfectly and G's loss in the thousands. G gets no signal: a convergence
    failure (the article's Fig. 12 and 14), with the collapse kept as secondary evidence."""
    one_image = {**TWO_CLASSES, "metric/classes_covered": 1, "metric/diversity": 0.0}
    stuck = [{**one_image, **D_WINS, "loss/g": g} for g in (900.0, 2400.0, 5400.0)]
    verdict = diagnose(history(*stuck), config={"lr": 0.2, "beta1": 0.5, "latent_dim": 100})
    assert verdict.kind == "convergence_failure"
    secondary = [e.metric for e in verdict.evidence if e.note.startswith("(also a sign of")]
    assert "metric/classes_covered" in secondary
    assert not any("minibatch" in r.flag or "pacgan" in r.flag for r in verdict.remedies)
    # Without D winning, the same samples are a collapse.
    alone = [{**one_image, **HEALTHY_LOSSES}] * 3
    assert diagnose(history(*alone)).kind == "mode_collapse"


def test_toy_data() -> None:
    good = {"metric/modes_captured": 8, "metric/modes": 8, "metric/high_quality": 0.9}
    dropped = {**good, "metric/modes_captured": 3}
    scattered = {**good, "metric/high_quality": 0.05}
    assert diagnose(history(good, good)).kind == "healthy"
    assert diagnose(history(dropped, dropped)).kind == "mode_collapse"
    assert diagnose(history(scattered, scattered)).kind == "convergence_failure"


def test_a_toy_collapse_on_the_modes_is_firm() -> None:
    """On 2-D data the share of samples on a mode is measured directly: a collapse found
    while it is as high as a healthy run's is firm (reported without waiting), says why in
    its evidence, and one found on fewer samples on modes is not; nor is an image collapse,
    nor any other kind but divergence."""
    on_modes = {"metric/modes_captured": 3, "metric/modes": 8, "metric/high_quality": 0.9}
    verdict = diagnose(history(on_modes, on_modes))
    assert (verdict.kind, verdict.firm) == ("mode_collapse", True)
    quality = [e for e in verdict.evidence if e.metric == "metric/high_quality"]
    assert [(e.value, e.threshold, e.op, e.epoch) for e in quality] == [(0.9, 0.3, ">", 2)]
    assert "without waiting" in quality[0].note
    sparse = {**on_modes, "metric/high_quality": 0.25}  # past toy_min_quality, not healthy's
    verdict = diagnose(history(sparse, sparse))
    assert (verdict.kind, verdict.firm) == ("mode_collapse", False)
    assert "metric/high_quality" not in [e.metric for e in verdict.evidence]
    # the line is healthy_toy_quality
    raised = Thresholds(healthy_toy_quality=0.95)
    assert not diagnose(history(on_modes, on_modes), raised).firm
    two_classes = {**TWO_CLASSES, **HEALTHY_LOSSES}
    image = diagnose(history(two_classes, two_classes))
    assert (image.kind, image.firm) == ("mode_collapse", False)
    good = {**on_modes, "metric/modes_captured": 8}
    assert not diagnose(history(good, good)).firm  # healthy
    nan = diagnose(history(good, {**good, "step": 150}, nonfinite_step=150))
    assert (nan.kind, nan.firm) == ("divergence", True)
    assert Verdict("divergence", 3, 300, 250, 1.0).firm  # however a divergence is made
    # With --eval-every, the epochs between measurements read the latest measured share,
    # dated to the epoch that measured it.
    between = {"metric/modes": 8, "loss/g": 1.0}
    verdict = diagnose(history(on_modes, on_modes, between))
    assert (verdict.kind, verdict.firm) == ("mode_collapse", True)
    assert [e.epoch for e in verdict.evidence if e.metric == "metric/high_quality"] == [2]


def test_toy_samples_crowded_onto_few_modes_are_a_collapse() -> None:
    """Every mode holds a sample, but most samples sit on one or two: the mode shares' KL from
    an even spread says collapse (as class KL does for images); an even spread is healthy,
    and a KL between the two lines is neither."""
    even = {"metric/modes_captured": 8, "metric/modes": 8, "metric/high_quality": 0.9}
    crowded = {**even, "metric/mode_kl": 1.2}
    verdict = diagnose(history(crowded, crowded))
    assert verdict.kind == "mode_collapse"
    assert "metric/mode_kl" in [e.metric for e in verdict.evidence]
    assert diagnose(history(*[{**even, "metric/mode_kl": 0.05}] * 2)).kind == "healthy"
    between = {**even, "metric/mode_kl": 0.5}
    assert diagnose(history(between, between)).kind == "warming_up"
    # the lines are thresholds
    assert diagnose(history(crowded, crowded), Thresholds(toy_mode_kl=1.5)).kind == "warming_up"
    loose = Thresholds(healthy_toy_mode_kl=0.6)
    assert diagnose(history(between, between), loose).kind == "healthy"
    # crowded but off the modes: not data-like, so a convergence failure, not a collapse
    off = {**crowded, "metric/high_quality": 0.05}
    assert diagnose(history(off, off)).kind == "convergence_failure"


def test_one_decisive_signal_is_enough_at_the_first_evaluation() -> None:
    """Before ``min_epochs`` a failure needs ``decisive_confidence`` (one strong signal): a
    2-D GAN with no sample on a mode is a convergence failure at once, while one clear but
    not decisive sign (a skewed class histogram alone) waits for the next evaluation."""
    scattered = {"metric/modes_captured": 8, "metric/modes": 8, "metric/high_quality": 0.03}
    verdict = diagnose(history(scattered))
    assert verdict.kind == "convergence_failure"
    assert verdict.since_step == 100
    assert [e.metric for e in verdict.evidence][0] == "metric/high_quality"
    skewed = {**REAL, "metric/class_kl": 1.2, **HEALTHY_LOSSES}
    assert detect_mode_collapse(history(skewed)).confidence == 0.5
    assert diagnose(history(skewed)).kind == "warming_up"
    # Three clear signs add up past 0.8 (1 - 0.5^3) without a decisive one: they wait too.
    three = {**skewed, "metric/ndb_k": 0.6, "metric/diversity": 0.2}
    finding = detect_mode_collapse(history(three))
    assert finding.confidence == 0.875 and finding.strongest == 0.5
    assert diagnose(history(three)).kind == "warming_up"
    assert diagnose(history(three, three)).kind == "mode_collapse"
    # the rule is the threshold: at the old 0.9 the scattered samples wait too
    assert diagnose(history(scattered), Thresholds(decisive_confidence=0.9)).kind == "warming_up"


def test_thresholds_are_a_parameter() -> None:
    strict = Thresholds(realism_healthy=0.99)
    assert diagnose(history(REAL, REAL), thresholds=strict).kind == "warming_up"


def test_ndb_counts_relative_to_real_data_and_alone_only_when_far_above() -> None:
    # real data's highest NDB/K is 0.07: 0.3 above it is needed for a medium signal; less
    # is supporting evidence only, which never makes a verdict alone
    assert detect_mode_collapse(history({**REAL, "metric/ndb_k": 0.2})) is None
    very_high = detect_mode_collapse(history({**REAL, "metric/ndb_k": 0.45}))
    assert very_high is not None and very_high.confidence < 0.9
    # without bands the absolute fallback applies
    assert detect_mode_collapse(history({**REAL, "metric/ndb_k": 0.45}, bands=None)) is None


def test_oscillating_generator_loss_is_only_supporting() -> None:
    oscillating = {**HEALTHY_LOSSES, "loss/g_std": 2.0}
    assert detect_mode_collapse(history(oscillating, oscillating)) is None
    low_div = {**oscillating, "metric/diversity": 0.2}
    with_support = detect_mode_collapse(history(low_div, low_div))
    without = detect_mode_collapse(history(*[{"metric/diversity": 0.2}] * 2))
    assert with_support is not None and without is not None
    assert with_support.confidence > without.confidence
    assert "g_oscillation" in with_support.tags


def test_healthy_is_dated_from_when_the_metrics_became_good_not_the_losses() -> None:
    """Settled losses hold through a collapse too; the recovery starts at the good metrics."""
    epochs = [{**TWO_CLASSES, **HEALTHY_LOSSES}] * 3 + [{**REAL, **HEALTHY_LOSSES}] * 3
    found = detect_healthy(history(*epochs))
    assert found is not None
    assert found.since_index == 3
