"""What a (re)run of a sweep must do with each cell, decided from the store alone.

The store is the sweep's only memory: a cell is done when the latest run with its name
ended, so rerunning the same command after Ctrl-C, a crash or a power cut picks up where it
stopped, with nothing but the store to go on. A run's recorded config is compared with the
cell's, so a changed YAML never silently mixes old and new runs in one table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ganwatch.config import ConfigError, TrainConfig
from ganwatch.store import RunInfo, RunStore
from ganwatch.sweep.spec import Cell, Sweep
from ganwatch.training.checkpoint import checkpoint_path

# A run in one of these will not continue: its cell is done. ("failed" is terminal for the
# store, but a sweep retries it: the failure may have been the machine, not the config.)
ENDED = frozenset({"finished", "stopped", "diverged"})

SKIP, RESUME, NEW = "skip", "resume", "new"


@dataclass(frozen=True)
class Planned:
    """One cell and what to do with it: skip (ended), resume its run, or start a new run."""

    cell: Cell
    action: str
    run: RunInfo | None  # the cell's latest run, if any
    why: str  # for the progress line: "finished earlier", "no checkpoint", ...


def latest_runs(store: RunStore, names: Iterable[str]) -> dict[str, RunInfo]:
    """The newest run of each name (the one the summary reports), read in one query."""
    wanted = set(names)
    latest: dict[str, RunInfo] = {}
    for run in store.list_runs():
        if run.name in wanted and (run.name not in latest or run.id > latest[run.name].id):
            latest[run.name] = run
    return latest


def config_changes(recorded: dict[str, Any], config: TrainConfig) -> list[str]:
    """``["epochs: 2 -> 3"]``: where a run's recorded config differs from its cell's.

    A key the run predates counts as its default, so adding a config field to ganwatch does
    not make every old run look changed.
    """
    changes = []
    for field in dataclasses.fields(TrainConfig):
        now = getattr(config, field.name)
        then = recorded.get(field.name, field.default)
        if then != now:
            changes.append(f"{field.name}: {then!r} -> {now!r}")
    return changes


def _has_checkpoint(store: RunStore, run: RunInfo) -> bool:
    return checkpoint_path(store.root / "runs" / str(run.id)).is_file()


def _plan_one(store: RunStore, cell: Cell, run: RunInfo | None, changed: bool) -> Planned:
    if run is None:
        return Planned(cell, NEW, None, "new")
    if changed:
        return Planned(cell, NEW, run, f"new run: the config changed since run {run.id}")
    if run.status in ENDED:
        return Planned(cell, SKIP, run, f"{run.status} earlier (run {run.id}), skipped")
    # interrupted, failed, or "running" in a store whose sweep lock we hold: a dead run.
    if _has_checkpoint(store, run):
        return Planned(cell, RESUME, run, f"resumed run {run.id}, which was {run.status}")
    return Planned(cell, NEW, run, f"new run: run {run.id} was {run.status} before a checkpoint")


def plan_sweep(sweep: Sweep, store: RunStore, *, restart_changed: bool = False) -> list[Planned]:
    """Decide every cell's action; refuse (listing the cells) when recorded configs differ.

    Raises ConfigError naming each changed cell and key unless ``restart_changed``, in which
    case those cells start new runs of the same name (the old runs stay in the store).
    """
    latest = latest_runs(store, (cell.name for cell in sweep.cells))
    changed: dict[str, list[str]] = {}
    for cell in sweep.cells:
        run = latest.get(cell.name)
        if run is not None:
            diff = config_changes(run.config, cell.config)
            if diff:
                changed[cell.name] = diff
    if changed and not restart_changed:
        lines = [
            f"  {name} (run {latest[name].id}): {'; '.join(diff)}" for name, diff in changed.items()
        ]
        raise ConfigError(
            f"{sweep.path}: {len(changed)} cell(s) differ from the runs recorded for them "
            "(the file changed since they ran):\n"
            + "\n".join(lines)
            + "\nrerun with --restart-changed to start those cells as new runs "
            "(the old runs stay in the store), or undo the change"
        )
    return [
        _plan_one(store, cell, latest.get(cell.name), cell.name in changed) for cell in sweep.cells
    ]
