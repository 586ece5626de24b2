"""The training loop: epochs of steps, recorded through the Monitor, checkpointed, resumable.

The update rule lives in :mod:`ganwatch.training.step` (the article's by default), the models,
optimisers and stabiliser state in :mod:`ganwatch.training.state`; the run's life (its
creation, verdicts and how it ended) belongs to the :class:`~ganwatch.monitor.Monitor`, as for
a user's own loop. This module only loops, checkpoints and shows progress.

Speed comes from where the work happens, not from changing it: the dataset lives on the training
device, batches are index slices of a device-side permutation, real and fake batches go through
the discriminator in one call (two with minibatch discrimination, which must not mix them), and
the per-step numbers are written into a device tensor that is copied to the host once per epoch
(one synchronisation an epoch, none inside the step).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganwatch.catalog import DATASETS
from ganwatch.config import TrainConfig, stop_verdicts, validate
from ganwatch.data import Dataset, load_dataset
from ganwatch.data.download import DATA_DIR_ENV
from ganwatch.monitor import Monitor
from ganwatch.monitor.distributed import from_rank_zero
from ganwatch.training.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from ganwatch.training.device import configure_precision, resolve_device
from ganwatch.training.distributed import (
    batch_means,
    batch_shares,
    current_shards,
    shardable,
    shared_checkpoint,
    shared_permutation,
)
from ganwatch.training.preview import epoch_preview, evaluation_generator
from ganwatch.training.progress import Progress, stop_line, verdict_line
from ganwatch.training.state import TrainingState, load_state, new_state, state_dict
from ganwatch.training.step import train_step

if TYPE_CHECKING:
    from ganwatch.store import RunStore


@dataclass
class TrainResult:
    """Where a run ended: its id, final status, and how far it got."""

    run_id: int | None  # None on the ranks other than 0 of a torchrun job
    status: str
    epochs_done: int
    step: int
    run_dir: Path | None


def load_training_data(config: TrainConfig) -> Dataset:
    """The training set on the training device; fails (naming files) before a run is created.

    A run of image data records the folder its files came from, also when it was found
    through ``$GANWATCH_DATA_DIR``, so that the config says where the data was.
    """
    validate(config)
    if config.data_dir is None and DATASETS[config.dataset].files:
        config.data_dir = os.environ.get(DATA_DIR_ENV) or None
    return load_dataset(
        config.dataset,
        split="train",
        data_dir=config.data_dir,
        device=resolve_device(config.device),
        seed=config.seed,
        size=config.train_size,
    )


def _log_rows(monitor: Monitor, rows: np.ndarray, state: TrainingState) -> None:
    """Hand the epoch's per-step numbers to the Monitor.

    D(x) and D(G(z)) are probabilities only for losses on logits; for critics and energies
    they are left out of the step record (and recorded per epoch as scores, see
    :func:`_epoch_extras`) so that detectors reading probabilities are not misled.
    """
    steps = rows[:, :7]
    if state.recipe.objective.spec.output == "logit":
        monitor.log_steps(steps)
        return
    for loss_g, loss_r, loss_f, _, _, grad_g, grad_d in steps.tolist():
        monitor.log_step(loss_g, loss_r, loss_f, None, None, grad_g, grad_d)


def _epoch_extras(rows: np.ndarray, state: TrainingState) -> dict[str, float]:
    """Epoch means of what this run's loss and model add: penalties, auxiliary losses, BEGAN's
    k and convergence measure, and the raw critic scores or energies."""
    recipe = state.recipe
    means = dict(zip(recipe.record_keys, rows.mean(axis=0).tolist(), strict=True))
    out = {key: means[key] for key in recipe.extra_keys()}
    output = recipe.objective.spec.output
    if output != "logit":
        out[f"{output}/real"] = means["d/real"]
        out[f"{output}/fake"] = means["d/fake"]
    return out


class _Epochs:
    """The loop over epochs of one run, with what an interruption must still record."""

    def __init__(
        self,
        config: TrainConfig,
        dataset: Dataset,
        state: TrainingState,
        monitor: Monitor,
        checkpoint: Path | None,
        progress: Progress,
        on_epoch: Callable[[TrainingState], bool | None] | None = None,
    ) -> None:
        self.config, self.dataset, self.state, self.monitor = config, dataset, state, monitor
        self.checkpoint, self.progress, self.on_epoch = checkpoint, progress, on_epoch
        device, n = dataset.data.device, len(dataset)
        batches = [(i, min(i + config.batch_size, n)) for i in range(0, n, config.batch_size)]
        self.batches = shardable(batches, state.shards.world)
        self.keys = state.recipe.record_keys
        self.stats = torch.zeros(len(self.batches), len(self.keys), device=device)
        self.shares = batch_shares(self.batches, state.shards, device)
        self.autocast = configure_precision(config.precision, device)
        self.labels = dataset.labels if state.recipe.pair.conditional else None
        # a live postfix costs a GPU sync on CUDA, and only rank 0 shows a bar
        self.live_postfix = device.type == "cpu" and state.shards.leader
        self.done_in_epoch = 0

    def run(self, check_signals: Callable[[], None]) -> tuple[str, dict[str, Any]]:
        """Train to the configured epochs; (how the run ended, details for its event).
        ``check_signals`` raises when a stop signal has arrived (``signals_interrupt``)."""
        while self.state.epoch < self.config.epochs:
            ended = self._epoch(check_signals)
            if ended is not None:
                return ended
        return "finished", {}

    def record_partial_epoch(self) -> None:
        """Hand the steps of an unfinished epoch to the Monitor (a crash keeps them)."""
        if self.done_in_epoch:
            _log_rows(self.monitor, self.stats[: self.done_in_epoch].cpu().numpy(), self.state)
            self.done_in_epoch = 0

    def _epoch(self, check_signals: Callable[[], None]) -> tuple[str, dict[str, Any]] | None:
        state, dataset = self.state, self.dataset
        started = time.perf_counter()
        perm = torch.randperm(len(dataset), device=dataset.data.device, generator=state.rng)
        perm = shared_permutation(perm, state.shards)
        for i, (lo, hi) in enumerate(self.batches):
            check_signals()
            index = state.shards.slice(perm[lo:hi])  # the whole batch in one process
            labels = self.labels[index] if self.labels is not None else None
            record = train_step(
                state, state.recipe, dataset.data[index], labels, self.autocast, state.step + i
            )
            self.stats[i] = torch.stack([record[key] for key in self.keys])
            self.done_in_epoch = i + 1
            if self.live_postfix:
                self.progress.update(dict(zip(self.keys, self.stats[i].tolist(), strict=True)))
            else:
                self.progress.update()
        # The epoch's one synchronisation (and, across ranks, its one all-reduce).
        rows = batch_means(self.stats, self.shares).cpu().numpy()
        _log_rows(self.monitor, rows, state)
        state.step += len(self.batches)
        state.epoch += 1
        self.done_in_epoch = 0
        if not np.isfinite(rows).all():
            return self._diverged(rows)
        leader = state.shards.leader  # rank 0 draws the grid and writes the checkpoint
        preview = epoch_preview(state, dataset) if leader else None
        elapsed = time.perf_counter() - started
        extra = {"time/epoch_s": elapsed, "speed/images_per_s": len(dataset) / elapsed}
        extra.update(_epoch_extras(rows, state))
        verdict = self.monitor.end_epoch(
            generator=evaluation_generator(state), extra=extra, preview=preview
        )
        due = state.epoch % self.config.checkpoint_every == 0 or state.epoch == self.config.epochs
        if due and self.checkpoint is not None:
            save_checkpoint(self.checkpoint, state_dict(state, self.config))
        # After the checkpoint: a sweep engine ships both, and may ask to stop here.
        asked = self.on_epoch is not None and bool(self.on_epoch(state))
        self.progress.set(dict(zip(self.keys, rows.mean(axis=0).tolist(), strict=True)))
        if self.monitor.should_stop or asked:
            rule = self.monitor.stop_rule if self.monitor.should_stop else None
            self.progress.write(stop_line(self.monitor.run_id, verdict.kind, state.epoch, rule))
            return "stopped", {"verdict": verdict.kind} if asked else {}
        return None

    def _diverged(self, rows: np.ndarray) -> tuple[str, dict[str, Any]]:
        """Record the epoch (its divergence verdict) and say where training blew up."""
        self.monitor.end_epoch()
        bad = int(np.argmax(~np.isfinite(rows).all(axis=1)))
        step = self.state.step - len(self.batches) + bad + 1
        kept = self.checkpoint is not None and self.checkpoint.exists()
        self.progress.write(
            f"run {self.monitor.run_id}: non-finite values at step {step}; stopping, "
            + ("the last checkpoint is kept" if kept else "no checkpoint had been written yet")
        )
        return "diverged", {
            "first_bad_step": step,
            "checkpoint": str(self.checkpoint) if kept else None,
        }


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived while training: recorded as an interruption, like Ctrl-C."""


