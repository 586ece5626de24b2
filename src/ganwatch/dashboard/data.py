"""Shape what the store holds into the JSON the dashboard pages read.

The live server and the offline report both go through these functions, so a page looks the
same whichever of the two feeds it. Everything returned is plain JSON: non-finite numbers
become ``null`` (JSON has no NaN; the charts draw a gap there), and metric series are
rounded to seven significant digits, which no chart can tell apart.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from ganwatch.catalog.verdicts import ALSO_PREFIX, PENDING_PREFIX, held_kind
from ganwatch.store import RunInfo, RunStore

# Verdict kinds the diagnosis emits; anything else is still shown, under its own name.
LOSS_KEYS = ("loss/g", "loss/d_real", "loss/d_fake")
LAST_KEYS = (*LOSS_KEYS, "d/real", "d/fake", "grad/g", "grad/d", "speed/images_per_s")
SPARK_POINTS = 80
# A run still marked running that has written nothing for this long has probably lost its
# process (killed, machine asleep); the pages say so rather than pretend it is training.
STALE_AFTER_S = 600.0
# Metric series are sent with this many significant digits: no chart can show more, and it
# keeps a long run's steps small enough to fetch again and again.
SERIES_DIGITS = 7

ImageUrl = Callable[[int, str, int], str]


def clean(value: Any, digits: int | None = None) -> Any:
    """Make ``value`` valid JSON: recurse into containers, turn non-finite floats into None.

    ``digits`` rounds floats to that many significant digits; only metric series ask for it
    (times must keep every digit: a page compares them to notice changes).
    """
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{digits}g}") if digits else value
    if isinstance(value, Mapping):
        return {str(key): clean(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(item, digits) for item in value]
    try:  # NumPy scalars and the like
        return clean(float(value), digits)
    except (TypeError, ValueError):
        return str(value)


def config_summary(config: Mapping[str, Any]) -> str:
    """One line that tells runs apart: the preset (and scale) or else the values that matter."""
    parts: list[str] = []
    preset = config.get("preset")
    if preset:
        scale = config.get("scale")
        parts.append(f"{preset} ({scale})" if scale and scale != "full" else str(preset))
    if config.get("dataset"):
        parts.append(str(config["dataset"]))
    labels = (("latent_dim", "z"), ("lr", "lr"), ("beta1", "β1"), ("batch_size", "batch"))
    for key, label in labels:
        if config.get(key) is not None:
            parts.append(
                f"{label} {config[key]:g}"
                if isinstance(config[key], float)
                else f"{label} {config[key]}"
            )
    if config.get("d_steps") not in (None, 1):
        parts.append(f"k {config['d_steps']}")
    return " · ".join(parts)


# The signs of a convergence failure, by the detector that fired: (metric, op) of the
# evidence it leaves -> what a person should read. Sample quality and the losses tell
# different stories (samples far from the data vs. a discriminator that has won), so the
# sentence follows the evidence instead of one line for every convergence failure.
_QUALITY_SIGNS = {
    ("metric/realism", "<"): "few samples as close to it as real data is",
    ("metric/pixel_realism", "<"): "noisy: far from real images pixel for pixel",
    ("metric/detail", "<"): "blurred",
    ("metric/precision", "<"): "low precision",  # verdicts stored before realism existed
    ("metric/fid", ">"): "FID far above real data's",
    ("metric/high_quality", "<"): "few samples on the modes",
}
_SECONDARY_NOTES = (ALSO_PREFIX, PENDING_PREFIX)


def _primary_signs(evidence: list[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(metric, op) of the evidence behind the verdict itself, not the marked extras (the
    weaker finding's, or a kind found but not yet confirmed)."""
    return {
        (str(e.get("metric")), str(e.get("op")))
        for e in evidence
        if isinstance(e, Mapping) and not str(e.get("note") or "").startswith(_SECONDARY_NOTES)
    }


