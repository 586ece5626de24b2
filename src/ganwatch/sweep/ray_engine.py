"""Running a sweep's cells as Ray Tune trials, on a Ray started for the sweep or a cluster.

Each cell is one trial with the sweep file's ``resources``. A trial may run on a machine that
shares no disk with the store, so it trains into a private local store, exactly as
``ganwatch train`` would, and after every epoch puts what is new there (see
:mod:`ganwatch.sweep.mirror`) on a Ray queue. This process is the store's one writer: a
thread drains the queue into the sweep's store while Tune runs, and holds each run's lock
while its trial trains, so the store and the dashboard see live runs as they would in a local
sweep. A resumed cell's past (config, epochs, events, checkpoint) travels to its trial the
other way, as a Ray object.

The file's ``stop:`` rule: a trial whose verdict is one of its kinds, said with at least its
``min_confidence``, once it has trained ``min_epochs`` epochs, ends its run ``stopped`` with
the verdict that stopped it, cleans up, reports that epoch to Tune and returns. Ray is
imported only here, and only when ``--engine ray`` is asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ganwatch.config import ConfigError
from ganwatch.diagnose.stopping import StopRule
from ganwatch.store import RunStore
from ganwatch.store.lock import RunLock
from ganwatch.sweep import mirror
from ganwatch.sweep.plan import RESUME, Planned
from ganwatch.sweep.runner import Outcome, SweepInterrupted, lock_path, outcome_line, stored_verdict
from ganwatch.sweep.spec import Sweep

DRAIN_TIMEOUT_S = 0.2
#: Name prefix of a trial's private store in its worker's temporary folder.
TRIAL_STORE_PREFIX = "ganwatch-trial-"
Ended = tuple[str, int, "str | None", float]  # a trial's run: status, id, verdict, seconds


def import_ray() -> tuple[Any, Any]:
    """``(ray, ray.tune)``, or a ConfigError saying how to install them."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's tables would drown our lines
    try:
        import ray
        from ray import tune
    except ImportError as exc:
        raise ConfigError(
            f"--engine ray needs Ray Tune, which is not installed ({exc}); "
            "install it with: pip install 'ganwatch[ray]'"
        ) from exc
    # Ray's INFO lines (where Tune keeps its state, how to Tuner.restore) would tell a user
    # other ways to go on than the sweep's own rerun command; its warnings still show.
    logging.getLogger("ray").setLevel(logging.WARNING)
    return ray, tune


def stop_trial(rule: StopRule, result: Mapping[str, Any]) -> bool:
    """The trial's verdict is a failure the rule names, as the Monitor reports it (steadied by
    ``diagnose.steady``), said with at least ``min_confidence``, after ``min_epochs``
    epochs."""
    epoch, confidence = int(result.get("epoch", 0)), float(result.get("confidence", 0.0))
    return rule.stops_at(str(result.get("verdict")), confidence, epoch)


# -- the trial (runs in a Ray worker) -----------------------------------------------------


def _epoch_report(store: RunStore, run_id: int) -> dict[str, Any]:
    """What a trial tells Tune after an epoch: the verdict and the epoch's
    numbers (for Tune's own tables and analysis)."""
    epochs = store.epoch_metrics(run_id)
    verdicts = store.events(run_id, "verdict")
    last = verdicts[-1]["payload"] if verdicts else {}
    report = {k: v for k, v in (epochs[-1] if epochs else {}).items() if isinstance(v, float)}
    return {
        **report,
        "epoch": epochs[-1]["epoch"] if epochs else 0,
        "verdict": last.get("kind", "none"),
        "confidence": float(last.get("confidence", 0.0)),
    }