@contextlib.contextmanager
def signals_interrupt() -> Iterator[Callable[[], None]]:
    """Let SIGTERM (a scheduler, ``kill``) and SIGHUP (a closed terminal) stop training the
    way Ctrl-C does, so the run is recorded as interrupted rather than left running.

    Yields a check that raises ``Terminated`` once such a signal has arrived; the loop calls
    it at every step. Why both: the handler raises at once, but Python runs a handler
    wherever the main thread is, and an exception raised inside a finaliser (``__del__``, a
    weakref callback) is printed as "Exception ignored" and dropped, and the run trains on
    to its end (a full test run once saw a SIGTERMed run exit with code 0, which is what a
    dropped exception gives). The check raises it again from a place that cannot drop it."""
    received: list[str] = []

    def check() -> None:
        if received:
            raise Terminated(received[0])

    if threading.current_thread() is not threading.main_thread():
        yield check
        return

    def stop(signum: int, frame: object) -> None:
        received.append(signal.Signals(signum).name)
        raise Terminated(received[-1])

    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    previous = {sig: signal.signal(sig, stop) for sig in wanted}
    try:
        yield check
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_training(
    config: TrainConfig,
    store: RunStore | None,
    dataset: Dataset,
    *,
    run_id: int | None = None,
    name: str | None = None,
    quiet: bool = False,
    on_epoch: Callable[[TrainingState], bool | None] | None = None,
) -> TrainResult:
    """Train a new run of ``config`` named ``name`` on ``dataset``, or continue run ``run_id``
    from its checkpoint, up to ``config.epochs``. ``on_epoch(state)`` is called after each
    epoch is recorded, diagnosed and checkpointed (the validation corpus judges the generator
    there; the Ray engine forwards the records); returning True stops the run as ``stopped``.

    The models are built before the run is created, so a recipe that cannot be built leaves
    no run behind. An exception or Ctrl-C keeps the steps already taken, marks the run
    interrupted or failed and re-raises; a non-finite loss marks it diverged and stops.
    """
    device = dataset.data.device
    n_batches = -(-len(dataset) // config.batch_size)
    state = new_state(config, dataset.shape, device, dataset.name, config.epochs * n_batches)
    leader = state.shards.leader  # under torchrun only rank 0 touches the store
    if leader:
        store.mark_dead_runs()
    if run_id is not None:
        path = checkpoint_path(store.run_dir(run_id)) if leader else None
        load_state(state, load_checkpoint(shared_checkpoint(path, state.shards), device))
    details = {
        "source": "train",
        "device": str(device),
        "torch": torch.__version__,
        "train_samples": len(dataset),
    }
    monitor = Monitor(
        dataset if config.metrics else None,
        store,
        name or config.preset or config.dataset,
        config.to_dict(),
        run_id=run_id,
        details=None if run_id is not None else details,
        step=state.step,
        epoch=state.epoch,
        stop_on=stop_verdicts(config.stop_on),
        stop_confidence=config.stop_confidence,
        stop_min_epochs=config.stop_min_epochs,
        eval_every=config.eval_every,
        ndb_every=config.ndb_every,
        data_dir=config.data_dir,
    )
    run_dir = store.run_dir(monitor.run_id) if leader else None
    total, done = config.epochs * n_batches, state.epoch * n_batches
    progress = Progress(total, done, quiet, f"run {monitor.run_id}", mute=not leader)
    monitor.on_verdict = lambda new, old: progress.write(verdict_line(monitor.run_id, new, old))
    checkpoint = checkpoint_path(run_dir) if run_dir is not None else None
    epochs = _Epochs(config, dataset, state, monitor, checkpoint, progress, on_epoch)
    try:
        with signals_interrupt() as check_signals:
            status, ending = epochs.run(check_signals)
    except BaseException as exc:
        epochs.record_partial_epoch()
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        monitor.close(status, error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        progress.close()
    monitor.close(status, **ending)
    return TrainResult(monitor.run_id, status, state.epoch, state.step, run_dir)


def train(
    config: TrainConfig,
    store: RunStore | None,
    *,
    name: str | None = None,
    quiet: bool = False,
    on_epoch: Callable[[TrainingState], bool | None] | None = None,
) -> TrainResult:
    """Start a new run of ``config`` in ``store`` and train it to the end (under torchrun,
    the ranks other than 0 pass None: rank 0 owns the run)."""
    dataset = load_training_data(config)
    return run_training(config, store, dataset, name=name, quiet=quiet, on_epoch=on_epoch)


def _resumable(store: RunStore, ref: int | str, epochs: int | None) -> tuple[int, TrainConfig]:
    run = store.get_run(ref)
    config = TrainConfig(**run.config)
    if epochs is not None:
        config.epochs = epochs
        validate(config)
        store.update_config(run.id, config.to_dict())
    if not checkpoint_path(store.run_dir(run.id)).exists():
        raise FileNotFoundError(
            f"run {run.id} ({run.name}) has no checkpoint in {store.run_dir(run.id)}; "
            "it stopped before its first one, so start it again with 'ganwatch train'"
        )
    return run.id, config


def resume(
    store: RunStore | None,
    ref: int | str,
    *,
    epochs: int | None = None,
    quiet: bool = False,
    on_epoch: Callable[[TrainingState], bool | None] | None = None,
) -> TrainResult:
    """Continue a run from its last checkpoint to its configured (or a new) number of epochs.

    Under torchrun only rank 0 reads the store (the others may pass None): it sends the run's
    id and config to the other ranks, and later its checkpoint.
    """
    found = _resumable(store, ref, epochs) if current_shards().leader else None
    run_id, config = from_rank_zero(found)
    dataset = load_training_data(config)
    return run_training(config, store, dataset, run_id=run_id, quiet=quiet, on_epoch=on_epoch)
