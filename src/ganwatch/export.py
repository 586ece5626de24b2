"""Get runs out of the store: CSV files and charts (``ganwatch export``) and text views
(``ganwatch runs`` and ``ganwatch show``).

Export is a reporting step, so it writes whatever the run has: the CSV files always (a
run that has only step metrics so far still has something to analyse), the two charts only
when there is data to draw. A skipped chart is logged as a warning and simply absent from
the returned list, rather than raising, so exporting a run that is still in its first
epoch does not fail.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ganwatch.catalog.verdicts import held_note
from ganwatch.store import RunInfo, RunStore

log = logging.getLogger(__name__)

# The three losses of the article's chart, in its order and with its labels.
LOSS_SERIES = (
    ("loss/g", "Generator"),
    ("loss/d_real", "Discriminator (real)"),
    ("loss/d_fake", "Discriminator (fake)"),
)
TIMELINE_MAX = 10
RECENT_EVENTS = 5
TABLE_COLUMNS = ("ID", "NAME", "STATUS", "PRESET", "DATASET", "EPOCHS", "CREATED")


def export_run(store: RunStore, ref: int | str, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``steps.csv``, ``epochs.csv``, ``losses.png`` and ``grids.png`` for one run.

    Returns the paths actually written: the charts are skipped (with a logged warning)
    while the run has no epoch metrics or no grid images yet. Unknown runs raise
    :class:`ganwatch.store.RunNotFoundError`.
    """
    run = store.get_run(ref)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    epochs = store.epoch_metrics(run.id)
    written = [
        _write_steps_csv(store.step_metrics(run.id), out / "steps.csv"),
        _write_epochs_csv(epochs, out / "epochs.csv"),
    ]

    if not any(key in record for record in epochs for key, _ in LOSS_SERIES):
        log.warning("run %s (%s) has no epoch losses yet; skipped losses.png", run.id, run.name)
    else:
        written.append(_plot_losses(run, epochs, out / "losses.png"))

    grids = [item for item in store.images(run.id, "grid") if item[2].is_file()]
    if not grids:
        log.warning("run %s (%s) has no grid images yet; skipped grids.png", run.id, run.name)
    else:
        written.append(_grid_timeline(grids, out / "grids.png"))
    return written


def _csv_value(value: float | None) -> str:
    """Empty for a metric not logged at that row; ``repr`` keeps full float precision."""
    return "" if value is None else repr(float(value))


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _write_steps_csv(series: Mapping[str, tuple[np.ndarray, np.ndarray]], path: Path) -> Path:
    """One row per step, one column per key (sorted); keys logged at other steps stay empty."""
    keys = sorted(series)
    by_key = [dict(zip(*(arr.tolist() for arr in series[key]), strict=True)) for key in keys]
    steps = sorted({step for column in by_key for step in column})
    rows = ([step, *(_csv_value(column.get(step)) for column in by_key)] for step in steps)
    return _write_csv(path, ["step", *keys], rows)


def _write_epochs_csv(epochs: Sequence[Mapping[str, Any]], path: Path) -> Path:
    keys = sorted({key for record in epochs for key in record} - {"epoch", "step"})
    rows = (
        [record["epoch"], record["step"], *(_csv_value(record.get(key)) for key in keys)]
        for record in epochs
    )
    return _write_csv(path, ["epoch", "step", *keys], rows)


def _plot_losses(run: RunInfo, epochs: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """The article's chart: generator and both discriminator losses against the epoch."""
    # Imported here: matplotlib is slow to import and only export needs it. Figure plus the
    # Agg canvas avoids pyplot's global state and whatever backend the user configured.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    marker = "o" if len(epochs) <= 30 else None  # a lone epoch must still show up
    for key, label in LOSS_SERIES:
        points = [(record["epoch"], record[key]) for record in epochs if key in record]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, label=label, marker=marker, markersize=3)
    axes.set_xlabel("Epoch")
    axes.set_ylabel("Loss")
    # matplotlib reads $...$ as mathematics: a run name's dollar signs are shown as typed
    name = run.name.replace("$", r"\$")
    axes.set_title(f"{name} (run {run.id}): losses per epoch")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path


def _timeline_indices(count: int, limit: int = TIMELINE_MAX) -> list[int]:
    """Up to ``limit`` evenly spaced indices into ``count`` items, always the first and last."""
    if count <= limit:
        return list(range(count))
    # With count > limit the spacing exceeds 1, so rounding never yields duplicates.
    return [int(i) for i in np.linspace(0, count - 1, limit).round()]


def _label_font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=14)
    except TypeError:  # Pillow < 10.1 has only the fixed-size bitmap font
        return ImageFont.load_default()


