"""Running a sweep's cells: one after another in this process, or N at once in subprocesses.

Either way each cell is an ordinary ganwatch run (``train`` or ``resume``), so it records
exactly what ``ganwatch train`` records, and Ctrl-C marks it ``interrupted`` the way
``train`` does. A lock file per sweep and store makes sure only one ``ganwatch sweep`` works
on a sweep at a time, which is what lets a rerun treat a ``running`` cell as dead.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import yaml

from ganwatch.config import ConfigError
from ganwatch.store import RunStore
from ganwatch.store.lock import hold_pid_lock
from ganwatch.sweep.plan import ENDED, NEW, RESUME, SKIP, Planned, latest_runs, plan_sweep
from ganwatch.sweep.spec import Sweep

POLL_S = 0.2
CHILD_GRACE_S = 120.0  # how long an interrupted child gets to mark its run and exit
DEAD_REASON = "found running with no live sweep process"
ENGINES = ("local", "ray")


class SweepBusyError(OSError):
    """Another ``ganwatch sweep`` (or a cell it started) is working on this sweep and store."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the sweep; the cells that were training are marked interrupted."""

    def __init__(self, done: int, total: int, runs: list[str]) -> None:
        super().__init__(f"sweep stopped with {done} of {total} cells done")
        self.done, self.total, self.runs = done, total, runs


@dataclass
class Outcome:
    """What became of one cell in this invocation, for its progress line and the exit code."""

    planned: Planned
    status: str  # the run's status afterwards, "skipped" runs keep theirs
    run_id: int | None = None
    verdict: str | None = None
    seconds: float = 0.0
    error: str | None = None


# -- the lock -----------------------------------------------------------------------------


def lock_path(store: RunStore, name: str) -> Path:
    """``<store>/sweeps/<name>-<hash>.lock``: readable, and distinct for names that slug alike."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60]
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return store.root / "sweeps" / f"{slug}-{digest}.lock"


@contextlib.contextmanager
def sweep_lock(store: RunStore, name: str) -> Iterator[int | None]:
    """Hold an exclusive lock on the sweep while it trains; yield its file descriptor.

    The descriptor is passed on to subprocess cells, so the lock lasts while any of them
    still runs, even if this process is killed. The OS drops it when they all end (also on
    a crash or power cut), so a stale lock never blocks a rerun.
    """
    path = lock_path(store, name)
    try:
        fd = hold_pid_lock(path)
    except BlockingIOError:
        raise SweepBusyError(
            f"sweep {name!r} is already running on the store {store.root} "
            f"(lock {path}); wait for it, or stop it and run this again"
        ) from None
    try:
        yield fd
    finally:
        os.close(fd)


# -- one cell -----------------------------------------------------------------------------


def stored_verdict(store: RunStore, run_id: int) -> str | None:
    events = store.events(run_id, "verdict")
    return events[-1]["payload"].get("kind") if events else None


def _outcome_from_store(store: RunStore, planned: Planned, seconds: float) -> Outcome:
    """The cell's latest run as the store has it now: the truth, whoever trained it."""
    run = latest_runs(store, [planned.cell.name]).get(planned.cell.name)
    if run is None or (planned.action == NEW and planned.run and run.id == planned.run.id):
        return Outcome(planned, "failed", seconds=seconds, error="no run was created")
    return Outcome(planned, run.status, run.id, stored_verdict(store, run.id), seconds)


def run_in_process(store: RunStore, planned: Planned, *, verbose: bool) -> Outcome:
    """Train or resume the cell here. Without ``verbose`` its own output (verdict changes)
    is swallowed: the sweep prints one line per cell instead."""
    from ganwatch.training import resume, train

    started = time.perf_counter()
    output = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    try:
        with output:
            if planned.action == RESUME:
                assert planned.run is not None
                resume(store, planned.run.id, quiet=not verbose)
            else:
                train(planned.cell.config, store, name=planned.cell.name, quiet=not verbose)
    except Exception as exc:  # one broken cell must not stop the others
        outcome = _outcome_from_store(store, planned, time.perf_counter() - started)
        outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
        return outcome
    return _outcome_from_store(store, planned, time.perf_counter() - started)


