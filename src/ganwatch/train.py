"""The training loop: epochs of steps, recorded through the Monitor, checkpointed, resumable.

The update rule lives in :mod:`ganwatch.step` (the article's by default) and the models,
optimisers and stabiliser state in :mod:`ganwatch.state`; this module runs them.

Speed comes from where the work happens, not from changing it: the dataset lives on the training
device, batches are index slices of a device-side permutation, real and fake batches go through
the discriminator in one call (two with minibatch discrimination, which must not mix them), and
the per-step numbers are written into a device tensor that is copied to the host once per epoch
(one synchronisation an epoch, none inside the step).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganwatch.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from ganwatch.config import ConfigError, TrainConfig, validate
from ganwatch.data import Dataset, load_dataset
from ganwatch.monitor import Monitor
from ganwatch.state import (
    TrainingState,
    epoch_preview,
    evaluation_generator,
    load_state,
    new_state,
    state_dict,
)
from ganwatch.step import ROW_KEYS, STEP_KEYS, train_step

if TYPE_CHECKING:
    from ganwatch.diagnose import Verdict
    from ganwatch.store import RunStore

__all__ = ["STEP_KEYS", "TrainResult", "resume", "run_training", "train", "train_step"]


@dataclass
class TrainResult:
    """Where a run ended: its id, final status, and how far it got."""

    run_id: int
    status: str
    epochs_done: int
    step: int
    run_dir: Path


def resolve_device(name: str) -> torch.device:
    """'auto' means CUDA when there is a GPU; asking for CUDA without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is visible to PyTorch; use --device cpu")
    return torch.device(name)


