"""Copy one run's records from a store on one machine into a store on another.

A Ray Tune trial may train on a machine that shares no disk with the sweep's store. It trains
into a private local store, as ``ganwatch train`` would, and after every epoch sends what is
new there (steps, epochs, events, images, the checkpoint, the status) as one plain ``Batch``
of Python values; the store's one writer applies it to the real run. A resumed trial gets the
run's past (config, epochs, events, checkpoint) the other way, so its Monitor continues from
the same history it would have read locally.

Nothing here knows about Ray: batches are dicts of floats, strings and bytes, which any
transport can carry, and the round trip is tested with two local stores.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ganwatch.store import RunStore
from ganwatch.training.checkpoint import checkpoint_path

Batch = dict[str, Any]
_COUNTERS = ("epoch", "step")  # an epoch row's keys that are not metrics


@dataclass
class Cursor:
    """What of a local run has been sent already, so each batch carries only what is new."""

    step: int = -1
    epochs: dict[int, int] = field(default_factory=dict)  # epoch -> step it was sent with
    event_id: int = 0
    images: set[tuple[str, int]] = field(default_factory=set)
    checkpoint: tuple[int, int] | None = None  # (mtime_ns, size) of the checkpoint sent


def _step_rows(store: RunStore, run_id: int, after: int) -> list[tuple[int, dict[str, float]]]:
    rows: dict[int, dict[str, float]] = {}
    for key, (steps, values) in store.step_metrics(run_id, after=after).items():
        for step, value in zip(steps.tolist(), values.tolist(), strict=True):
            rows.setdefault(step, {})[key] = value
    return sorted(rows.items())


def _checkpoint_file(store: RunStore, run_id: int) -> str:
    return str(checkpoint_path(store.run_dir(run_id)))


def collect(store: RunStore, run_id: int, cursor: Cursor) -> Batch:
    """Everything of ``run_id`` not sent yet, and advance ``cursor`` past it."""
    run = store.get_run(run_id)
    steps = _step_rows(store, run_id, cursor.step)
    if steps:
        cursor.step = steps[-1][0]
    epochs = [
        row for row in store.epoch_metrics(run_id) if cursor.epochs.get(row["epoch"]) != row["step"]
    ]
    cursor.epochs.update({row["epoch"]: row["step"] for row in epochs})
    events = [event for event in store.events(run_id) if event["id"] > cursor.event_id]
    if events:
        cursor.event_id = events[-1]["id"]
    images = []
    for kind in store.image_kinds(run_id):
        for epoch, step, path in store.images(run_id, kind):
            if (kind, epoch) not in cursor.images:
                images.append((kind, epoch, step, path.read_bytes()))
                cursor.images.add((kind, epoch))
    checkpoint = None
    path = _checkpoint_file(store, run_id)
    if os.path.isfile(path):
        stat = os.stat(path)
        signature = (stat.st_mtime_ns, stat.st_size)
        if signature != cursor.checkpoint:
            with open(path, "rb") as handle:
                checkpoint = handle.read()
            cursor.checkpoint = signature
    return {
        "name": run.name,
        "config": run.config,
        "status": run.status,
        "steps": steps,
        "epochs": [
            (row["epoch"], row["step"], {k: v for k, v in row.items() if k not in _COUNTERS})
            for row in epochs
        ],
        "events": [(e["kind"], e["payload"], e["step"]) for e in events],
        "images": images,
        "checkpoint": checkpoint,
    }


def _write_atomically(path: str, data: bytes) -> None:
    """A reader (or a resume) never sees half a checkpoint, even if this process dies."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.partial"
    with open(partial, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def apply(store: RunStore, run_id: int | None, batch: Batch) -> int:
    """Write ``batch`` into ``store`` as run ``run_id`` (created when None); return its id.

    A ``resumed`` event first forgets the verdicts after its step, as a local resume does, so
    a run resumed on another machine records each verdict once.
    """
    if run_id is None:
        run_id = store.create_run(batch["name"], batch["config"])
    for kind, _payload, step in batch["events"]:
        if kind == "resumed" and step is not None:
            store.delete_verdicts_after(run_id, step)
    if batch["steps"]:
        store.log_steps(run_id, batch["steps"])
    for epoch, step, values in batch["epochs"]:
        store.log_epoch(run_id, epoch, step, values)
    for kind, epoch, step, png in batch["images"]:
        store.save_image(run_id, kind, epoch, step, np.asarray(Image.open(io.BytesIO(png))))
    if batch["checkpoint"] is not None:
        _write_atomically(_checkpoint_file(store, run_id), batch["checkpoint"])
    for kind, payload, step in batch["events"]:
        store.log_event(run_id, kind, payload, step)
    if store.get_run(run_id).status != batch["status"]:
        store.set_status(run_id, batch["status"])
    return run_id


def history(store: RunStore, run_id: int) -> Batch:
    """What a trial needs to resume ``run_id`` elsewhere: its config, epochs, events and
    checkpoint (its steps and images stay where they are; a resume never reads them)."""
    batch = collect(store, run_id, Cursor())
    return {**batch, "steps": [], "images": []}


def restore(store: RunStore, batch: Batch) -> int:
    """Recreate a run from :func:`history` in a local store; return its local id."""
    return apply(store, None, batch)