def child_command(store: RunStore, planned: Planned, workdir: Path, *, verbose: bool) -> list[str]:
    """``python -m ganwatch train|resume ...`` for one cell; its config goes via a YAML file
    holding the cell's keys as written, so the child builds the very same config."""
    command = [sys.executable, "-m", "ganwatch"]
    if planned.action == RESUME:
        assert planned.run is not None
        command += ["resume", str(planned.run.id)]
    else:
        config_file = workdir / f"cell-{planned.cell.index}.yaml"
        config_file.write_text(yaml.safe_dump(planned.cell.overrides, sort_keys=False))
        command += ["train", "--config", str(config_file), "--name", planned.cell.name]
    command += ["--store", str(store.root)]
    return command if verbose else [*command, "--quiet"]


def _child_env(jobs: int) -> dict[str, str]:
    """Split the CPU threads between the cells unless the user chose a thread count."""
    env = dict(os.environ)
    if "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    return env


# -- the sweep ----------------------------------------------------------------------------


def _line(planned: Planned, total: int, text: str) -> str:
    return f"[{planned.cell.index}/{total}] {planned.cell.name} {text}"


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def outcome_line(outcome: Outcome, total: int) -> str:
    """``[3/20] ring/seed=3 finished: verdict mode_collapse, 41 s`` (or why it was skipped)."""
    planned = outcome.planned
    if planned.action == SKIP:
        return _line(planned, total, planned.why)
    text = f"{outcome.status}: verdict {outcome.verdict or 'none'}, {_seconds(outcome.seconds)}"
    if planned.run is not None:
        text += f"; {planned.why}"
    if outcome.error:
        text += f"; error: {outcome.error.strip().splitlines()[-1]}"
    return _line(planned, total, text)


def retire_dead_runs(store: RunStore, todo: list[Planned]) -> None:
    """Mark ``interrupted`` the runs left ``running`` by a sweep that died (a kill, a power
    cut): we hold the sweep's lock, so no live sweep trains them, and the store (and the
    dashboard) should not go on calling them running."""
    for planned in todo:
        run = planned.run
        if run is not None and run.status == "running":
            store.log_event(run.id, "interrupted", {"reason": DEAD_REASON})
            store.set_status(run.id, "interrupted")


class _Printer:
    """Progress goes to stderr so that stdout holds only the summary (for scripts)."""

    def __init__(self, stream: IO[str] | None) -> None:
        self.stream = stream

    def __call__(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)


def _run_sequential(
    store: RunStore,
    todo: list[Planned],
    total: int,
    say: _Printer,
    outcomes: list[Outcome],
    *,
    verbose: bool,
) -> None:
    """Each cell in this process, in grid order; outcomes are appended as cells end."""
    for planned in todo:
        try:
            outcome = run_in_process(store, planned, verbose=verbose)
        except KeyboardInterrupt:
            say(_line(planned, total, "interrupted"))
            raise SweepInterrupted(0, total, [planned.cell.name]) from None
        say(outcome_line(outcome, total))
        outcomes.append(outcome)


def _start_child(
    store: RunStore, planned: Planned, workdir: Path, lock_fd: int | None, jobs: int, verbose: bool
) -> tuple[subprocess.Popen, float, Path]:
    log = workdir / f"cell-{planned.cell.index}.log"
    with open(log, "wb") as handle:
        child = subprocess.Popen(
            child_command(store, planned, workdir, verbose=verbose),
            stdout=None if verbose else handle,
            stderr=None if verbose else subprocess.STDOUT,
            env=_child_env(jobs),
            pass_fds=() if lock_fd is None else (lock_fd,),
            start_new_session=True,  # Ctrl-C reaches the sweep, which forwards it once
        )
    return child, time.perf_counter(), log


def _child_outcome(
    store: RunStore, planned: Planned, code: int, seconds: float, log: Path
) -> Outcome:
    outcome = _outcome_from_store(store, planned, seconds)
    if code not in (0, 1):  # 1: diverged or stopped, a result like any other
        tail = log.read_text(errors="replace").strip() if log.is_file() else ""
        outcome.error = tail.splitlines()[-1] if tail else f"exit code {code}"
        if outcome.status == "running" or code == 2:
            outcome.status = "failed"
    return outcome