def run_trial(
    trial_config: Mapping[str, Any],
    *,
    jobs: Mapping[int, dict],
    queue: Any,
    stop: StopRule | None,
) -> None:
    """Train (or resume) one cell in a private store and forward its records after each
    epoch and at the end, however training ends.

    The trial applies the stop rule itself, so that a run the rule ends is closed by the
    trainer as ``stopped``, checkpoint and all, rather than cut off mid-record: the epoch
    that meets the rule is reported to Tune only once the run is
    closed, forwarded and its private store deleted, because Ray may end the worker as soon
    as Tune stops a trial (15 of 52 stopped trials left their store in the temporary folder
    when the report came first). When Tune ends it for any other reason (Ctrl-C, a
    scheduler), its report raises SystemExit and the run is closed ``interrupted``, so that a
    rerun resumes it.
    """
    import ray
    from ray import tune

    from ganwatch.config import build_config
    from ganwatch.training import resume, train

    started = time.perf_counter()
    index = int(trial_config["cell"])
    job = jobs[index]
    cursor = mirror.Cursor()
    stopped_at: list[dict[str, Any]] = []  # the report of the epoch that met the stop rule
    with tempfile.TemporaryDirectory(prefix=TRIAL_STORE_PREFIX) as tmp, RunStore(tmp) as local:

        def forward() -> None:
            runs = local.list_runs()
            if runs:
                batch = mirror.collect(local, runs[0].id, cursor)
                queue.put((index, batch, time.perf_counter() - started))

        def on_epoch(state: Any) -> bool:
            forward()
            result = _epoch_report(local, local.list_runs()[0].id)
            if stop is not None and stop_trial(stop, result):
                stopped_at.append(result)  # told to Tune once the trial is cleaned up
                return True
            try:
                tune.report(result)
            except SystemExit:  # Tune ended this trial for its own reasons
                raise KeyboardInterrupt("Ray Tune ended the trial") from None
            return False

        try:
            if job["history"] is None:
                config = build_config(job["overrides"])
                train(config, local, name=job["name"], quiet=True, on_epoch=on_epoch)
            else:
                run_id = mirror.restore(local, ray.get(job["history"]))
                mirror.collect(local, run_id, cursor)  # its past came from the store
                resume(local, run_id, quiet=True, on_epoch=on_epoch)
        finally:
            forward()
    if stopped_at:
        with contextlib.suppress(SystemExit):  # Tune may end the trial at this report
            tune.report(stopped_at[0])


# -- the writer (this process) ------------------------------------------------------------


class StoreWriter:
    """Applies the trials' batches to the sweep's store, from one thread, in arrival order."""

    def __init__(
        self,
        root: Path,
        queue: Any,
        runs: dict[int, int | None],
        on_end: Callable[[int, Ended], None] | None = None,
    ) -> None:
        self.root, self.queue, self.runs = root, queue, runs  # cell index -> run id
        self.on_end = on_end  # told as each trial's run ends, for its progress line
        self.locks: dict[int, RunLock] = {}
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="ganwatch-store-writer")

    def apply(self, store: RunStore, index: int, batch: mirror.Batch, seconds: float) -> None:
        """Write one batch; the run is created (and its id kept) and locked before anything
        is written to it, so a failed write never leaves a second run or an unlocked one."""
        run_id = self.runs.get(index)
        if run_id is None:
            run_id = self.runs[index] = store.create_run(batch["name"], batch["config"])
        running = batch["status"] == "running"
        if running and run_id not in self.locks:
            self.locks[run_id] = RunLock(store.run_dir(run_id)).acquire(run_id)
        mirror.apply(store, run_id, batch)
        if not running and run_id in self.locks:
            self.locks.pop(run_id).release()
            if self.on_end is not None:
                self.on_end(
                    index, (batch["status"], run_id, stored_verdict(store, run_id), seconds)
                )

    def _drain(self) -> None:
        from ray.util.queue import Empty

        with RunStore(self.root) as store:
            while True:
                try:
                    index, batch, seconds = self.queue.get(block=True, timeout=DRAIN_TIMEOUT_S)
                except Empty:
                    if self._done.is_set():
                        return
                    continue
                try:
                    self.apply(store, index, batch, seconds)
                except BaseException as exc:  # keep draining; report once Tune is done
                    self.error = self.error or exc

    @contextlib.contextmanager
    def running(self) -> Iterator[StoreWriter]:
        self._thread.start()
        try:
            yield self
        finally:
            self._done.set()
            self._thread.join()
            for lock in self.locks.values():
                lock.release()
            self.locks.clear()


# -- the sweep ----------------------------------------------------------------------------


@contextlib.contextmanager
def ray_session(address: str | None) -> Iterator[Any]:
    """Ray connected to ``address`` (``auto``, ``ray://host:10001``) or, without one, a local
    Ray started for this sweep and shut down after it; one already initialised is reused."""
    ray, _ = import_ray()
    if ray.is_initialized():
        yield ray
        return
    ray.init(
        address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
    )
    try:
        yield ray
    finally:
        ray.shutdown()


def _jobs(ray: Any, store: RunStore, todo: list[Planned]) -> dict[int, dict]:
    jobs = {}
    for planned in todo:
        history = None
        if planned.action == RESUME:
            assert planned.run is not None
            history = ray.put(mirror.history(store, planned.run.id))
        jobs[planned.cell.index] = {
            "name": planned.cell.name,
            "overrides": planned.cell.overrides,
            "history": history,
        }
    return jobs


def _storage(store: RunStore, sweep: Sweep, address: str | None) -> tuple[str | None, str]:
    """Tune's own files (its results and state) go beside the sweep's lock in the store; with
    Ray Client (``ray://``) Tune runs on the head node, so they stay in its default place
    there (``~/ray_results``)."""
    name = lock_path(store, sweep.name).stem
    if address is not None and address.startswith("ray://"):
        return None, name
    return str((store.root / "sweeps" / "ray").resolve()), name