def _grid_timeline(grids: Sequence[tuple[int, int, Path]], path: Path) -> Path:
    """Put the grid pictures of up to 10 epochs side by side, each labelled with its epoch.

    Drawn with Pillow, not matplotlib, so every grid keeps its exact pixels.
    """
    chosen = [grids[i] for i in _timeline_indices(len(grids))]
    tiles = []
    for epoch, _step, image_path in chosen:
        with Image.open(image_path) as image:
            tiles.append((f"epoch {epoch}", image.convert("RGB")))

    font = _label_font()
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    boxes = [measure.textbbox((0, 0), label, font=font) for label, _ in tiles]
    label_height = max(box[3] for box in boxes) + 6
    gap = 8
    tile_width = max(max(image.width for _, image in tiles), *(box[2] + 4 for box in boxes))
    tile_height = max(image.height for _, image in tiles)

    canvas = Image.new(
        "RGB",
        (len(tiles) * (tile_width + gap) + gap, tile_height + label_height + 2 * gap),
        "white",
    )
    draw = ImageDraw.Draw(canvas)
    for index, ((label, image), box) in enumerate(zip(tiles, boxes, strict=True)):
        left = gap + index * (tile_width + gap)
        draw.text((left + (tile_width - box[2]) // 2, gap), label, fill="black", font=font)
        canvas.paste(image, (left + (tile_width - image.width) // 2, gap + label_height))
    canvas.save(path, format="PNG")
    return path


def _local_time(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def _config_cell(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    return "-" if value is None else str(value)


def _epochs_cell(store: RunStore, run: RunInfo) -> str:
    """Epochs recorded, and of how many when the config says (a user's loop may not)."""
    done = len(store.epoch_metrics(run.id))
    planned = run.config.get("epochs")
    return f"{done}/{planned}" if isinstance(planned, int) else str(done)


def runs_table(store: RunStore, runs: Sequence[RunInfo]) -> str:
    """A fixed-width table of runs for ``ganwatch runs``, one line per run, widths fitted."""
    if not runs:
        return "(no runs)"
    rows = [
        (
            str(run.id),
            run.name,
            store.live_status(run),
            _config_cell(run.config, "preset"),
            _config_cell(run.config, "dataset"),
            _epochs_cell(store, run),
            _local_time(run.created),
        )
        for run in runs
    ]
    widths = [max(len(cells[i]) for cells in (TABLE_COLUMNS, *rows)) for i in range(7)]

    def line(cells: Sequence[str]) -> str:
        # The id is right-aligned so that ids of different lengths line up as numbers.
        parts = [cells[0].rjust(widths[0])]
        parts += [cell.ljust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(TABLE_COLUMNS), *(line(cells) for cells in rows)])


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    if isinstance(value, (dict, list)):
        return repr(value)
    return str(value)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def run_summary(store: RunStore, run: RunInfo) -> str:
    """A readable page about one run for ``ganwatch show``."""
    epochs = store.epoch_metrics(run.id)
    grids = store.images(run.id, "grid")
    events = store.events(run.id)
    end = run.finished if run.finished is not None else run.updated

    lines = [
        f"run {run.id}: {run.name}",
        f"  status:   {store.live_status(run)}",
        f"  created:  {_local_time(run.created)}",
        f"  updated:  {_local_time(run.updated)}",
        f"  finished: {_local_time(run.finished)}",
        f"  duration: {_duration(end - run.created)}",
        f"  folder:   {store.root / 'runs' / str(run.id)}",
        "config:",
    ]
    lines += [f"  {key} = {_format_value(run.config[key])}" for key in sorted(run.config)]
    if not run.config:
        lines.append("  (empty)")
    lines.append(
        f"recorded: {store.step_count(run.id)} steps, {len(epochs)} epochs, "
        f"{len(grids)} grid images"
    )
    if epochs:
        last = epochs[-1]
        lines.append(f"last epoch: {last['epoch']} (step {last['step']})")
        lines += [
            f"  {key} = {_format_value(value)}"
            for key, value in sorted(last.items())
            if key not in ("epoch", "step")
        ]
    if events:
        shown = events[-RECENT_EVENTS:]
        lines.append(f"events (last {len(shown)} of {len(events)}):")
        for event in shown:
            step = "-" if event["step"] is None else str(event["step"])
            payload = event_text(event["kind"], event["payload"])
            text = f"  {_local_time(event['time'])}  step {step}  {event['kind']}  {payload}"
            lines.append(text.rstrip())
    else:
        lines.append("events: none")
    return "\n".join(lines)


def event_text(kind: str, payload: Mapping[str, Any]) -> str:
    """One readable line of an event's payload (verdicts and bands summarised)."""
    if kind == "verdict":
        return f"{payload.get('kind')} (confidence {payload.get('confidence', 0):.2f})"
    if kind == "reference":
        return f"real-data bands at {payload.get('n')} samples, {payload.get('draws')} draws"
    return " ".join(
        f"{k}={_format_value(v)}" for k, v in payload.items() if not isinstance(v, (dict, list))
    )


def diagnosis_timeline(store: RunStore, run: RunInfo) -> str:
    """``ganwatch diagnose RUN``: each verdict change with its evidence and remedies."""
    events = store.events(run.id, "verdict")
    lines = [f"run {run.id}: {run.name} ({run.status})"]
    if not events:
        lines.append(
            "  no verdicts recorded (the run has no finished epoch, or predates the monitor)"
        )
        return "\n".join(lines)
    for event in events:
        v = event["payload"]
        since = f", since step {v['since_step']}" if v.get("since_step") is not None else ""
        held = f" ({held_note(v)})" if held_note(v) else ""
        lines.append(
            f"epoch {v.get('epoch')} (step {v.get('step')}): {v['kind']}"
            f"  confidence {v.get('confidence', 0):.2f}{since}{held}"
        )
        for e in v.get("evidence", []):
            lines.append(
                f"    evidence: {e['metric']} = {e['value']:.4g} "
                f"{e['op']} {e['threshold']:.4g}  {e.get('note', '')}".rstrip()
            )
        for r in v.get("remedies", []):
            flag = f"  [{r['flag']}]" if r.get("flag") else ""
            lines.append(f"    try: {r['text']}{flag}")
    return "\n".join(lines)