def verdict_note(kind: str, evidence: list[Mapping[str, Any]]) -> str | None:
    """One sentence on what the verdict means, following which detector fired; None when the
    evidence says nothing more specific than the kind's generic description."""
    if kind != "convergence_failure":
        return None
    signs = _primary_signs(evidence)
    parts: list[str] = []
    quality = [text for sign, text in _QUALITY_SIGNS.items() if sign in signs]
    if quality:
        parts.append(f"the samples are far from the real data ({', '.join(quality)})")
    if ("loss/d_fake", ">") in signs:
        parts.append(
            "the discriminator is sure of real data but not of fakes, as with too high a "
            "learning rate"
        )
    elif {("loss/d_real", "<"), ("loss/d_fake", "<")} <= signs:
        parts.append("the discriminator overpowers the generator")
    elif ("loss/g", "<") in signs:
        parts.append("both losses fell to zero, so neither network learns")
    return "; ".join(parts) or None


def _verdict_start(event: Mapping[str, Any]) -> int:
    since = event["payload"].get("since_step")
    if isinstance(since, (int, float)) and not isinstance(since, bool) and math.isfinite(since):
        return int(since)
    return int(event.get("step") or 0)


def verdict_periods(events: list[dict]) -> list[dict]:
    """The stretches of steps each verdict covered, for shading charts and the timeline.

    A verdict lasts from its ``since_step`` to the next verdict's. A detector that repeats
    the same verdict at every evaluation yields one period, not many: consecutive verdicts
    of one kind merge, keeping the first start and the latest evidence. The last period is
    open (``end`` is null): it lasts as long as the run. ``pending`` is the kind the
    detectors found at the latest of them when that is not the reported one (the verdict is
    held, ``steady_verdict``), and ``count`` how many of them the detectors found themselves:
    a held verdict is not a confirmation.
    """
    periods: list[dict] = []
    for event in events:
        if event["kind"] != "verdict":
            continue
        payload = event["payload"]
        kind = str(payload.get("kind") or "unknown")
        start = _verdict_start(event)
        evidence = payload.get("evidence") or []
        pending = held_kind(payload)
        latest = {
            "kind": kind,
            "note": verdict_note(kind, evidence),
            "confidence": payload.get("confidence"),
            "evidence": evidence,
            "remedies": payload.get("remedies") or [],
            "step": event.get("step"),
            "time": event.get("time"),
            "pending": pending,
        }
        if periods and periods[-1]["kind"] == kind:
            periods[-1].update(latest)
            periods[-1]["count"] += pending is None
            continue
        if periods:
            periods[-1]["end"] = max(start, periods[-1]["start"])
        periods.append({"start": start, "end": None, "count": int(pending is None), **latest})
    return clean(periods)


def current_verdict(events: list[dict]) -> dict | None:
    """The run's verdict now: the latest verdict event's, or None when it has none."""
    periods = verdict_periods(events)
    return periods[-1] if periods else None


def _downsample(values: list, limit: int) -> list:
    if len(values) <= limit:
        return values
    stride = len(values) / limit
    picked = [values[int(i * stride)] for i in range(limit - 1)]
    return [*picked, values[-1]]


def _last_values(store: RunStore, run_id: int, epochs: list[dict]) -> dict:
    """The run's latest losses: its last epoch's means, or its last step while in epoch one."""
    if epochs:
        record = epochs[-1]
        return {key: record[key] for key in LAST_KEYS if key in record}
    last = store.last_step(run_id)
    if not last:
        return {}
    series = store.step_metrics(run_id, after=last - 1)
    return {key: float(values[-1]) for key, (_, values) in series.items() if key in LAST_KEYS}


def _last_metrics(epochs: list[dict]) -> dict:
    """Each ``metric/*`` key's latest measured value (metrics are not computed every epoch)."""
    found: dict[str, dict] = {}
    for record in epochs:
        for key, value in record.items():
            if key.startswith("metric/") and isinstance(value, float) and math.isfinite(value):
                found[key] = {"value": value, "epoch": record["epoch"], "step": record["step"]}
    return found


