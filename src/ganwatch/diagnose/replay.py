"""The verdicts a recorded run would get, epoch by epoch, as the Monitor reports them.

The Monitor diagnoses after each epoch and steadies the result (``steady.py``). Replaying
does the same over a run's stored records, so that a run can be judged again with other
thresholds (tuning on the validation corpus) without training it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ganwatch.diagnose.combine import diagnose
from ganwatch.diagnose.steady import steady_verdict
from ganwatch.diagnose.thresholds import DEFAULT, Thresholds
from ganwatch.diagnose.verdict import History, Verdict
from ganwatch.metrics.bands import Bands


def replay(
    records: Sequence[Mapping[str, float]],
    *,
    bands: Bands | None = None,
    nonfinite_step: int | None = None,
    config: Mapping[str, Any] | None = None,
    thresholds: Thresholds = DEFAULT,
) -> list[Verdict]:
    """The reported verdict after each of ``records`` (one dict per epoch, oldest first)."""
    verdicts: list[Verdict] = []
    found: list[str] = []
    previous: Verdict | None = None
    for i, record in enumerate(records):
        reached = nonfinite_step is not None and nonfinite_step <= int(record["step"])
        history = History.from_records(records[: i + 1], nonfinite_step if reached else None, bands)
        raw = diagnose(history, thresholds, config)
        found.append(raw.kind)
        previous = steady_verdict(raw, previous, found, thresholds)
        verdicts.append(previous)
    return verdicts


def replay_run(
    store, run_id: int, thresholds: Thresholds = DEFAULT, *, metrics: bool = True
) -> list[Verdict]:
    """Replay a stored run: its epoch records, its real-data bands and its first bad step;
    ``metrics`` False replays its losses alone, as a loop that records no metric would be."""
    references = store.events(run_id, "reference") if metrics else []
    diverged = store.events(run_id, "diverged")
    records = store.epoch_metrics(run_id)
    if not metrics:
        records = [{k: v for k, v in r.items() if not k.startswith("metric/")} for r in records]
    return replay(
        records,
        bands=Bands.from_dict(references[-1]["payload"]) if references else None,
        nonfinite_step=diverged[-1]["payload"].get("first_bad_step") if diverged else None,
        config=store.get_run(run_id).config,
        thresholds=thresholds,
    )
