"""The verdicts' track record: how often each kind was right, per family of data.

``diagnose`` caps a verdict's confidence by this share (``ganwatch.diagnose.confidence``
says why). It is measured on the calibration half, like every threshold, and the report
shows it beside the same shares on the held-out half, which is how one sees whether it
holds. Each run is replayed as recorded (its family: images or points) and once more from
its losses alone (the ``losses`` family, a loop that records no metric); a verdict held
against a newer finding counts under ``held`` instead, whatever its family. Only decisive
truths count, and a verdict is right when the judge accepts it (``RIGHT_VERDICTS``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ganwatch.atomic import write_atomically
from ganwatch.diagnose.confidence import (
    CALIBRATED_KINDS,
    FAMILIES,
    HELD,
    Record,
    family_of,
    record_of,
)
from ganwatch.diagnose.replay import replay_run
from ganwatch.diagnose.thresholds import DEFAULT, Thresholds
from ganwatch.diagnose.verdict import History, Verdict
from ganwatch.validation.judge import JUDGE_VERSION
from ganwatch.validation.runner import CorpusRun
from ganwatch.validation.score import decisive_verdicts

Records = dict[tuple[str, str], Record]


def tally_verdicts(
    counts: Counter, run: CorpusRun, verdicts: Sequence[Verdict], family: str
) -> None:
    """Count each verdict under its family, or under ``HELD`` when it was held against a
    newer finding, the record ``steady_verdict`` caps those by."""
    for verdict, right in decisive_verdicts(run, verdicts):
        if verdict.kind in CALIBRATED_KINDS:
            counts[(HELD if verdict.held else family, verdict.kind, right)] += 1


def measure(
    out: str | Path,
    replayed: Sequence[tuple[CorpusRun, Sequence[Verdict]]],
    thresholds: Thresholds = DEFAULT,
) -> Records:
    """Each (family, kind)'s right and total verdicts over the corpus runs in ``out`` that
    ``replayed`` holds with the verdicts their replay gave (``report.replay_runs``, which
    the report has already done); each is also replayed from its losses alone."""
    from ganwatch.store import RunStore

    counts: Counter = Counter()
    with RunStore(Path(out) / "store", read_only=True) as store:
        for run, verdicts in replayed:
            family = family_of(History.from_records(store.epoch_metrics(run.run_id)))
            tally_verdicts(counts, run, verdicts, family)
            losses = replay_run(store, run.run_id, thresholds, metrics=False)
            tally_verdicts(counts, run, losses, "losses")
    keys = {(family, kind) for family, kind, _ in counts}
    return {
        key: Record(counts[(*key, True)], counts[(*key, True)] + counts[(*key, False)])
        for key in sorted(keys)
    }


def to_document(records: Records, made_by: str) -> dict:
    """The ``track_record.json`` document for ``records``."""
    out: dict = {"made_by": made_by, "judge_version": JUDGE_VERSION, "records": {}}
    for (family, kind), record in sorted(records.items()):
        out["records"].setdefault(family, {})[kind] = [record.right, record.total]
    return out


def write_track_record(path: Path, records: Records, made_by: str) -> None:
    text = json.dumps(to_document(records, made_by), indent=2) + "\n"
    write_atomically(Path(path), lambda handle: handle.write(text.encode()))


def track_record_table(
    calibration: Records, held_out: Records | None = None, caps: Records | None = None
) -> str:
    """Markdown: each kind's share right on the calibration half and, when given, on the
    held-out half, beside the cap ``diagnose`` applies (``caps``; None: the calibration
    half's own shares, as ``ganwatch validate calibrate`` writes them)."""

    def cell(record: Record | None) -> str:
        if record is None or record.total == 0:
            return "-"
        return f"{record.right} of {record.total} ({record.right / record.total:.0%})"

    caps = calibration if caps is None else caps
    header = "| family | verdict | confidence cap | right, calibration half |"
    lines = [header, "|---|---|---|---|"]
    if held_out is not None:
        lines = [header + " right, held-out half |", "|---|---|---|---|---|"]
    for family in (*FAMILIES, HELD):
        for kind in CALIBRATED_KINDS:
            key = (family, kind)
            if key not in calibration and key not in (held_out or {}):
                continue
            # three decimals: 233 of 234 is 0.996, not a certain-looking 1.00
            capping = record_of(kind, family, caps)  # what diagnose caps by
            cap = "-" if capping is None else f"{capping.share:.3f}"
            if capping is not None and capping.total == 0:
                cap += " (none held)"
            line = f"| {family} | {kind} | {cap} | {cell(calibration.get(key))} |"
            if held_out is not None:
                line += f" {cell(held_out.get(key))} |"
            lines.append(line)
    return "\n".join(lines)