def is_stale(run: RunInfo, now: float | None = None) -> bool:
    """Whether a run marked running has gone quiet for long enough to doubt it still is."""
    now = time.time() if now is None else now
    return run.status == "running" and now - run.updated > STALE_AFTER_S


def run_summary(
    store: RunStore, run: RunInfo, now: float | None = None, image_url: ImageUrl | None = None
) -> dict:
    """What the runs list shows of one run; with ``image_url``, its newest grid's address."""
    epochs = store.epoch_metrics(run.id)
    events = store.events(run.id, "verdict")
    config = run.config
    spark = [record.get("loss/g") for record in epochs]
    grids = store.images(run.id, "grid") if image_url else []
    preview = image_url(run.id, "grid", grids[-1][0]) if grids else None
    return clean(
        {
            "id": run.id,
            "name": run.name,
            "status": run.status,
            "created": run.created,
            "updated": run.updated,
            "finished": run.finished,
            "stale": is_stale(run, now),
            "preset": config.get("preset"),
            "scale": config.get("scale"),
            "dataset": config.get("dataset"),
            "summary": config_summary(config),
            "epochs_total": config.get("epochs"),
            "epochs_done": epochs[-1]["epoch"] if epochs else 0,
            "step": max(store.last_step(run.id), epochs[-1]["step"] if epochs else 0),
            "last": _last_values(store, run.id, epochs),
            "metrics": _last_metrics(epochs),
            "verdict": current_verdict(events),
            "spark": clean(_downsample(spark, SPARK_POINTS), 4),
            "preview": preview,
        }
    )


def run_images(store: RunStore, run_id: int, image_url: ImageUrl) -> dict[str, list[dict]]:
    """Each image kind's frames in epoch order, with the address a page loads them from."""
    return {
        kind: [
            {"epoch": epoch, "step": step, "url": image_url(run_id, kind, epoch)}
            for epoch, step, _ in store.images(run_id, kind)
        ]
        for kind in store.image_kinds(run_id)
    }


def run_events(store: RunStore, run_id: int) -> list[dict]:
    """All of a run's events, oldest first, as JSON."""
    return clean(store.events(run_id))


def run_detail(
    store: RunStore, run: RunInfo, image_url: ImageUrl, now: float | None = None
) -> dict:
    """Everything a run page shows except the metric series, which are fetched apart."""
    events = run_events(store, run.id)
    return {
        **run_summary(store, run, now, image_url),
        "config": clean(run.config),
        "images": run_images(store, run.id, image_url),
        "events": events,
        "verdicts": verdict_periods(events),
    }


def step_columns(store: RunStore, run_id: int, after: int | None = None) -> dict:
    """Step metrics as aligned columns (the shape charts take): ``steps`` and one list per key.

    A key not logged at some step has ``null`` there. ``after`` returns only newer steps, so
    a page that is open while a run trains asks for what it has not seen yet.
    """
    series = store.step_metrics(run_id, after=after)
    steps = sorted({int(step) for key_steps, _ in series.values() for step in key_steps})
    index = {step: i for i, step in enumerate(steps)}
    columns: dict[str, list] = {}
    for key, (key_steps, values) in sorted(series.items()):
        column: list = [None] * len(steps)
        for step, value in zip(key_steps.tolist(), values.tolist(), strict=True):
            column[index[int(step)]] = value
        columns[key] = column
    return {"after": after or 0, "steps": steps, "series": clean(columns, SERIES_DIGITS)}


def epoch_rows(store: RunStore, run_id: int) -> list[dict]:
    """One JSON object per epoch: its number, its last step and every key logged for it."""
    return clean(store.epoch_metrics(run_id), SERIES_DIGITS)
