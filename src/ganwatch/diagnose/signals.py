"""The language the detectors are written in: tri-state per-epoch conditions and signals.

Metrics run on a schedule, so a condition on a series is tri-state per epoch: 1 holds, 0 does
not, NaN not measured that epoch (a missing measurement is neither evidence for nor against).
A *signal* holds when its condition held at the latest epoch it could be judged; its onset is
the first epoch of that unbroken run, which is what ``Verdict.since_step`` reports. A
finding's confidence combines its signals' weights as 1 - prod(1 - weight), so independent
signs add up without exceeding 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ganwatch.diagnose.verdict import Evidence, History


@dataclass(frozen=True)
class Finding:
    """What one detector concluded: a verdict kind, its onset (epoch index) and support."""

    kind: str
    since_index: int
    confidence: float
    evidence: list[Evidence]
    tags: frozenset[str] = field(default_factory=frozenset)  # which signals held (for remedies)
    strongest: float = 1.0  # the weight of its strongest signal (is one of them decisive?)


@dataclass(frozen=True)
class Hit:
    """One signal that holds now: since which epoch index, how strongly, and why."""

    tag: str
    weight: float
    since: int
    evidence: tuple[Evidence, ...]
    supporting: bool = False


def compare(values: np.ndarray, op: str, threshold: float | np.ndarray) -> np.ndarray:
    """1 where `values op threshold`, 0 where not, NaN where either side is unknown."""
    values = np.asarray(values, dtype=float)
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), values.shape)
    known = np.isfinite(values) & np.isfinite(thr)
    with np.errstate(invalid="ignore"):
        held = values < thr if op == "<" else values > thr
    return np.where(known, held.astype(float), np.nan)


def all_of(*conds: np.ndarray) -> np.ndarray:
    """Tri-state AND: 0 if any is 0, else NaN if any is unknown, else 1."""
    stack = np.vstack(conds)
    unknown = np.where(np.isnan(stack).any(axis=0), np.nan, 1.0)
    return np.where((stack == 0).any(axis=0), 0.0, unknown)


def any_of(*conds: np.ndarray) -> np.ndarray:
    """Tri-state OR: 1 if any is 1, else NaN if any is unknown, else 0."""
    stack = np.vstack(conds)
    unknown = np.where(np.isnan(stack).any(axis=0), np.nan, 0.0)
    return np.where((stack == 1).any(axis=0), 1.0, unknown)


def unless(cond: np.ndarray) -> np.ndarray:
    """A gate: passes (1) unless `cond` is known to hold, so a missing metric never blocks."""
    return np.where(cond == 1, 0.0, 1.0)


def at_least(values: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    """1 where values >= threshold, keeping NaN where unknown."""
    below = compare(values, "<", threshold)
    return np.where(np.isnan(below), np.nan, 1.0 - below)


def current_run(cond: np.ndarray) -> tuple[int, int, int] | None:
    """(first index, last index, epochs held) of the run reaching the latest judged epoch.

    Unknown epochs inside the run neither break it nor count towards it. None when the
    condition did not hold at the latest epoch it could be judged.
    """
    start = end = None
    count = 0
    for i in range(len(cond) - 1, -1, -1):
        if np.isnan(cond[i]):
            continue
        if cond[i] == 0:
            break
        end = i if end is None else end
        start = i
        count += 1
    return None if start is None or end is None else (start, end, count)


def signal(
    cond: np.ndarray,
    tag: str,
    weight: float,
    evidence: Callable[[int], list[Evidence]],
    min_count: int = 1,
    supporting: bool = False,
) -> Hit | None:
    """A hit when `cond` holds now for at least `min_count` judged epochs."""
    run = current_run(cond)
    if run is None or run[2] < min_count:
        return None
    start, end, _ = run
    return Hit(tag, weight, start, tuple(evidence(end)), supporting)


def evidence_at(h: History, key: str, i: int, threshold: float, op: str, note: str) -> Evidence:
    """``key``'s value at epoch index ``i`` as evidence, dated to that epoch."""
    return Evidence(key, float(h.get(key)[i]), float(threshold), op, note, int(h.epochs[i]))


def crossing(
    h: History,
    key: str,
    op: str,
    threshold: float | np.ndarray,
    tag: str,
    weight: float,
    note: str,
    gate: np.ndarray | None = None,
    supporting: bool = False,
) -> Hit | None:
    """The common signal: one series crossing a threshold (optionally gated); `note` may use
    {value} and {threshold}."""
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), (len(h),))
    cond = compare(h.get(key), op, thr)
    if gate is not None:
        cond = all_of(cond, gate)

    def evidence(i: int) -> list[Evidence]:
        value = float(h.get(key)[i])
        text = note.format(value=value, threshold=float(thr[i]))
        return [Evidence(key, value, float(thr[i]), op, text, int(h.epochs[i]))]

    return signal(cond, tag, weight, evidence, supporting=supporting)


def combine(kind: str, hits: list[Hit | None]) -> Finding | None:
    """A finding from the hits that hold, or None if none of them is more than supporting."""
    held = [x for x in hits if x is not None]
    primary = [x for x in held if not x.supporting]
    if not primary:
        return None
    confidence = 1.0 - float(np.prod([1.0 - x.weight for x in held]))
    evidence = [e for x in primary + [x for x in held if x.supporting] for e in x.evidence]
    since = min(x.since for x in primary)
    strongest = max(x.weight for x in primary)
    return Finding(kind, since, confidence, evidence, frozenset(x.tag for x in held), strongest)
