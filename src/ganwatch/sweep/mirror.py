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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ganwatch.atomic import write_atomically
from ganwatch.store import RunInfo, RunStore
from ganwatch.training.checkpoint import checkpoint_path

Batch = dict[str, Any]
_COUNTERS = ("epoch", "step")  # an epoch row's keys that are not metrics


@dataclass
class Cursor:
    """What of a local run has been sent already, so each batch carries only what is new.

    Epoch rows and files are recognised by content, not by number: a resumed run trains the
    epochs after its checkpoint again, under the same numbers, and the new values must go too.
    """

    step: int = -1
    epochs: dict[int, str] = field(default_factory=dict)  # epoch -> repr of the row sent
    event_id: int = 0
    images: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    checkpoint: tuple[int, int] | None = None  # (mtime_ns, size) of the checkpoint sent


def _signature(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _step_rows(store: RunStore, run_id: int, after: int) -> list[tuple[int, dict[str, float]]]:
    rows: dict[int, dict[str, float]] = {}
    for key, (steps, values) in store.step_metrics(run_id, after=after).items():
        for step, value in zip(steps.tolist(), values.tolist(), strict=True):
            rows.setdefault(step, {})[key] = value
    return sorted(rows.items())


def _epoch_entry(row: dict) -> tuple[int, int, dict[str, float]]:
    return row["epoch"], row["step"], {k: v for k, v in row.items() if k not in _COUNTERS}


def _new_images(store: RunStore, run_id: int, cursor: Cursor) -> list[tuple]:
    images = []
    for kind in store.image_kinds(run_id):
        for epoch, step, path in store.images(run_id, kind):
            signature = _signature(path)
            if cursor.images.get((kind, epoch)) != signature:
                images.append((kind, epoch, step, path.read_bytes()))
                cursor.images[(kind, epoch)] = signature
    return images


def _batch(
    run: RunInfo,
    steps: list,
    epochs: list[dict],
    events: list[dict],
    images: list[tuple],
    checkpoint: bytes | None,
) -> Batch:
    """One batch: the run's name, config and status, and the records given."""
    return {
        "name": run.name,
        "config": run.config,
        "status": run.status,
        "steps": steps,
        "epochs": [_epoch_entry(row) for row in epochs],
        "events": [(e["kind"], e["payload"], e["step"]) for e in events],
        "images": images,
        "checkpoint": checkpoint,
    }


def collect(store: RunStore, run_id: int, cursor: Cursor) -> Batch:
    """Everything of ``run_id`` not sent yet, and advance ``cursor`` past it."""
    steps = _step_rows(store, run_id, cursor.step)
    if steps:
        cursor.step = steps[-1][0]
    epochs = [
        row for row in store.epoch_metrics(run_id) if cursor.epochs.get(row["epoch"]) != repr(row)
    ]
    cursor.epochs.update({row["epoch"]: repr(row) for row in epochs})
    events = [event for event in store.events(run_id) if event["id"] > cursor.event_id]
    if events:
        cursor.event_id = events[-1]["id"]
    checkpoint = None
    path = checkpoint_path(store.run_dir(run_id))
    if path.is_file() and _signature(path) != cursor.checkpoint:
        cursor.checkpoint = _signature(path)
        checkpoint = path.read_bytes()
    images = _new_images(store, run_id, cursor)
    return _batch(store.get_run(run_id), steps, epochs, events, images, checkpoint)


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
        data = batch["checkpoint"]
        write_atomically(checkpoint_path(store.run_dir(run_id)), lambda handle: handle.write(data))
    for kind, payload, step in batch["events"]:
        store.log_event(run_id, kind, payload, step)
    if store.get_run(run_id).status != batch["status"]:
        store.set_status(run_id, batch["status"])
    return run_id


def history(store: RunStore, run_id: int) -> Batch:
    """What a trial needs to resume ``run_id`` elsewhere: its config, epochs, events and
    checkpoint (its steps and images stay where they are; a resume never reads them)."""
    path = checkpoint_path(store.run_dir(run_id))
    checkpoint = path.read_bytes() if path.is_file() else None
    epochs, events = store.epoch_metrics(run_id), store.events(run_id)
    return _batch(store.get_run(run_id), [], epochs, events, [], checkpoint)


def restore(store: RunStore, batch: Batch) -> int:
    """Recreate a run from :func:`history` in a local store; return its local id."""
    return apply(store, None, batch)
