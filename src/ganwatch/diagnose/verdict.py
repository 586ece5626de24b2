"""The diagnosis's inputs (History) and outputs (Verdict, Evidence, Remedy).

These are plain data: the monitor builds a History from recorded numbers and stores the
Verdict as JSON (`to_dict`), so nothing here knows about models, tensors or the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganwatch.catalog import VERDICT_KINDS
from ganwatch.metrics.bands import Band, Bands


@dataclass
class Evidence:
    """One number that crossed a threshold, kept so a person can check the verdict."""

    metric: str
    value: float
    threshold: float
    op: str  # ">" or "<": `value op threshold` is what held
    note: str
    # The epoch the value was measured at: metrics on a schedule (NDB every few evaluations,
    # --eval-every) and a held verdict's own evidence are older than the verdict that shows
    # them. None: not one epoch's measurement (a track record, the step a loss became NaN),
    # or stored before it was kept.
    epoch: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": float(self.value),
            "threshold": float(self.threshold),
            "op": self.op,
            "note": self.note,
            "epoch": None if self.epoch is None else int(self.epoch),
        }


@dataclass
class Remedy:
    """Something to try, and the ganwatch flag that applies it ("" when none exists)."""

    text: str
    flag: str

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "flag": self.flag}


@dataclass
class Verdict:
    """The diagnosis after one epoch: what is wrong (or not), since when, why, what to try."""

    kind: str
    epoch: int
    step: int
    since_step: int | None
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    remedies: list[Remedy] = field(default_factory=list)
    # What the detectors found at this evaluation when it differs from the reported `kind`
    # (a new kind not yet confirmed; see `steady_verdict`). None: the detectors agree.
    raw_kind: str | None = None
    # The finding needs no confirmation, so `steady_verdict` reports it at once: a NaN, or a
    # collapse on 2-D data measured directly on the modes (set by `diagnose`).
    firm: bool = False

    def __post_init__(self) -> None:
        for kind in (self.kind, self.raw_kind or self.kind):
            if kind not in VERDICT_KINDS:
                raise ValueError(f"unknown verdict kind {kind!r}; expected one of {VERDICT_KINDS}")
        if self.raw_kind == self.kind:
            self.raw_kind = None  # one spelling for "the detectors agree"
        if self.found_kind == "divergence":
            self.firm = True  # a NaN does not get better, however the verdict was made

    @property
    def held(self) -> bool:
        """Whether this is a verdict held against a newer finding (``steady_verdict``)."""
        return self.raw_kind is not None

    @property
    def found_kind(self) -> str:
        """What the detectors found at this evaluation (the reported kind unless held)."""
        return self.raw_kind or self.kind

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (plain ints, floats, strings and lists)."""
        return {
            "kind": self.kind,
            "epoch": int(self.epoch),
            "step": int(self.step),
            "since_step": None if self.since_step is None else int(self.since_step),
            "confidence": float(self.confidence),
            "evidence": [e.to_dict() for e in self.evidence],
            "remedies": [r.to_dict() for r in self.remedies],
            "raw_kind": self.found_kind,
            "firm": bool(self.firm),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        since = d.get("since_step")
        return cls(
            kind=d["kind"],
            epoch=int(d["epoch"]),
            step=int(d["step"]),
            since_step=None if since is None else int(since),
            confidence=float(d["confidence"]),
            evidence=[Evidence(**e) for e in d.get("evidence", [])],
            remedies=[Remedy(**r) for r in d.get("remedies", [])],
            raw_kind=d.get("raw_kind"),  # absent in verdicts stored before hysteresis
            firm=bool(d.get("firm", False)),  # absent in verdicts stored before 2026-12-01
        )


@dataclass
class History:
    """What the detectors read, one entry per completed epoch (oldest first).

    `series` maps a metric key to per-epoch values, NaN where it was not measured that epoch
    (metrics run on a schedule, losses every epoch). Any key may be missing.
    """

    epochs: np.ndarray
    steps: np.ndarray
    series: dict[str, np.ndarray]
    nonfinite_step: int | None = None
    bands: Bands | None = None  # what held-out real data scores at the evaluation's count

    def __len__(self) -> int:
        return len(self.epochs)

    def get(self, key: str) -> np.ndarray:
        """The series for `key` as floats, all NaN when it was never recorded."""
        values = self.series.get(key)
        if values is None:
            return np.full(len(self), np.nan)
        return np.asarray(values, dtype=float)

    def band(self, key: str) -> Band | None:
        """What real data scores on ``key`` at this run's sample count (None: not measured)."""
        return None if self.bands is None else self.bands.get(key)

    @classmethod
    def from_records(
        cls,
        records: Sequence[Mapping[str, float]],
        nonfinite_step: int | None = None,
        bands: Bands | None = None,
    ) -> History:
        """Build from one dict per epoch, each with "epoch", "step" and any metric keys."""
        keys = sorted({k for r in records for k in r} - {"epoch", "step"})
        series = {
            k: np.array([float(r.get(k, np.nan)) for r in records], dtype=float) for k in keys
        }
        return cls(
            epochs=np.array([int(r["epoch"]) for r in records], dtype=int),
            steps=np.array([int(r["step"]) for r in records], dtype=int),
            series=series,
            nonfinite_step=nonfinite_step,
            bands=bands,
        )