def tune_sweep(
    sweep: Sweep,
    store: RunStore,
    todo: list[Planned],
    *,
    address: str | None,
    on_end: Callable[[int, Ended], None] | None = None,
) -> tuple[dict[int, dict[str, Any]], dict[int, int | None], BaseException | None]:
    """Run ``todo`` as Tune trials; each cell's last result (with ``error`` when its trial
    failed), the run each cell's records went to, and the writer's first error (raised by the
    caller once every cell is settled). ``on_end(cell index, ended)`` is called as each
    trial's run ends on its own."""
    ray, tune = import_ray()
    from ray.util.queue import Queue

    runs: dict[int, int | None] = {
        p.cell.index: p.run.id if p.action == RESUME and p.run else None for p in todo
    }
    with ray_session(address):
        queue = Queue(actor_options={"num_cpus": 0})
        trainable = tune.with_resources(
            tune.with_parameters(
                run_trial, jobs=_jobs(ray, store, todo), queue=queue, stop=sweep.stop
            ),
            dict(sweep.resources),
        )
        storage_path, name = _storage(store, sweep, address)
        tuner = tune.Tuner(
            trainable,
            param_space={"cell": tune.grid_search([p.cell.index for p in todo])},
            run_config=tune.RunConfig(name=name, storage_path=storage_path, verbose=0),
        )
        writer = StoreWriter(store.root, queue, runs, on_end)
        with writer.running():
            grid = tuner.fit()
    results = {}
    for result in grid:
        if not result.config:  # a trial that never started (Ctrl-C came first)
            continue
        metrics = dict(result.metrics or {})
        if result.error is not None:
            cause = getattr(result.error, "cause", None) or result.error  # Ray's wrapper off
            first = (str(cause).strip().splitlines() or [""])[0]  # the line that says why
            metrics["error"] = f"{type(cause).__name__}: {first}"
        results[int(result.config["cell"])] = metrics
    return results, writer.runs, writer.error


def settle(
    store: RunStore, result: Mapping[str, Any], run_id: int | None
) -> tuple[str, int | None, str | None]:
    """(status, run id, error) of a cell once Tune is done with it.

    A trial that Tune ended could not record how it ended, so its run is still ``running``
    here: ``failed`` when its trial raised, else ``interrupted`` (Ctrl-C, or Ray lost the
    worker), which a rerun resumes. (A trial the stop rule ends has closed its run
    ``stopped`` itself, before it told Tune.)
    """
    error = result.get("error")
    if run_id is None:  # a failure before the first epoch, or a trial that never started
        return ("failed", None, error) if error else ("interrupted", None, None)
    run = store.get_run(run_id)
    if run.status != "running":
        # A resumed run whose trial failed before training keeps its earlier status.
        return ("failed" if error and run.status == "interrupted" else run.status), run_id, error
    step = store.last_step(run_id)
    if error:
        status, payload = "failed", {"error": error}
    else:
        status, payload = "interrupted", {"reason": "its Ray trial ended before it finished"}
    store.log_event(run_id, status, payload, step)
    store.set_status(run_id, status)
    return status, run_id, error


def run_on_ray(
    sweep: Sweep,
    store: RunStore,
    todo: list[Planned],
    total: int,
    say: Callable[[str], None],
    outcomes: list[Outcome],
    *,
    address: str | None,
) -> None:
    """Every cell as a Ray Tune trial; each outcome is said and appended as the sweep's
    other engines do, and cells Tune left unfinished make it a SweepInterrupted."""
    by_index = {planned.cell.index: planned for planned in todo}
    said: set[int] = set()

    def say_end(index: int, ended: Ended) -> None:  # from the writer's thread
        say(outcome_line(Outcome(by_index[index], *ended), total))
        said.add(index)

    results, runs, writer_error = tune_sweep(sweep, store, todo, address=address, on_end=say_end)
    interrupted = []
    for planned in todo:
        result = results.get(planned.cell.index, {})
        status, run_id, error = settle(store, result, runs.get(planned.cell.index))
        verdict = stored_verdict(store, run_id) if run_id is not None else None
        seconds = float(result.get("time_total_s", 0.0))
        outcome = Outcome(planned, status, run_id, verdict, seconds, error)
        if planned.cell.index not in said or error:
            say(outcome_line(outcome, total))
        outcomes.append(outcome)
        if status == "interrupted":
            interrupted.append(planned.cell.name)
    if writer_error is not None:
        raise writer_error
    if interrupted:
        raise SweepInterrupted(0, total, interrupted)
