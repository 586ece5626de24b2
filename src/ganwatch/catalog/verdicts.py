"""The verdicts the diagnosis gives, with what each means and how the dashboard shows it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ganwatch.catalog._table import by_name


@dataclass(frozen=True)
class VerdictSpec:
    """One verdict kind. ``failure``: a kind ``--stop-on`` may stop on."""

    name: str
    label: str
    note: str
    color: str
    failure: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


VERDICTS: dict[str, VerdictSpec] = by_name(
    (
        VerdictSpec("healthy", "Healthy", "training as it should", "#2b8a3e"),
        VerdictSpec(
            "mode_collapse", "Mode collapse", "the generator covers few modes", "#c2255c", True
        ),
        VerdictSpec(
            "convergence_failure",
            "Convergence failure",
            "training is not reaching the data",
            "#e8590c",
            True,
        ),
        VerdictSpec("divergence", "Divergence", "losses or gradients blow up", "#c92a2a", True),
        VerdictSpec("warming_up", "Warming up", "too early to judge", "#868e96"),
    )
)

VERDICT_KINDS: tuple[str, ...] = tuple(VERDICTS)
#: The kinds that mean training has gone wrong (what ``--stop-on`` accepts).
FAILURE_KINDS: tuple[str, ...] = tuple(name for name, v in VERDICTS.items() if v.failure)

#: How a verdict marks evidence that is not its own, in the first words of its note: the
#: weaker finding's (both problems are shown) and the kind found but not yet confirmed (the
#: hysteresis of ``diagnose.steady``). The dashboard and reports tell them apart by these.
ALSO_PREFIX = "(also a sign of "
PENDING_PREFIX = "(not yet confirmed: "


def also_note(kind: str, note: str) -> str:
    """``note`` marked as evidence of ``kind``, kept beside a verdict of another kind."""
    return f"{ALSO_PREFIX}{kind.replace('_', ' ')}) {note}"


def pending_note(kind: str, seen: int, hold: int, note: str) -> str:
    """``note`` marked as evidence of ``kind``, found ``seen`` of the ``hold`` evaluations in a
    row it needs before it replaces the reported verdict."""
    return f"{PENDING_PREFIX}{kind.replace('_', ' ')}, {seen} of {hold} evaluations) {note}"


def held_kind(verdict: Mapping[str, Any]) -> str | None:
    """What the detectors found when a stored verdict was held against it (``raw_kind``
    differs from its kind, ``Verdict.held``); None when they found the verdict's own kind."""
    found = verdict.get("raw_kind")
    return str(found) if found and found != verdict.get("kind") else None


def held_note(verdict: Mapping[str, Any]) -> str:
    """For a stored verdict held against a newer finding, the words that say so; ""
    otherwise. Without them a held verdict reads as settled when the latest evaluation found
    something else (nothing at all when that is ``warming_up``, which has no evidence of its
    own to show)."""
    found = held_kind(verdict)
    return "" if found is None else f"held: the latest evaluation found {found}, not yet confirmed"


#: How a verdict dates a number measured before its own epoch (a held verdict's evidence, NDB
#: measured every few evaluations): that epoch's numbers may no longer cross the thresholds.
MEASURED_AT = " (measured at epoch "


def measured_note(note: str, epoch: int) -> str:
    """``note`` dated to the epoch its number was measured at (once: a note a verdict held
    over several evaluations carries is already dated)."""
    return note if MEASURED_AT in note else f"{note}{MEASURED_AT}{epoch})"


def also_found(evidence: Iterable[Mapping[str, Any]] | None) -> set[str]:
    """The kinds whose evidence a verdict keeps beside its own (stored evidence dicts)."""
    kinds = set()
    for e in evidence or []:
        note = str(e.get("note") or "")
        if note.startswith(ALSO_PREFIX):
            kind, closed, _ = note[len(ALSO_PREFIX) :].partition(")")
            if closed:
                kinds.add(kind.replace(" ", "_"))
    return kinds
