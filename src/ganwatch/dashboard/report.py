"""``ganwatch report``: the dashboard's views of some runs as one offline HTML file.

The file holds the very scripts and styles the live dashboard serves, the runs' data as
embedded JSON in the shape the API returns, and the pictures as ``data:`` URIs, so the page
code cannot tell the two apart. It can be mailed, attached to a CI job or opened years later
with no server and no network.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from ganwatch import __version__, catalog
from ganwatch.atomic import write_atomically
from ganwatch.dashboard import assets, data
from ganwatch.store import RunStore, StrPath

# Per run and kind: a long run's every grid would make the file huge; evenly spaced ones
# (always with the first and the last) tell the same story.
MAX_IMAGES = 100


def pick_evenly(items: list, limit: int) -> list:
    """At most ``limit`` items spread evenly over ``items``, first and last included."""
    if len(items) <= limit:
        return items
    if limit < 2:
        return items[-1:]
    last = len(items) - 1
    picks = sorted({round(i * last / (limit - 1)) for i in range(limit)})
    return [items[i] for i in picks]


def _data_uri(path: Path) -> str | None:
    try:
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return None
    return f"data:image/png;base64,{encoded}"


def _embedded_images(store: RunStore, run_id: int, max_images: int) -> dict[str, list[dict]]:
    """The run's pictures inline; a picture missing from disk is left out, not an error."""
    images: dict[str, list[dict]] = {}
    for kind in store.image_kinds(run_id):
        frames = []
        for epoch, step, path in pick_evenly(store.images(run_id, kind), max_images):
            uri = _data_uri(path)
            if uri is not None:
                frames.append({"epoch": epoch, "step": step, "url": uri})
        images[kind] = frames
    return images


def report_data(store: RunStore, refs: Sequence[int | str], max_images: int = MAX_IMAGES) -> dict:
    """The report's JSON: for each run what the API's run, steps and epochs routes return."""
    runs = []
    seen: set[int] = set()
    for ref in refs:
        run = store.get_run(ref)
        if run.id not in seen:
            seen.add(run.id)
            runs.append(run)
    now = time.time()
    details, steps, epochs, summaries = {}, {}, {}, []
    for run in runs:
        detail = data.run_detail(store, run, lambda *_: "", now)
        detail["images"] = _embedded_images(store, run.id, max_images)
        grids = detail["images"].get("grid") or [{"url": None}]
        detail["preview"] = grids[-1]["url"]
        details[str(run.id)] = detail
        summaries.append({**data.run_summary(store, run, now), "preview": detail["preview"]})
        steps[str(run.id)] = data.step_columns(store, run.id)
        epochs[str(run.id)] = data.epoch_rows(store, run.id)
    if len(runs) == 1:
        start = f"/runs/{runs[0].id}"
    elif len(runs) <= 6:
        start = "/compare?runs=" + ",".join(str(run.id) for run in runs)
    else:
        start = "/"
    return {
        "generated": now,
        "version": __version__,
        "start": start,
        "catalog": catalog.as_json(),
        "runs": summaries,
        "details": details,
        "steps": steps,
        "epochs": epochs,
    }


def build_report(store: RunStore, refs: Sequence[int | str], max_images: int = MAX_IMAGES) -> str:
    """The report's HTML text."""
    payload = report_data(store, refs, max_images)
    names = ", ".join(run["name"] for run in payload["runs"])
    text = json.dumps(payload, allow_nan=False, separators=(",", ":"))
    return assets.report_page(f"ganwatch report: {names}", text)


def write_report(
    store: StrPath | None,
    refs: Sequence[int | str],
    out: str | os.PathLike[str],
    max_images: int = MAX_IMAGES,
) -> Path:
    """Write the report for ``refs`` (ids or names) to ``out``; returns the path written.

    Reads the store read-only, and writes the file whole or not at all (a temporary file
    renamed into place), so a CI job never keeps half a report.
    """
    if not refs:
        raise ValueError("report: name at least one run")
    with RunStore(store, read_only=True) as opened:
        text = build_report(opened, refs, max_images)
    data = text.encode("utf-8")
    return write_atomically(out, lambda handle: handle.write(data), durable=False)
