"""Hysteresis: the reported verdict changes only when the detectors agree N times in a row."""

from __future__ import annotations

import pytest

from ganwatch.catalog.verdicts import PENDING_PREFIX
from ganwatch.diagnose import (
    DEFAULT,
    Evidence,
    Thresholds,
    Verdict,
    found_kinds,
    reported_kind,
    reported_kinds,
    steady_verdict,
)
from ganwatch.diagnose.confidence import HELD, TRACK_RECORD_METRIC, calibrate, shipped_track_record
from ganwatch.diagnose.steady import streak

MC, CF, OK, WU, DIV = "mode_collapse", "convergence_failure", "healthy", "warming_up", "divergence"


def raw(
    kind: str, epoch: int, since: int | None = None, note: str = "", firm: bool = False
) -> Verdict:
    """A per-evaluation verdict as `diagnose` gives it, 100 steps an epoch (a divergence is
    firm whatever `firm` says: `Verdict` makes it so)."""
    evidence = [Evidence(f"metric/{kind}", float(epoch), 0.0, ">", note or kind, epoch)]
    since_step = None if kind == WU else (since if since is not None else 100 * epoch)
    return Verdict(kind, epoch, 100 * epoch, since_step, 0.8, evidence, firm=firm)


def replay(kinds: list[str], thresholds: Thresholds = DEFAULT) -> list[Verdict]:
    """Feed per-evaluation verdicts through `steady_verdict` as the Monitor does."""
    out: list[Verdict] = []
    for i, kind in enumerate(kinds):
        out.append(steady_verdict(raw(kind, i + 1), out[-1] if out else None, kinds[: i + 1]))
    return out


def test_the_default_hold_is_two_evaluations() -> None:
    assert DEFAULT.verdict_hold == 2


def test_a_flapping_sequence_gives_one_steady_verdict() -> None:
    # The latent-1 quick run's epochs 4-7, and on: collapse and convergence failure in turn.
    # The convergence failure outranks the collapse, so it replaces it at once, then holds.
    flapping = [WU, MC, CF, MC, CF, MC, CF, MC]
    assert reported_kinds(flapping) == [WU, MC] + [CF] * 6
    verdicts = replay(flapping)
    assert [v.kind for v in verdicts] == [WU, MC] + [CF] * 6
    assert [v.found_kind for v in verdicts] == flapping  # nothing hidden
    assert {v.since_step for v in verdicts[2:]} == {300}  # since the failure was reported
    # A convergence failure and a collapse in the other order keep the failure reported first;
    # healthy and a collapse in turn are each reported (healthy is neither held nor held off).
    assert reported_kinds([WU, CF, MC, CF, MC, CF]) == [WU] + [CF] * 5
    assert reported_kinds([WU, OK, MC, OK, MC, OK]) == [WU, OK, MC, OK, MC, OK]


def test_a_real_change_is_reported_after_n_evaluations() -> None:
    kinds = [WU, CF, CF, MC, MC, MC]
    assert reported_kinds(kinds) == [WU, CF, CF, CF, MC, MC]
    assert reported_kinds(kinds, hold=3) == [WU, CF, CF, CF, CF, MC]
    assert reported_kinds(kinds, hold=1) == kinds  # hold 1: no hysteresis
    verdicts = replay(kinds)
    # Confirmed at epoch 5; since_step is the new kind's onset as the detectors saw it.
    assert (verdicts[4].kind, verdicts[4].epoch, verdicts[4].since_step) == (MC, 5, 500)
    assert verdicts[4].raw_kind is None


def test_a_convergence_failure_replaces_a_collapse_at_once() -> None:
    """It outranks a collapse in diagnose's priority (samples far from the data, or D wins),
    so waiting would only report the collapse's remedies one evaluation longer."""
    kinds = [WU, MC, MC, CF]
    assert reported_kinds(kinds) == kinds
    assert reported_kinds(kinds, hold=3) == kinds
    assert reported_kinds(kinds, open_kinds=(WU,)) == [WU, MC, MC, MC]  # the rule before it
    last = replay(kinds)[-1]
    assert (last.kind, last.raw_kind, last.since_step) == (CF, None, 400)


