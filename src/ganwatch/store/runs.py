"""Runs in the store: their records (config, status, steps, epochs, events, images).

Layout of a store root::

    <root>/runs.sqlite               runs, step/epoch metrics, events, image index
    <root>/runs/<run_id>/<kind>/epoch_0001.png
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ganwatch.catalog import STATUSES, TERMINAL_STATUSES
from ganwatch.images import write_png
from ganwatch.store.database import Database
from ganwatch.store.lock import is_trained

#: A run updated this recently is not judged dead: its process may be taking its lock.
DEAD_AFTER_S = 10.0
_KIND_PATTERN = re.compile(r"^[A-Za-z0-9_.-]+$")


class RunNotFoundError(KeyError):
    """No run matches the given id or name.

    Subclasses KeyError so callers can treat the store like a mapping, but prints its
    message plainly (KeyError would show it in quotes).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "run not found"


@dataclass(frozen=True)
class RunInfo:
    """One row of the ``runs`` table, with ``config`` already decoded from JSON."""

    id: int
    name: str
    status: str
    config: dict
    created: float
    updated: float
    finished: float | None


def _encode(value: Any) -> float | None:
    """Convert a metric to a float for SQLite; NaN becomes NULL (SQLite cannot hold NaN).

    ``float()`` also accepts NumPy scalars and one-element torch tensors. Infinities are
    stored as they are: SQLite keeps them as IEEE doubles.
    """
    number = float(value)
    return None if math.isnan(number) else number


def _decode(value: float | None) -> float:
    """Inverse of :func:`_encode`: NULL is read back as NaN."""
    return math.nan if value is None else float(value)


def _to_json(data: Mapping[str, Any] | None) -> str:
    """Serialise a config or payload; unknown objects (paths, dtypes) become strings.

    A run record must never make training crash because some config value is not JSON.
    """
    return json.dumps(dict(data or {}), default=str)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r}; expected one of {', '.join(STATUSES)}")


def _check_kind(kind: str) -> None:
    # The image kind becomes a folder name, so it must not escape the run folder.
    if not _KIND_PATTERN.match(kind) or kind in {".", ".."}:
        raise ValueError(f"image kind must be a plain name (letters, digits, _.-), got {kind!r}")