def configure_precision(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Set TF32 switches and return the autocast context the forward passes run under."""
    if precision == "auto":
        precision = "tf32" if device.type == "cuda" else "fp32"
    if device.type == "cuda":
        tf32 = precision in ("tf32", "bf16")
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


class _Progress:
    """A tqdm bar over all steps with live losses; silent with quiet=True."""

    def __init__(self, total: int, initial: int, quiet: bool, name: str) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total,
            initial=initial,
            disable=quiet,
            desc=name,
            unit="step",
            dynamic_ncols=True,
            leave=True,
        )

    def update(self, values: dict[str, float] | None = None) -> None:
        self.bar.update(1)
        if values is not None:
            self.set(values)

    def set(self, values: dict[str, float]) -> None:
        self.bar.set_postfix(
            g=f"{values['loss/g']:.3f}",
            d_real=f"{values['loss/d_real']:.3f}",
            d_fake=f"{values['loss/d_fake']:.3f}",
            refresh=False,
        )

    def write(self, text: str) -> None:
        self.bar.write(text)

    def close(self) -> None:
        self.bar.close()


def _monitor(
    config: TrainConfig, store: RunStore, run_id: int, dataset: Dataset, state: TrainingState
) -> Monitor:
    """The trainer reports through the same Monitor a user's own loop would use."""
    stop_on = [kind.strip() for kind in config.stop_on.split(",") if kind.strip()]
    return Monitor(
        dataset if config.metrics else None,
        store,
        config=config.to_dict(),
        run_id=run_id,
        step=state.step,
        epoch=state.epoch,
        stop_on=stop_on,
        eval_every=config.eval_every,
        ndb_every=config.ndb_every,
        data_dir=config.data_dir,
    )


def _verdict_line(run_id: int, new: Verdict, old: Verdict | None) -> str:
    """One line when the verdict changes, with its strongest evidence and first remedy."""
    line = f"run {run_id} epoch {new.epoch}: {old.kind if old else 'no verdict'} -> {new.kind}"
    if new.evidence:
        e = new.evidence[0]
        line += f" ({e.metric} = {e.value:.4g} {e.op} {e.threshold:.4g})"
    if new.remedies and new.kind not in ("healthy", "warming_up"):
        line += f"; try: {new.remedies[0].text}" + (
            f" [{new.remedies[0].flag}]" if new.remedies[0].flag else ""
        )
    return line


def _log_rows(monitor: Monitor, rows: np.ndarray, state: TrainingState) -> None:
    """Hand the epoch's per-step numbers to the Monitor.

    D(x) and D(G(z)) are probabilities only for losses on logits; for critics and energies
    they are left out of the step record (and recorded per epoch as scores, see
    :func:`_epoch_extras`) so that detectors reading probabilities are not misled.
    """
    if state.recipe.loss.output == "logit":
        monitor.log_steps(rows[:, : len(STEP_KEYS)])
        return
    for loss_g, loss_r, loss_f, _, _, grad_g, grad_d, *_ in rows.tolist():
        monitor.log_step(loss_g, loss_r, loss_f, None, None, grad_g, grad_d)


def _epoch_extras(rows: np.ndarray, state: TrainingState) -> dict[str, float]:
    """Epoch means of what this run's loss and model add: penalties, auxiliary losses, BEGAN's
    k and convergence measure, and the raw critic scores or energies."""
    means = dict(zip(ROW_KEYS, rows.mean(axis=0).tolist(), strict=True))
    out = {key: means[key] for key in state.recipe.extra_keys()}
    output = state.recipe.loss.output
    if output != "logit":
        out[f"{output}/real"] = means["d/real"]
        out[f"{output}/fake"] = means["d/fake"]
    return out


def load_training_data(config: TrainConfig) -> Dataset:
    """The training set on the training device; fails (naming files) before a run is created."""
    validate(config)
    return load_dataset(
        config.dataset,
        split="train",
        data_dir=config.data_dir,
        device=resolve_device(config.device),
        seed=config.seed,
        size=config.train_size,
    )


def run_training(
    config: TrainConfig,
    store: RunStore,
    run_id: int,
    dataset: Dataset,
    *,
    resume: bool = False,
    quiet: bool = False,
) -> TrainResult:
    """Train run ``run_id`` on ``dataset`` up to ``config.epochs``, from its checkpoint when
    ``resume``.

    Every step's numbers, every epoch's averages and grid, checkpoints and status changes go to
    the store. An exception or Ctrl-C flushes the steps already taken to the store, marks the run
    (interrupted or failed) and re-raises; a non-finite loss marks it diverged and stops, keeping
    the last checkpoint, which was written from finite weights.
    """
    device = dataset.data.device
    autocast = configure_precision(config.precision, device)
    n = len(dataset)
    batches = [(i, min(i + config.batch_size, n)) for i in range(0, n, config.batch_size)]
    total_steps = config.epochs * len(batches)
    state = new_state(config, dataset.shape, device, dataset.name, total_steps)
    run_dir = store.run_dir(run_id)
    ckpt = checkpoint_path(run_dir)
    if resume:
        load_state(state, load_checkpoint(ckpt, device))
        store.log_event(run_id, "resumed", {"epoch": state.epoch}, step=state.step)
    else:
        store.log_event(
            run_id,
            "started",
            {
                "device": str(device),
                "torch": torch.__version__,
                "train_samples": len(dataset),
            },
            step=0,
        )
    store.set_status(run_id, "running")
    monitor = _monitor(config, store, run_id, dataset, state)

    progress = _Progress(
        config.epochs * len(batches), state.epoch * len(batches), quiet, f"run {run_id}"
    )
    live_postfix = device.type == "cpu"  # a live postfix costs a GPU sync; on CUDA, per epoch
    monitor.on_verdict = lambda new, old: progress.write(_verdict_line(run_id, new, old))
    stats = torch.zeros(len(batches), len(ROW_KEYS), device=device)
    labels = dataset.labels if state.recipe.conditional else None
    done_in_epoch = 0
    status = "finished"
    try:
        while state.epoch < config.epochs:
            started = time.perf_counter()
            perm = torch.randperm(n, device=device, generator=state.rng)
            done_in_epoch = 0
            for i, (lo, hi) in enumerate(batches):
                index = perm[lo:hi]
                stats[i] = train_step(
                    state,
                    state.recipe,
                    dataset.data[index],
                    labels[index] if labels is not None else None,
                    autocast,
                    step=state.step + i,
                )
                done_in_epoch = i + 1
                progress.update(
                    dict(zip(ROW_KEYS, stats[i].tolist(), strict=True)) if live_postfix else None
                )
            rows = stats.cpu().numpy()  # the epoch's one synchronisation
            _log_rows(monitor, rows, state)
            state.step += len(batches)
            state.epoch += 1
            done_in_epoch = 0
            if not np.isfinite(rows).all():
                monitor.end_epoch()  # records the epoch and the divergence verdict
                bad = int(np.argmax(~np.isfinite(rows).all(axis=1)))
                step = state.step - len(batches) + bad + 1
                store.log_event(
                    run_id,
                    "diverged",
                    {
                        "reason": "non-finite loss or gradient",
                        "first_bad_step": step,
                        "checkpoint": str(ckpt) if ckpt.exists() else None,
                    },
                    step=step,
                )
                progress.write(
                    f"run {run_id}: non-finite values at step {step}; "
                    "stopping, the last checkpoint is kept"
                )
                status = "diverged"
                break
            store.save_image(run_id, "grid", state.epoch, state.step, epoch_preview(state, dataset))
            elapsed = time.perf_counter() - started
            extra = {"time/epoch_s": elapsed, "speed/images_per_s": n / elapsed}
            extra.update(_epoch_extras(rows, state))
            verdict = monitor.end_epoch(generator=evaluation_generator(state), extra=extra)
            if state.epoch % config.checkpoint_every == 0 or state.epoch == config.epochs:
                save_checkpoint(ckpt, state_dict(state, config))
            values = dict(zip(ROW_KEYS, rows.mean(axis=0).tolist(), strict=True))
            progress.set(values)
            if monitor.should_stop:
                store.log_event(
                    run_id,
                    "stopped",
                    {"verdict": verdict.kind, "epoch": state.epoch},
                    step=state.step,
                )
                progress.write(f"run {run_id}: stopping on {verdict.kind} (--stop-on)")
                status = "stopped"
                break
    except BaseException as exc:
        if done_in_epoch:
            _log_rows(monitor, stats[:done_in_epoch].cpu().numpy(), state)
            monitor.flush()
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        store.log_event(
            run_id,
            status,
            {"error": f"{type(exc).__name__}: {exc}", "epoch": state.epoch},
            step=state.step + done_in_epoch,
        )
        store.set_status(run_id, status)
        raise
    finally:
        progress.close()
    if status == "finished":  # a divergence or stop was logged where it happened
        store.log_event(run_id, status, {"epoch": state.epoch}, step=state.step)
    store.set_status(run_id, status)
    return TrainResult(run_id, status, state.epoch, state.step, run_dir)


def train(
    config: TrainConfig, store: RunStore, *, name: str | None = None, quiet: bool = False
) -> TrainResult:
    """Start a new run of ``config`` in ``store`` and train it to the end."""
    dataset = load_training_data(config)
    run_name = name or config.preset or config.dataset
    run_id = store.create_run(run_name, config.to_dict())
    return run_training(config, store, run_id, dataset, quiet=quiet)


def resume(
    store: RunStore, ref: int | str, *, epochs: int | None = None, quiet: bool = False
) -> TrainResult:
    """Continue a run from its last checkpoint to its configured (or a new) number of epochs."""
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
    return run_training(config, store, run.id, load_training_data(config), resume=True, quiet=quiet)