def test_a_convergence_failure_gives_way_to_healthy_at_once_and_waits_otherwise() -> None:
    """Held over a healthy finding it is a failure verdict on an evaluation where every
    check passed (the held-out seeds' one false alarm); over warming_up it still waits for
    the second finding in a row."""
    assert reported_kinds([WU, CF, OK, CF, OK, OK]) == [WU, CF, OK, CF, OK, OK]
    assert reported_kinds([WU, CF, WU, CF, WU, WU]) == [WU, CF, CF, CF, CF, WU]
    before = reported_kinds([WU, CF, OK, CF, OK, OK], clearing_kinds=())  # held, as before
    assert before == [WU, CF, CF, CF, CF, OK]
    verdicts = replay([WU, CF, CF, OK])
    assert (verdicts[-1].kind, verdicts[-1].raw_kind) == (OK, None)


def test_a_collapse_the_detectors_no_longer_find_is_not_held() -> None:
    """Holding it would be a failure verdict on samples whose balance came back (the corpus's
    two false alarms)."""
    assert reported_kinds([WU, MC, OK, MC, OK, OK]) == [WU, MC, OK, MC, OK, OK]
    assert reported_kinds([WU, MC, MC, WU, OK]) == [WU, MC, MC, WU, OK]
    before = reported_kinds([WU, MC, WU, OK], open_kinds=(WU,), clearing_kinds=())
    assert before == [WU, MC, MC, MC]
    verdicts = replay([WU, MC, MC, WU])
    assert (verdicts[-1].kind, verdicts[-1].raw_kind) == (WU, None)


def test_a_firm_finding_is_reported_at_once() -> None:
    # Divergence is always firm (the Verdict makes it so; plain kinds need the flag).
    assert reported_kinds([WU, MC, MC, DIV], firm=[0, 0, 0, 1]) == [WU, MC, MC, DIV]
    assert reported_kinds([OK, OK, DIV], firm=[0, 0, 1]) == [OK, OK, DIV]
    assert reported_kinds([CF, CF, DIV], firm=[0, 0, 1]) == [CF, CF, DIV]
    assert reported_kinds([CF, CF, DIV]) == [CF, CF, CF]  # not firm: it would wait
    assert replay([CF, CF, DIV])[-1].kind == DIV
    # A collapse on the modes replaces a held convergence failure at once; one that is not
    # firm waits for the second evaluation in a row.
    assert reported_kinds([WU, CF, CF, MC, MC], firm=[0, 0, 0, 1, 1]) == [WU, CF, CF, MC, MC]
    assert reported_kinds([WU, CF, CF, MC, MC]) == [WU, CF, CF, CF, MC]
    first = steady_verdict(raw(CF, 2), None, [CF])
    firm = steady_verdict(raw(MC, 3, note="few modes", firm=True), first, [CF, MC])
    assert (firm.kind, firm.raw_kind, firm.firm) == (MC, None, True)
    assert Verdict.from_dict(firm.to_dict()) == firm
    assert steady_verdict(raw(MC, 3), first, [CF, MC]).kind == CF
    with pytest.raises(ValueError, match="firm has 1 flags for 2 findings"):
        reported_kinds([WU, MC], firm=[True])


def test_the_first_verdict_after_warming_up_is_reported_at_once() -> None:
    assert reported_kinds([WU, WU, MC]) == [WU, WU, MC]
    assert reported_kinds([CF]) == [CF]  # and the very first verdict
    assert reported_kind(WU, [WU, OK], hold=5) == OK


def test_warming_up_after_a_verdict_needs_n_evaluations_too() -> None:
    assert reported_kinds([WU, CF, WU, CF, WU, WU]) == [WU, CF, CF, CF, CF, WU]


def test_numbers_measured_before_the_verdicts_epoch_say_when() -> None:
    """NDB is measured every few evaluations, so a verdict can rest on an older number: it is
    dated, this epoch's are not, and a track record (no epoch: not a measurement) is not."""
    verdict = raw(MC, 19, note="two classes")
    ndb = Evidence("metric/ndb_k", 0.74, 0.26, ">", "bins differ", epoch=16)
    record = Evidence("confidence/track_record", 0.38, 0.9, "<", "right 10 times in 27")
    verdict.evidence += [ndb, record]
    shown = steady_verdict(verdict, None, [MC])
    assert [e.note for e in shown.evidence] == [
        "two classes",
        "bins differ (measured at epoch 16)",
        "right 10 times in 27",
    ]
    assert shown.to_dict()["evidence"][1]["epoch"] == 16  # stored beside the note


