"""Hysteresis: the one rule for when the *reported* verdict may change.

`diagnose` judges each evaluation on its own, so a run near a boundary can flip between two
kinds from one evaluation to the next (a latent-1 run read mode_collapse, then
convergence_failure, then mode_collapse again over epochs 4-7). A verdict that flaps tells a
person nothing and would trip `--stop-on` on noise. So the reported kind changes only when the
detectors have found the new kind at `Thresholds.verdict_hold` evaluations in a row, with these
exceptions where waiting costs more than it saves:

- a *firm* finding (``Verdict.firm``) is reported at once: a `divergence`, always (NaN
  does not get better, and training must stop), and a collapse on 2-D data whose samples
  sit on the modes as a healthy run's do (``detectors.on_modes``): the share of samples on a
  mode is measured directly, so a collapse found with it high is not a noisy reading of a
  convergence failure. Measured on the verdict corpus's calibration seeds of the time (0-5,
  8, 9: 152 runs; ``scripts/hold_rules.py``): see docs/diagnosis.md, "Taken: a collapse on the modes
  is firm". On images realism is a classifier's proxy for what the judge measures, and a
  collapse found there still waits;
- the first verdict after `warming_up` (or after none) is reported at once, because the
  delay in detecting a failure is what the monitor exists to keep short;
- a reported `mode_collapse` gives way at once (``OPEN_KINDS``) to a `convergence_failure`,
  which outranks it in `diagnose`'s priority (the samples are far from the data or D wins
  outright, so the class and mode counts behind the collapse no longer describe data-like
  samples), and to `warming_up` or `healthy`: a collapse the detectors no longer find is
  not held, because holding it is a failure verdict on samples whose class and mode
  balance has come back, the false alarm ganwatch must not raise. Measured on seeds 0-3
  (76 runs): against waiting for every change, 13 more of 1,184 evaluations and one more
  run end right, no false alarm instead of 2 (both a collapse held over an MNIST MLP run
  whose digits had become varied), at the cost of 17 more flaps;
- `healthy` is neither held nor held off: a reported healthy verdict gives way at once
  (``OPEN_KINDS``), and a healthy finding is reported at once (``CLEARING_KINDS``). A
  healthy verdict held over a failure the detectors found was right 0 of 47 times on seeds
  0-5, 8 and 9; a failure held over an evaluation where every check passed is the false
  alarm again (the one false alarm of the held-out seeds 10-13: a convergence failure held
  over an MNIST epoch whose digits the judge found just recognisable enough). Measured on
  seeds 0-5 and 8-13 (228 runs; docs/diagnosis.md, "Taken: healthy is neither held nor held
  off"): no false alarm instead of 1, 3,359 of 3,569 evaluations right instead of 3,343,
  run ends unchanged, at the cost of 64 more flaps.

So only a reported convergence failure (or divergence) ever waits: it gives way to a
`warming_up` or to a collapse that is not firm only when found twice in a row. A held
convergence failure was right 211 of 225 times on seeds 0-5 and 8-13.

Nothing is hidden: a held verdict carries the detectors' own kind as `raw_kind`, and its
evidence lists what they found, marked as not yet confirmed, beside the held kind's own
evidence, dated to the evaluation that measured it (`dated`). Its confidence is capped by
the track record of held verdicts (``confidence.HELD``): a verdict the detectors no longer
find has been right less often than one they still find, so
it must not keep the confidence it had when found. Everything here is a pure function of
kinds, Verdicts and the shipped track record, so the Monitor, a replay of a stored run and
the tests all apply the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ganwatch.catalog.verdicts import PENDING_PREFIX, measured_note, pending_note
from ganwatch.diagnose.confidence import HELD, TRACK_RECORD_METRIC, calibrate
from ganwatch.diagnose.thresholds import DEFAULT, Thresholds
from ganwatch.diagnose.verdict import Verdict

#: Kinds never held: after these (or no verdict yet) the next kind found is reported at
#: once. A collapse gives way to a finding that outranks it in ``diagnose``'s priority, or
#: to one that says it is no longer found; a healthy verdict held over a failure was
#: almost never right.
OPEN_KINDS: tuple[str, ...] = ("warming_up", "mode_collapse", "healthy")
#: Findings reported at once whatever was reported before: no failure is held over an
#: evaluation at which every check passed.
CLEARING_KINDS: tuple[str, ...] = ("healthy",)


def streak(found: Sequence[str]) -> int:
    """How many evaluations in a row, up to the latest, found the latest kind."""
    count = 0
    for kind in reversed(found):
        if kind != found[-1]:
            break
        count += 1
    return count


def reported_kind(
    previous: str | None,
    found: Sequence[str],
    hold: int,
    open_kinds: Sequence[str] = OPEN_KINDS,
    firm: bool = False,
    clearing_kinds: Sequence[str] = CLEARING_KINDS,
) -> str:
    """The kind to report after the latest evaluation.

    `previous` is what was reported after the evaluation before (None: nothing yet); `found`
    is what the detectors found at every evaluation so far, oldest first; `firm` whether the
    latest finding needs no confirmation (``Verdict.firm``); `open_kinds` the reported kinds
    never held and `clearing_kinds` the findings never held off (``scripts/hold_rules.py``
    passes others to compare rules).
    """
    if not found:
        raise ValueError("reported_kind needs at least the latest evaluation's kind")
    new = found[-1]
    if previous is None or new == previous or firm:
        return new
    if previous in open_kinds or new in clearing_kinds:
        return new
    return new if streak(found) >= hold else previous


def reported_kinds(
    found: Sequence[str],
    hold: int = DEFAULT.verdict_hold,
    open_kinds: Sequence[str] = OPEN_KINDS,
    firm: Sequence[bool] = (),
    clearing_kinds: Sequence[str] = CLEARING_KINDS,
) -> list[str]:
    """The reported kind after each evaluation of a whole run (replays, validation, tests);
    `firm` says which findings need no confirmation (none when left empty)."""
    flags = list(firm) or [False] * len(found)
    if len(flags) != len(found):
        raise ValueError(f"firm has {len(flags)} flags for {len(found)} findings")
    out: list[str] = []
    for i in range(len(found)):
        previous = out[-1] if out else None
        out.append(
            reported_kind(previous, found[: i + 1], hold, open_kinds, flags[i], clearing_kinds)
        )
    return out


def steady_verdict(
    raw: Verdict,
    previous: Verdict | None,
    found: Sequence[str],
    thresholds: Thresholds = DEFAULT,
) -> Verdict:
    """The verdict to report, given this evaluation's `raw` one from `diagnose`.

    `found` ends with `raw.kind`. When the reported kind is `raw`'s, `raw` is reported, its
    `since_step` kept at the earlier of its own and the previous report's when the kind
    continues (since_step says since when the reported kind holds). Otherwise the previous
    verdict is held: moved to this epoch and step, with `raw_kind` set, its confidence capped
    by the held verdicts' track record, and `raw`'s evidence appended, each note prefixed
    "(not yet confirmed: KIND, i of N evaluations)". Either way
    a number measured before this epoch ends "(measured at epoch N)" (`dated`).
    """
    hold = thresholds.verdict_hold
    kind = reported_kind(previous.kind if previous else None, found, hold, firm=raw.firm)
    if kind == raw.kind or previous is None:
        since = raw.since_step
        if previous is not None and previous.kind == kind and previous.since_step is not None:
            since = previous.since_step if since is None else min(since, previous.since_step)
        return dated(replace(raw, since_step=since, raw_kind=None))
    seen = streak(found)
    kept = [e for e in previous.evidence if not e.note.startswith(PENDING_PREFIX)]
    confidence, held_note = calibrate(previous.confidence, previous.kind, HELD)
    if held_note is not None:  # the held record explains the confidence now, not the family's
        kept = [e for e in kept if e.metric != TRACK_RECORD_METRIC] + [held_note]
    pending = [replace(e, note=pending_note(raw.kind, seen, hold, e.note)) for e in raw.evidence]
    return dated(
        replace(
            previous,
            epoch=raw.epoch,
            step=raw.step,
            confidence=confidence,
            evidence=kept + pending,
            raw_kind=raw.kind,
            firm=False,  # held: no finding of its kind at this evaluation
        )
    )


def dated(verdict: Verdict) -> Verdict:
    """``verdict`` with each number measured before its epoch saying when: a held verdict's
    own evidence, and metrics measured on a schedule (NDB every few evaluations, the epochs
    between two of ``--eval-every``) are older than the epoch the verdict is shown at."""
    evidence = [
        replace(e, note=measured_note(e.note, e.epoch))
        if e.epoch is not None and e.epoch < verdict.epoch
        else e
        for e in verdict.evidence
    ]
    return replace(verdict, evidence=evidence)


def found_kinds(verdicts: Sequence[Verdict], epochs: Sequence[int]) -> list[str]:
    """What the detectors found at each of `epochs`, rebuilt from stored verdict events.

    Events are stored whenever the reported or the found kind changes, so the found kind at
    an epoch is that of the latest event at or before it; epochs before the first event are
    left out. A resumed Monitor uses this to carry on counting an unconfirmed kind.
    """
    ordered = sorted(verdicts, key=lambda v: v.epoch)
    out: list[str] = []
    current: str | None = None
    i = 0
    for epoch in epochs:
        while i < len(ordered) and ordered[i].epoch <= epoch:
            current = ordered[i].found_kind
            i += 1
        if current is not None:
            out.append(current)
    return out