class RunStore(Database):
    """Read and write runs in one store root; safe to use from several processes at once."""

    def _not_found(self, ref: int | str) -> RunNotFoundError:
        return RunNotFoundError(f"no run {ref!r} in the store at {self.db_path}")

    def _touch(self, conn: sqlite3.Connection, run_id: int, now: float) -> None:
        """Mark the run as updated; this also checks that it exists, for a clear error."""
        cursor = conn.execute("UPDATE runs SET updated = ? WHERE id = ?", (now, run_id))
        if cursor.rowcount == 0:
            raise self._not_found(run_id)

    # -- runs ----------------------------------------------------------------------------

    def create_run(self, name: str, config: Mapping[str, Any], status: str = "running") -> int:
        """Add a run and return its id. Names need not be unique; the newest one wins lookups."""
        _check_status(status)
        now = time.time()
        finished = now if status in TERMINAL_STATUSES else None
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (name, status, config, created, updated, finished)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, status, _to_json(config), now, now, finished),
            )
            return int(cursor.lastrowid)

    def set_status(self, run_id: int, status: str) -> None:
        """Change a run's status; terminal statuses stamp ``finished``, others clear it."""
        _check_status(status)
        now = time.time()
        finished = now if status in TERMINAL_STATUSES else None
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET status = ?, updated = ?, finished = ? WHERE id = ?",
                (status, now, finished, run_id),
            )
            if cursor.rowcount == 0:
                raise self._not_found(run_id)

    def update_config(self, run_id: int, config: Mapping[str, Any]) -> None:
        """Replace a run's config, e.g. once the trainer knows the resolved device or sizes."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET config = ?, updated = ? WHERE id = ?",
                (_to_json(config), time.time(), run_id),
            )
            if cursor.rowcount == 0:
                raise self._not_found(run_id)

    def live_status(self, run: RunInfo) -> str:
        """The run's status as it truly is: ``interrupted`` for a run recorded as running that
        no live process trains (killed, or its machine went down), else the recorded one."""
        if run.status != "running" or time.time() - run.updated < DEAD_AFTER_S:
            return run.status
        return run.status if is_trained(self.root / "runs" / str(run.id)) else "interrupted"

    def mark_dead_runs(self) -> list[int]:
        """Record as interrupted every run marked running that no live process trains; the
        ids changed. (Writers call this; readers show :meth:`live_status`.)"""
        dead = [run.id for run in self.list_runs() if self.live_status(run) != run.status]
        for run_id in dead:
            self.log_event(run_id, "interrupted", {"reason": "no process was training it"})
            self.set_status(run_id, "interrupted")
        return dead

    def delete_verdicts_after(self, run_id: int, step: int) -> None:
        """Forget the verdicts of steps after ``step``: a resumed run trains them again, and
        would otherwise record each verdict twice."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM events WHERE run_id = ? AND kind = 'verdict' AND step > ?",
                (run_id, step),
            )

    def run_dir(self, run_id: int) -> Path:
        """The folder for a run's files, created on first use (not in a read-only store)."""
        path = self.root / "runs" / str(int(run_id))
        if not self.read_only:
            path.mkdir(parents=True, exist_ok=True)
        return path

    def get_run(self, ref: int | str) -> RunInfo:
        """Find a run by id (an int or a string of digits) or else by name (the newest one)."""
        is_id = isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit())
        columns = "id, name, status, config, created, updated, finished"
        rows: list[tuple] = []
        if is_id:
            rows = self._query(f"SELECT {columns} FROM runs WHERE id = ?", (int(ref),))
        if not rows and isinstance(ref, str):
            # A run may be named "42"; such a name is found when no run has id 42.
            rows = self._query(
                f"SELECT {columns} FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1", (ref,)
            )
        if not rows:
            raise self._not_found(ref)
        return _run_info(rows[0])

    def list_runs(self) -> list[RunInfo]:
        """All runs, newest first."""
        rows = self._query(
            "SELECT id, name, status, config, created, updated, finished FROM runs"
            " ORDER BY created DESC, id DESC"
        )
        return [_run_info(row) for row in rows]

    # -- metrics and events --------------------------------------------------------------

    def log_steps(self, run_id: int, rows: Iterable[tuple[int, Mapping[str, float]]]) -> None:
        """Record many steps' metrics in one transaction.

        Rows replace earlier values for the same (step, key), so a run resumed from a
        checkpoint that re-records the steps after it overwrites them instead of
        duplicating. Batching is what keeps logging cheap: one commit per call, not per step.
        """
        records = [
            (run_id, int(step), key, _encode(value))
            for step, values in rows
            for key, value in values.items()
        ]
        with self._write() as conn:
            self._touch(conn, run_id, time.time())
            conn.executemany(
                "INSERT OR REPLACE INTO step_metrics (run_id, step, key, value)"
                " VALUES (?, ?, ?, ?)",
                records,
            )

    def log_epoch(self, run_id: int, epoch: int, step: int, values: Mapping[str, float]) -> None:
        """Record one epoch's summary metrics, replacing any earlier record of that epoch."""
        records = [
            (run_id, int(epoch), int(step), key, _encode(value)) for key, value in values.items()
        ]
        with self._write() as conn:
            self._touch(conn, run_id, time.time())
            conn.executemany(
                "INSERT OR REPLACE INTO epoch_metrics (run_id, epoch, step, key, value)"
                " VALUES (?, ?, ?, ?, ?)",
                records,
            )

    def log_event(
        self,
        run_id: int,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        step: int | None = None,
    ) -> None:
        """Record something that happened once (a warning, a checkpoint, a resume)."""
        now = time.time()
        step_value = None if step is None else int(step)
        with self._write() as conn:
            self._touch(conn, run_id, now)
            conn.execute(
                "INSERT INTO events (run_id, step, time, kind, payload) VALUES (?, ?, ?, ?, ?)",
                (run_id, step_value, now, kind, _to_json(payload)),
            )

    def save_image(self, run_id: int, kind: str, epoch: int, step: int, image: np.ndarray) -> Path:
        """Write ``image`` as ``<run_dir>/<kind>/epoch_0001.png`` and index it; returns the path.

        The file is written before the row, so an indexed image always exists on disk. The
        index stores the path relative to the store root, so a store folder can be moved.
        """
        _check_kind(kind)
        path = self.run_dir(run_id) / kind / f"epoch_{int(epoch):04d}.png"
        write_png(path, image)
        relative = path.relative_to(self.root).as_posix()
        with self._write() as conn:
            self._touch(conn, run_id, time.time())
            conn.execute(
                "INSERT OR REPLACE INTO images (run_id, kind, epoch, step, path)"
                " VALUES (?, ?, ?, ?, ?)",
                (run_id, kind, int(epoch), int(step), relative),
            )
        return path

    def step_metrics(
        self, run_id: int, keys: Sequence[str] | None = None, *, after: int | None = None
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each key's series as (steps int64, values float64) sorted by step; NaN where logged.

        ``after`` keeps only steps greater than it, so a live viewer fetches just what is new.
        """
        sql = "SELECT key, step, value FROM step_metrics WHERE run_id = ?"
        params: list[Any] = [run_id]
        if after is not None:
            sql += " AND step > ?"
            params.append(int(after))
        if keys is not None:
            wanted = list(keys)
            if not wanted:
                return {}
            sql += f" AND key IN ({', '.join('?' * len(wanted))})"
            params += wanted
        rows = self._query(sql + " ORDER BY key, step", params)
        series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for key, group in itertools.groupby(rows, key=lambda row: row[0]):
            items = list(group)
            steps = np.fromiter((row[1] for row in items), dtype=np.int64, count=len(items))
            values = np.fromiter(
                (_decode(row[2]) for row in items), dtype=np.float64, count=len(items)
            )
            series[key] = (steps, values)
        return series

    def step_count(self, run_id: int) -> int:
        """How many distinct steps have metrics, without loading them all."""
        return int(
            self._query(
                "SELECT COUNT(DISTINCT step) FROM step_metrics WHERE run_id = ?", (run_id,)
            )[0][0]
        )

    def last_step(self, run_id: int) -> int:
        """The highest step with metrics (0 before the first), without loading them all."""
        rows = self._query("SELECT MAX(step) FROM step_metrics WHERE run_id = ?", (run_id,))
        return int(rows[0][0] or 0)

    def epoch_metrics(self, run_id: int) -> list[dict]:
        """One dict per epoch, ``{"epoch": e, "step": s, key: value, ...}``, sorted by epoch."""
        rows = self._query(
            "SELECT epoch, step, key, value FROM epoch_metrics WHERE run_id = ?"
            " ORDER BY epoch, key",
            (run_id,),
        )
        epochs: dict[int, dict] = {}
        for epoch, step, key, value in rows:
            record = epochs.setdefault(epoch, {"epoch": epoch, "step": step})
            record["step"] = max(record["step"], step)
            record[key] = _decode(value)
        return list(epochs.values())

    def images(self, run_id: int, kind: str = "grid") -> list[tuple[int, int, Path]]:
        """(epoch, step, absolute path) of a run's images of one kind, sorted by epoch."""
        rows = self._query(
            "SELECT epoch, step, path FROM images WHERE run_id = ? AND kind = ? ORDER BY epoch",
            (run_id, kind),
        )
        return [(epoch, step, self.root / path) for epoch, step, path in rows]

    def image_kinds(self, run_id: int) -> list[str]:
        """The kinds of image a run has (``grid``, ``ndb``, ...), sorted by name."""
        rows = self._query(
            "SELECT DISTINCT kind FROM images WHERE run_id = ? ORDER BY kind", (run_id,)
        )
        return [kind for (kind,) in rows]

    def events(self, run_id: int, kind: str | None = None) -> list[dict]:
        """A run's events in the order they were logged, optionally of one kind only."""
        sql = "SELECT id, step, time, kind, payload FROM events WHERE run_id = ?"
        params: list[Any] = [run_id]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        rows = self._query(sql + " ORDER BY id", params)
        return [
            {"id": id_, "step": step, "time": when, "kind": kind_, "payload": json.loads(payload)}
            for id_, step, when, kind_, payload in rows
        ]


def _run_info(row: tuple) -> RunInfo:
    run_id, name, status, config, created, updated, finished = row
    return RunInfo(
        id=run_id,
        name=name,
        status=status,
        config=json.loads(config),
        created=created,
        updated=updated,
        finished=finished,
    )