def test_a_held_verdict_keeps_its_own_and_marks_the_unconfirmed_evidence() -> None:
    found = raw(CF, 2, since=100, note="far from the data")
    found.confidence = 0.95  # above the held convergence failures' record
    first = steady_verdict(found, None, [CF])
    held = steady_verdict(raw(WU, 3, note="early"), first, [CF, WU])
    assert (held.kind, held.raw_kind, held.found_kind) == (CF, WU, WU)
    assert (held.epoch, held.step, held.since_step) == (3, 300, 100)
    # capped by the held verdicts' record (the shipped one: below this raw 0.95), which says so
    cap, note = calibrate(first.confidence, CF, HELD)
    assert note is not None and cap < first.confidence
    assert held.confidence == cap and held.remedies == first.remedies
    notes = [e.note for e in held.evidence]
    assert notes[0] == "far from the data (measured at epoch 2)"  # not this epoch's numbers
    assert notes[1] == note.note
    assert notes[2] == f"{PENDING_PREFIX}warming up, 1 of 2 evaluations) early"
    # Held again by another kind: the older unconfirmed evidence does not pile up, nor the cap.
    again = steady_verdict(raw(MC, 4, note="few modes"), held, [CF, WU, MC])
    assert again.confidence == cap
    assert [e.note for e in again.evidence] == [
        "far from the data (measured at epoch 2)",  # dated once, by the evaluation that measured it
        note.note,
        f"{PENDING_PREFIX}mode collapse, 1 of 2 evaluations) few modes",
    ]
    d = again.to_dict()
    assert (d["kind"], d["raw_kind"]) == (CF, MC)
    assert Verdict.from_dict(d) == again


def test_a_healthy_verdict_is_never_held_nor_held_off() -> None:
    """Held over a failure the detectors found, a healthy verdict was right 0 of 47 times on
    the calibration half; a failure held over a healthy finding is a false alarm. So either
    change is reported at once, and the rule before held both for a second evaluation."""
    assert reported_kinds([WU, OK, MC, CF, OK]) == [WU, OK, MC, CF, OK]
    assert (
        reported_kinds([WU, OK, CF, OK], open_kinds=(WU, MC), clearing_kinds=()) == [WU] + [OK] * 3
    )
    healthy = steady_verdict(raw(OK, 5, note="fine"), None, [OK])
    failed = steady_verdict(raw(CF, 6, note="far"), healthy, [OK, CF])
    assert (failed.kind, failed.raw_kind, failed.confidence) == (CF, None, 0.8)
    back = steady_verdict(raw(OK, 7), failed, [OK, CF, OK])
    assert (back.kind, back.raw_kind, back.confidence) == (OK, None, 0.8)


def test_a_held_verdict_whose_record_is_higher_keeps_its_confidence_and_note() -> None:
    first = raw(CF, 2, note="far from the data")
    first.confidence = 0.5
    first.evidence.append(Evidence(TRACK_RECORD_METRIC, 0.5, 0.9, "<", "family cap"))
    assert shipped_track_record()[(HELD, CF)].share > 0.5  # so the held record does not lower it
    held = steady_verdict(raw(MC, 3), steady_verdict(first, None, [CF]), [CF, MC])
    assert held.confidence == 0.5
    assert [e.note for e in held.evidence if e.metric == TRACK_RECORD_METRIC] == ["family cap"]


def test_a_continuing_verdict_keeps_its_earliest_since_step() -> None:
    first = steady_verdict(raw(MC, 2, since=100), None, [MC])
    later = steady_verdict(raw(MC, 3, since=300), first, [MC, MC])
    assert later.since_step == 100
    assert later.to_dict()["raw_kind"] == MC


def test_streak_and_empty_input() -> None:
    assert streak([MC, CF, CF]) == 2
    with pytest.raises(ValueError):
        reported_kind(None, [], 2)


def test_found_kinds_rebuilds_each_epoch_from_stored_events() -> None:
    stored = [raw(WU, 1), raw(MC, 2), Verdict(MC, 4, 400, 200, 0.8, raw_kind=CF)]
    assert found_kinds(stored, [1, 2, 3, 4, 5]) == [WU, MC, MC, CF, CF]
    assert found_kinds(stored[1:], [1, 2, 3]) == [MC, MC]  # before the first event: unknown
