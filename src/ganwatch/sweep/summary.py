"""A sweep's results as tables, read from the store (never from memory).

Reading the store means the table is the same whether the sweep just ran, ran last week in
another process, or is half done: each cell shows its latest run as recorded. Cells that
differ only in ``seed`` are also grouped, with mean and standard deviation of each number
and the count of each verdict, since a remedy is only judged over several seeds.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ganwatch.catalog import DATASETS
from ganwatch.store import RunStore
from ganwatch.sweep.plan import ENDED, latest_runs
from ganwatch.sweep.spec import Cell, Sweep, format_value

FORMATS = ("text", "markdown", "json")
NOT_RUN = "not run"
MISSING = "-"


def _last(epochs: list[dict], key: str) -> float | None:
    """The value at the latest epoch that recorded ``key``; NaN or inf count as missing."""
    for record in reversed(epochs):
        if key in record:
            value = record[key]
            return float(value) if math.isfinite(value) else None
    return None


def _time(epochs: list[dict]) -> float | None:
    """Seconds spent training and measuring, summed over the recorded epochs (a resumed
    run's re-trained epochs replace their first records, so nothing counts twice)."""
    parts = [
        record[key]
        for record in epochs
        for key in ("time/epoch_s", "time/metrics_s")
        if key in record and math.isfinite(record[key])
    ]
    return sum(parts) if parts else None


def _percent(epochs: list[dict], key: str) -> float | None:
    value = _last(epochs, key)
    return None if value is None else 100.0 * value


@dataclass(frozen=True)
class Column:
    """A numeric column: its JSON key, header, which data it applies to and its formats."""

    key: str
    title: str
    data: str  # how the runs are measured (DatasetSpec.measure), or "any"
    read: Callable[[list[dict]], float | None]
    fmt: str  # one run's value
    mean_fmt: str  # mean and std over seeds


COLUMNS = (
    Column("ndb_k", "NDB/K", "image", lambda e: _last(e, "metric/ndb_k"), ".2f", ".2f"),
    Column(
        "classes_covered",
        "classes",
        "image",
        lambda e: _last(e, "metric/classes_covered"),
        ".0f",
        ".1f",
    ),
    Column("fid", "FID", "image", lambda e: _last(e, "metric/fid"), ".3g", ".3g"),
    Column(
        "modes_captured",
        "modes",
        "points",
        lambda e: _last(e, "metric/modes_captured"),
        ".0f",
        ".1f",
    ),
    Column(
        "high_quality_pct",
        "HQ %",
        "points",
        lambda e: _percent(e, "metric/high_quality"),
        ".1f",
        ".1f",
    ),
    Column(
        "stacked_modes",
        "modes /1000",
        "stacked",
        lambda e: _last(e, "metric/stacked_modes"),
        ".0f",
        ".0f",
    ),
    Column("stacked_kl", "KL", "stacked", lambda e: _last(e, "metric/stacked_kl"), ".2f", ".2f"),
    Column("time_s", "time s", "any", _time, ".1f", ".1f"),
)


def _data_of(dataset: str) -> str:
    """Which columns a dataset's runs have: toy mode counts, Stacked MNIST's, or image metrics."""
    spec = DATASETS.get(dataset)
    return spec.measure if spec else "image"


@dataclass
class CellRow:
    """One cell's latest run as recorded: status, final verdict and final numbers."""

    cell: Cell
    run_id: int | None = None
    status: str = NOT_RUN
    verdict: str | None = None
    numbers: dict[str, float | None] = field(default_factory=dict)
    modes_total: float | None = None  # 8 on the ring, 25 on the grid


@dataclass
class GroupRow:
    """Cells equal but for their seed, with each number's mean, std and count over seeds."""

    values: dict[str, Any]
    rows: list[CellRow]

    def stats(self, key: str) -> tuple[float, float | None, int] | None:
        """(mean, sample std or None for one value, how many seeds had a value)."""
        numbers = [r.numbers.get(key) for r in self.rows]
        present = [x for x in numbers if x is not None]
        if not present:
            return None
        std = statistics.stdev(present) if len(present) > 1 else None
        return statistics.fmean(present), std, len(present)

    def verdicts(self) -> Counter:
        return Counter(r.verdict for r in self.rows if r.verdict is not None)

    def done(self) -> int:
        return sum(r.status in ENDED for r in self.rows)


def columns_for(sweep: Sweep) -> list[Column]:
    """The toy columns when any cell trains on ring/grid, the image ones when any does not."""
    kinds = {_data_of(c.config.dataset) for c in sweep.cells}
    return [col for col in COLUMNS if col.data == "any" or col.data in kinds]


def cell_rows(sweep: Sweep, store: RunStore) -> list[CellRow]:
    """One row per cell, in grid order, from the latest run of each cell's name."""
    latest = latest_runs(store, (cell.name for cell in sweep.cells))
    rows = []
    for cell in sweep.cells:
        run = latest.get(cell.name)
        if run is None:
            rows.append(CellRow(cell))
            continue
        epochs = store.epoch_metrics(run.id)
        verdicts = store.events(run.id, "verdict")
        rows.append(
            CellRow(
                cell,
                run.id,
                run.status,
                verdicts[-1]["payload"].get("kind") if verdicts else None,
                {col.key: col.read(epochs) for col in COLUMNS},
                _last(epochs, "metric/modes"),
            )
        )
    return rows


def group_rows(sweep: Sweep, rows: Sequence[CellRow]) -> list[GroupRow]:
    """Group cells that differ only in ``seed`` (none when seed is not a grid key)."""
    if "seed" not in sweep.grid or len(sweep.grid["seed"]) < 2:
        return []
    groups: dict[tuple, GroupRow] = {}
    for row in rows:
        values = {k: v for k, v in row.cell.values.items() if k != "seed"}
        key = tuple(format_value(v) for v in values.values())
        groups.setdefault(key, GroupRow(values, [])).rows.append(row)
    return list(groups.values())


# -- rendering ----------------------------------------------------------------------------


def _number(value: float | None, fmt: str) -> str:
    return MISSING if value is None else format(value, fmt)


def _cell_numbers(row: CellRow, columns: list[Column]) -> list[str]:
    out = []
    for col in columns:
        text = _number(row.numbers.get(col.key), col.fmt)
        if col.key == "modes_captured" and text != MISSING and row.modes_total:
            text += f"/{row.modes_total:.0f}"
        out.append(text)
    return out


def _mean_std(group: GroupRow, col: Column) -> str:
    stats = group.stats(col.key)
    if stats is None:
        return MISSING
    mean, std, n = stats
    text = format(mean, col.mean_fmt)
    if std is not None:
        text += f" ± {format(std, col.mean_fmt)}"
    return text + (f" (n={n})" if n < len(group.rows) else "")


def _verdict_counts(group: GroupRow) -> str:
    counts = group.verdicts().most_common()
    return ", ".join(f"{kind} {n}/{len(group.rows)}" for kind, n in counts) or MISSING


def _cell_table(sweep: Sweep, rows: list[CellRow], columns: list[Column]) -> tuple[list, list]:
    header = [*sweep.keys, "status", "verdict", *(c.title for c in columns)]
    body = [
        [
            *(format_value(v) for v in row.cell.values.values()),
            row.status,
            row.verdict or MISSING,
            *_cell_numbers(row, columns),
        ]
        for row in rows
    ]
    return header, body


def _group_table(sweep: Sweep, groups: list[GroupRow], columns: list[Column]) -> tuple[list, list]:
    keys = [k for k in sweep.keys if k != "seed"]
    header = [*keys, "seeds", "done", "verdicts", *(c.title for c in columns)]
    body = [
        [
            *(format_value(v) for v in g.values.values()),
            str(len(g.rows)),
            f"{g.done()}/{len(g.rows)}",
            _verdict_counts(g),
            *(_mean_std(g, c) for c in columns),
        ]
        for g in groups
    ]
    return header, body


def _numeric(column: list[str]) -> bool:
    """Right-align a column whose cells all start like numbers (or are missing)."""
    return all(c == MISSING or c[:1].isdigit() or c[:1] == "-" for c in column)


def _text_table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in (header, *body)) for i in range(len(header))]
    right = [_numeric([r[i] for r in body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), *(line(r) for r in body)])


