"""``ganwatch sweep FILE``: validate, run what is not done, print the summary; exit codes.

Kept apart from the argument parsing in ``ganwatch.cli`` so the command can be called from
Python (and tested) with plain arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ganwatch.store import RunStore
from ganwatch.sweep.plan import ENDED
from ganwatch.sweep.runner import SweepInterrupted, run_sweep
from ganwatch.sweep.spec import load_sweep
from ganwatch.sweep.summary import render_summary


def _rerun_hint(path: Path, store: RunStore, jobs: int, engine: str, address: str | None) -> str:
    flags = f" --jobs {jobs}" if jobs > 1 else ""
    flags += f" --engine {engine}" if engine != "local" else ""
    flags += f" --address {address}" if address else ""
    return f"ganwatch sweep {path} --store {store.root}{flags}"


def sweep_command(
    path: str | Path,
    *,
    store: str | None = None,
    jobs: int = 1,
    summary_only: bool = False,
    fmt: str = "text",
    restart_changed: bool = False,
    verbose: bool = False,
    engine: str = "local",
    address: str | None = None,
) -> int:
    """Run the sweep in ``path`` (or only summarise it) and return the exit code.

    0: every cell ended (finished, stopped or diverged: all results to compare); 1: some
    cell failed; 130: Ctrl-C, after marking the runs in flight and saying how to go on.
    Bad files raise ConfigError, which the CLI turns into exit code 2.
    """
    sweep = load_sweep(path)  # validates everything before any store is touched
    if summary_only:
        with RunStore(store, read_only=True) as readable:
            print(render_summary(sweep, readable, fmt))
        return 0
    with RunStore(store) as writable:
        try:
            outcomes = run_sweep(
                sweep,
                writable,
                jobs=jobs,
                restart_changed=restart_changed,
                verbose=verbose,
                engine=engine,
                address=address,
            )
        except SweepInterrupted as stop:
            flight = f"; marked interrupted: {', '.join(stop.runs)}" if stop.runs else ""
            hint = _rerun_hint(sweep.path, writable, jobs, engine, address)
            print(
                f"sweep {sweep.name} stopped: {stop.done} of {stop.total} cells done{flight}\n"
                f"run the same command again to continue: {hint}",
                file=sys.stderr,
            )
            return 130
        print(render_summary(sweep, writable, fmt))
    return 0 if all(o.status in ENDED for o in outcomes) else 1
