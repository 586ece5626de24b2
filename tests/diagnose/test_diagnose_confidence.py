"""Calibrated confidence: a verdict is capped by its kind's track record on its family of data."""

from __future__ import annotations

import json

import numpy as np

from ganwatch.diagnose import History, diagnose
from ganwatch.diagnose.confidence import (
    CALIBRATED_KINDS,
    FAMILIES,
    HELD,
    TRACK_RECORD,
    TRACK_RECORD_METRIC,
    Record,
    calibrate,
    calibrated,
    family_of,
    parse_track_record,
    shipped_track_record,
)
from ganwatch.diagnose.detectors import detect_mode_collapse

RECORD = {("images", "mode_collapse"): Record(3, 8), ("images", "healthy"): Record(0, 0)}


def history(*epochs: dict) -> History:
    records = [{"epoch": i + 1, "step": 100 * (i + 1), **e} for i, e in enumerate(epochs)]
    return History.from_records(records)


def test_the_family_is_read_from_what_was_recorded() -> None:
    losses = {"loss/g": 1.0, "loss/d_real": 0.5, "loss/d_fake": 0.5}
    assert family_of(history(losses, losses)) == "losses"
    assert family_of(history(losses, {**losses, "metric/fid": 30.0})) == "images"
    # the toy metrics make points, whatever else was measured
    points = {**losses, "metric/modes": 8.0, "metric/precision": 0.9}
    assert family_of(history(points)) == "points"
    assert family_of(history({**losses, "metric/fid": float("nan")})) == "losses"


def test_the_cap_is_the_share_right_with_one_right_and_one_wrong_added() -> None:
    assert Record(3, 8).share == 0.4  # (3 + 1) / (8 + 2)
    assert Record(50, 50).share < 1.0 and Record(0, 50).share > 0.0
    assert calibrated(0.97, "mode_collapse", "images", RECORD) == 0.4
    # never raised above what the detectors found
    assert calibrated(0.3, "mode_collapse", "images", RECORD) == 0.3


def test_what_has_no_record_keeps_the_detectors_number() -> None:
    assert calibrated(0.97, "mode_collapse", "points", RECORD) == 0.97  # no entry
    assert calibrated(0.8, "healthy", "images", RECORD) == 0.8  # an entry with no verdicts
    assert calibrated(1.0, "divergence", "images", {("images", "divergence"): Record(0, 9)}) == 1.0
    assert calibrated(0.0, "warming_up", "images", RECORD) == 0.0


def test_the_shipped_track_record_is_read_and_covers_the_image_and_point_verdicts() -> None:
    document = json.loads(TRACK_RECORD.read_text())
    assert "ganwatch validate calibrate" in document["made_by"]
    records = shipped_track_record()
    assert records == parse_track_record(document)
    assert {family for family, _ in records} <= {*FAMILIES, HELD}
    assert {kind for _, kind in records} <= set(CALIBRATED_KINDS)
    for family in ("images", "points"):
        for kind in CALIBRATED_KINDS:
            assert records[(family, kind)].total > 0, (family, kind)
    # Only a convergence failure is ever held (diagnose.steady): a healthy verdict or a
    # collapse never is, so the calibration half has no held record of them; a held
    # convergence failure is right less often than one the detectors still find, on images.
    assert {kind for family, kind in records if family == HELD} == {"convergence_failure"}
    held = records[(HELD, "convergence_failure")]
    assert held.total > 0 and held.share < records[("images", "convergence_failure")].share


def test_a_collapse_reports_its_capped_confidence_and_keeps_its_kind() -> None:
    two_classes = {
        "metric/classes_covered": 2.0,
        "metric/classes": 10.0,
        "metric/class_kl": 1.5,
        "metric/coverage": 0.001,
        "metric/ndb_k": 0.8,
        "metric/realism": 0.98,
    }
    h = history(two_classes, two_classes, two_classes)
    strength = detect_mode_collapse(h).confidence
    verdict = diagnose(h)
    assert verdict.kind == "mode_collapse"
    share = shipped_track_record()[("images", "mode_collapse")].share
    assert verdict.confidence == min(round(strength, 4), round(share, 4))
    assert np.isclose(verdict.confidence, share, atol=1e-4)  # the record is below 0.97
    # the last evidence says why, with both numbers
    note = verdict.evidence[-1]
    assert note.metric == "confidence/track_record"
    assert (note.value, note.threshold, note.op) == (verdict.confidence, round(strength, 4), "<")
    record = shipped_track_record()[("images", "mode_collapse")]
    assert f"right {record.right} times in {record.total}" in note.note


def test_no_note_when_the_record_does_not_lower_the_confidence() -> None:
    assert calibrate(0.3, "mode_collapse", "images", RECORD)[1] is None
    assert calibrate(0.97, "mode_collapse", "points", RECORD)[1] is None
    assert calibrate(0.97, "mode_collapse", "images", RECORD)[1].value == 0.4


def test_a_held_verdict_has_a_record_of_its_own_and_says_so() -> None:
    record = {(HELD, "healthy"): Record(0, 11), ("points", "healthy"): Record(17, 17)}
    confidence, note = calibrate(0.67, "healthy", HELD, record)
    assert confidence == round(1 / 13, 4)
    assert (note.metric, note.value, note.threshold, note.op) == (
        TRACK_RECORD_METRIC,
        confidence,
        0.67,
        "<",
    )
    assert "held while a newer evaluation found another kind" in note.note
    assert "right 0 times in 11" in note.note and "0.67 it had when found" in note.note
    assert note.epoch is None  # a record, not a measurement: never dated
    # the family's own record is another matter
    assert calibrated(0.67, "healthy", "points", record) == 0.67


def test_a_held_kind_with_no_record_is_said_with_an_even_chance_at_most() -> None:
    """The calibration half may never hold a kind (a collapse is no longer held against a
    convergence failure, which replaces it at once): such a held verdict is capped at 0.5,
    and says why, rather than keeping the confidence it had when found."""
    empty: dict = {}
    cap, note = calibrate(0.98, "mode_collapse", HELD, empty)
    assert cap == 0.5
    assert note is not None and "never seen (an even chance)" in note.note and "0.98" in note.note
    assert calibrate(0.3, "mode_collapse", HELD, empty) == (0.3, None)
    assert calibrate(0.98, "mode_collapse", "points", empty) == (0.98, None)  # families: no cap
