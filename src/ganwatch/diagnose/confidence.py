"""Calibrated confidence: a verdict is never more sure than verdicts like it have been right.

The detectors' own number (`Finding.confidence`, 1 - prod(1 - weight) over the signals that
hold) ranks findings and decides when an early failure is decisive, but it is not a
probability: its signals are not independent. Few classes, a skewed class histogram, low
coverage and a high NDB/K are four views of one observation, so they added up to 0.95-0.98
on MNIST collapse verdicts that the verdict corpus's judge agreed with only 32 times in 75
on its calibration half (most of the others were noisy early epochs it called a convergence
failure; pixel realism now calls most of those one too, and about a third of the collapse
verdicts left are right: ``track_record.json`` has the current counts). A wrong verdict said
with high confidence sends people to the wrong fix, so the reported confidence is capped by
the verdict's *track record*: the share of verdicts of its kind, on data of its family, that
the judge agreed with on the calibration half of the corpus. ``ganwatch validate calibrate``
measures it and writes ``track_record.json`` beside this module; docs/diagnosis.md shows how
the same shares hold on the held-out half.

Families: ``points`` (2-D mixtures: mode counts are recorded), ``images`` (any image metric
is recorded; measured on MNIST, the best estimate there is for other pictures) and
``losses`` (a loop that records losses only; measured by replaying the corpus's runs with
their metrics removed). A divergence is a fact, a NaN or inf that happened, and keeps
confidence 1; a kind with no record keeps the detectors' number.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganwatch.diagnose.verdict import Evidence, History

TRACK_RECORD = Path(__file__).with_name("track_record.json")
FAMILIES = ("images", "points", "losses")
#: The record of verdicts held against a newer finding, whatever the family.
HELD = "held"
#: Recorded only for 2-D mixtures.
POINT_KEYS = ("metric/modes", "metric/modes_captured", "metric/high_quality")
#: Any of these recorded makes a run one of pictures.
IMAGE_KEYS = (
    "metric/realism",
    "metric/pixel_realism",
    "metric/detail",
    "metric/classes_covered",
    "metric/coverage",
    "metric/fid",
    "metric/ndb_k",
    "metric/precision",
)
#: The evidence that says a track record capped a verdict's confidence.
TRACK_RECORD_METRIC = "confidence/track_record"
#: Kinds whose confidence is a matter of record (divergence is certain, warming_up is 0).
CALIBRATED_KINDS = ("healthy", "mode_collapse", "convergence_failure")


@dataclass(frozen=True)
class Record:
    """How many verdicts of one kind on one family the judge agreed with, of how many."""

    right: int
    total: int

    @property
    def share(self) -> float:
        """The share right, with one right and one wrong added (Laplace): a finite count
        never makes a verdict certain, nor certainly wrong."""
        return (self.right + 1) / (self.total + 2)


TrackRecord = Mapping[tuple[str, str], Record]


def family_of(h: History) -> str:
    """Which track record applies to this history: its data's family."""

    def recorded(keys: tuple[str, ...]) -> bool:
        return any(np.isfinite(h.get(key)).any() for key in keys)

    if recorded(POINT_KEYS):
        return "points"
    return "images" if recorded(IMAGE_KEYS) else "losses"


def parse_track_record(data: Mapping) -> dict[tuple[str, str], Record]:
    """The records of a ``track_record.json`` document (``{"records": {family: {kind:
    [right, total]}}}``)."""
    out = {}
    for family, kinds in data.get("records", {}).items():
        for kind, (right, total) in kinds.items():
            out[(family, kind)] = Record(int(right), int(total))
    return out


@functools.cache
def shipped_track_record() -> TrackRecord:
    """The track record that ships with ganwatch (empty when the file is absent)."""
    if not TRACK_RECORD.is_file():
        return {}
    return parse_track_record(json.loads(TRACK_RECORD.read_text()))


def record_of(kind: str, family: str, record: TrackRecord | None) -> Record | None:
    """The record that caps ``kind`` on ``family``; None: the detectors' number stands. A
    held kind the calibration half never held gets the empty record, an even chance: the
    detectors no longer find it, and nothing says it has been right more often than not."""
    if kind not in CALIBRATED_KINDS:
        return None
    found = (shipped_track_record() if record is None else record).get((family, kind))
    if found is not None and found.total > 0:
        return found
    return Record(0, 0) if family == HELD else None


def calibrate(
    strength: float, kind: str, family: str, record: TrackRecord | None = None
) -> tuple[float, Evidence | None]:
    """The confidence to report: ``strength`` capped by the track record of ``kind`` on
    ``family`` (``record`` None: the shipped one); and, when the record lowered it, the
    evidence that says why, so that a person reading a low confidence sees where it comes
    from. ``family`` ``HELD``: the record of verdicts held against a newer finding, and
    ``strength`` the confidence the held verdict had."""
    found = record_of(kind, family, record)
    if found is None or round(found.share, 4) >= strength:
        return strength, None
    cap = round(found.share, 4)
    label = kind.replace("_", " ")
    which, had = f"on {family}", "its signals add up to"
    if family == HELD:
        which, had = "held while a newer evaluation found another kind", "it had when found"
    seen = f"were right {found.right} times in {found.total}"
    if found.total == 0:
        seen = "were never seen (an even chance)"
    note = (
        f"Verdicts of {label} {which} {seen} on ganwatch's validation corpus, so this one is "
        f"said with {found.share:.2f}, not the {strength:.2f} {had}."
    )
    return cap, Evidence(TRACK_RECORD_METRIC, cap, strength, "<", note)


def calibrated(strength: float, kind: str, family: str, record: TrackRecord | None = None) -> float:
    """The confidence alone (``calibrate``)."""
    return calibrate(strength, kind, family, record)[0]