def _markdown_table(header: list[str], body: list[list[str]]) -> str:
    right = [_numeric([r[i] for r in body]) for i in range(len(header))]
    rule = ["---:" if r else "---" for r in right]
    return "\n".join("| " + " | ".join(r) + " |" for r in (header, rule, *body))


def _headline(sweep: Sweep, rows: list[CellRow]) -> str:
    counts = Counter(r.status for r in rows)
    parts = ", ".join(f"{n} {status}" for status, n in counts.most_common())
    return f"sweep {sweep.name} ({sweep.path}): {len(rows)} cells: {parts}"


def _json(sweep: Sweep, store: RunStore, rows: list[CellRow], groups: list[GroupRow]) -> str:
    cells = [
        {
            "name": r.cell.name,
            "grid": r.cell.values,
            "run_id": r.run_id,
            "status": r.status,
            "verdict": r.verdict,
            **r.numbers,
            "modes": r.modes_total,
        }
        for r in rows
    ]
    aggregated = [
        {
            "grid": g.values,
            "runs": [r.cell.name for r in g.rows],
            "done": g.done(),
            "verdicts": dict(g.verdicts()),
            "metrics": {
                col.key: dict(
                    zip(("mean", "std", "n"), g.stats(col.key) or (None, None, 0), strict=True)
                )
                for col in COLUMNS
            },
        }
        for g in groups
    ]
    data = {
        "sweep": sweep.name,
        "file": str(sweep.path),
        "store": str(store.root),
        "cells": cells,
        "groups": aggregated,
    }
    return json.dumps(data, indent=2)


def render_summary(sweep: Sweep, store: RunStore, fmt: str = "text") -> str:
    """The per-cell table and, when seed is a grid key, the table over seeds."""
    if fmt not in FORMATS:
        raise ValueError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    rows = cell_rows(sweep, store)
    groups = group_rows(sweep, rows)
    if fmt == "json":
        return _json(sweep, store, rows, groups)
    columns = columns_for(sweep)
    table = _markdown_table if fmt == "markdown" else _text_table
    parts = [] if fmt == "markdown" else [_headline(sweep, rows)]
    parts.append(table(*_cell_table(sweep, rows, columns)))
    if groups:
        parts.append("Over seeds (mean ± sample std):")
        parts.append(table(*_group_table(sweep, groups, columns)))
    return "\n\n".join(parts)