def _stop_children(running: dict[subprocess.Popen, tuple[Planned, float, Path]]) -> None:
    """Send each child one SIGINT (train then marks its run interrupted) and wait for it."""
    for child in running:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + CHILD_GRACE_S
    for child in running:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _run_parallel(
    store: RunStore,
    todo: list[Planned],
    total: int,
    say: _Printer,
    outcomes: list[Outcome],
    *,
    jobs: int,
    lock_fd: int | None,
    verbose: bool,
) -> None:
    """Up to ``jobs`` cells at once, started in grid order; outcomes appended as they end."""
    pending = list(todo)
    running: dict[subprocess.Popen, tuple[Planned, float, Path]] = {}
    with tempfile.TemporaryDirectory(prefix="ganwatch-sweep-") as tmp:
        workdir = Path(tmp)
        try:
            while pending or running:
                while pending and len(running) < jobs:
                    planned = pending.pop(0)
                    child, started, log = _start_child(
                        store, planned, workdir, lock_fd, jobs, verbose
                    )
                    running[child] = (planned, started, log)
                time.sleep(POLL_S)
                for child in [c for c in running if c.poll() is not None]:
                    planned, started, log = running.pop(child)
                    seconds = time.perf_counter() - started
                    outcome = _child_outcome(store, planned, child.returncode, seconds, log)
                    say(outcome_line(outcome, total))
                    outcomes.append(outcome)
        except KeyboardInterrupt:
            names = [planned.cell.name for planned, _, _ in running.values()]
            _stop_children(running)
            for planned, _, _ in running.values():
                say(_line(planned, total, "interrupted"))
            raise SweepInterrupted(0, total, names) from None


def run_sweep(
    sweep: Sweep,
    store: RunStore,
    *,
    jobs: int = 1,
    restart_changed: bool = False,
    verbose: bool = False,
    stream: IO[str] | None = None,
    engine: str = "local",
    address: str | None = None,
) -> list[Outcome]:
    """Run every cell that is not done yet, in grid order; return one Outcome per cell.

    ``jobs`` > 1 runs that many cells at once, each in its own ``python -m ganwatch``
    process; ``engine="ray"`` runs them as Ray Tune trials instead (on a local Ray, or the
    cluster at ``address``). Raises ConfigError (before training anything) when recorded
    configs differ from the file, SweepBusyError when the sweep is already running, and
    SweepInterrupted on Ctrl-C once the cells in flight are marked interrupted.
    """
    if jobs < 1:
        raise ValueError(f"--jobs: expected an integer >= 1, got {jobs}")
    if engine not in ENGINES:
        raise ConfigError(f"--engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    if sweep.stop is not None and engine != "ray":
        rule = sweep.stop
        keys = f"stop_on: {','.join(rule.verdicts)}, stop_min_epochs: {rule.min_epochs}"
        if rule.min_confidence > 0:
            keys += f", stop_confidence: {rule.min_confidence}"
        raise ConfigError(
            f"{sweep.path}: stop: applies to Ray Tune trials (--engine ray); in a local sweep put "
            f"{keys} in base to stop each run on its verdict"
        )
    if engine == "ray" and jobs > 1:
        raise ConfigError(
            "--jobs is for the local engine; with --engine ray, Ray runs as many trials at "
            "once as the cluster has room for (set each trial's share with resources: in the file)"
        )
    if engine == "ray":
        from ganwatch.sweep.ray_engine import import_ray

        import_ray()  # a missing extra is an error before the store is touched
    say = _Printer(stream)
    total = len(sweep.cells)
    with sweep_lock(store, sweep.name) as lock_fd:
        plan = plan_sweep(sweep, store, restart_changed=restart_changed)
        skipped = [p for p in plan if p.action == SKIP]
        todo = [p for p in plan if p.action != SKIP]
        resumes = sum(p.action == RESUME for p in todo)
        say(
            f"sweep {sweep.name}: {total} cells, {len(skipped)} done, {resumes} to resume, "
            f"{len(todo) - resumes} to start; store {store.root}"
        )
        outcomes = [
            Outcome(p, p.run.status, p.run.id, stored_verdict(store, p.run.id)) for p in skipped
        ]
        for outcome in outcomes:
            say(outcome_line(outcome, total))
        retire_dead_runs(store, todo)
        try:
            if engine == "ray" and todo:
                from ganwatch.sweep.ray_engine import run_on_ray

                run_on_ray(sweep, store, todo, total, say, outcomes, address=address)
            elif jobs == 1:
                _run_sequential(store, todo, total, say, outcomes, verbose=verbose)
            else:
                _run_parallel(
                    store, todo, total, say, outcomes, jobs=jobs, lock_fd=lock_fd, verbose=verbose
                )
        except KeyboardInterrupt as stop:  # also between cells: always say how to go on
            runs = stop.runs if isinstance(stop, SweepInterrupted) else []
            done = sum(o.status in ENDED for o in outcomes)
            raise SweepInterrupted(done, total, runs) from None
    return sorted(outcomes, key=lambda o: o.planned.cell.index)
