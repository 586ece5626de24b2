"""The article's training loop, made fast and recorded.

Update rule, exactly the article's: for each real batch, ``d_steps`` discriminator updates on that
batch against fresh fakes (BCE, real -> 1, fake -> 0), then one generator update with fresh noise
and the non-saturating loss; Adam(lr, betas) for both.

Speed comes from where the work happens, not from changing it: the dataset lives on the training
device, batches are index slices of a device-side permutation, real and fake batches go through
the discriminator in one call, and the per-step numbers are written into a device tensor that is
copied to the host once per epoch (one synchronisation an epoch, none inside the step).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from ganwatch.checkpoint import (
    capture_rng,
    checkpoint_path,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from ganwatch.config import ConfigError, TrainConfig, validate
from ganwatch.data import Dataset, load_dataset
from ganwatch.images import image_grid, scatter_image
from ganwatch.losses import bce_discriminator_loss, bce_generator_loss
from ganwatch.models import build_models
from ganwatch.monitor import Monitor

if TYPE_CHECKING:
    from ganwatch.diagnose import Verdict
    from ganwatch.store import RunStore

STEP_KEYS = ("loss/g", "loss/d_real", "loss/d_fake", "d/real", "d/fake", "grad/g", "grad/d")
POINT_SAMPLES = 1024  # fixed noise for the per-epoch scatter of 2-D data (64 points show little)


@dataclass
class TrainResult:
    """Where a run ended: its id, final status, and how far it got."""

    run_id: int
    status: str
    epochs_done: int
    step: int
    run_dir: Path


@dataclass
class TrainingState:
    """Everything that changes while training; what a checkpoint saves."""

    generator: nn.Module
    discriminator: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    rng: torch.Generator  # the device generator for shuffling and noise
    fixed_noise: torch.Tensor
    epoch: int = 0  # completed epochs
    step: int = 0  # completed generator steps (the global iteration)


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


def new_state(
    config: TrainConfig, sample_shape: tuple[int, ...], device: torch.device
) -> TrainingState:
    """Models initialised from the seed, optimisers, the device RNG and the fixed grid noise."""
    torch.manual_seed(config.seed)
    generator, discriminator = build_models(config.model, config.latent_dim, sample_shape)
    generator.to(device)
    discriminator.to(device)
    fused = {"fused": True} if device.type == "cuda" else {}
    betas = (config.beta1, config.beta2)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=betas, **fused)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=betas, **fused)
    rng = torch.Generator(device=device)
    rng.manual_seed(config.seed + 1)
    count = config.sample_size if len(sample_shape) == 3 else max(config.sample_size, POINT_SAMPLES)
    fixed = torch.randn(
        count, config.latent_dim, generator=torch.Generator().manual_seed(config.seed)
    )
    return TrainingState(generator, discriminator, opt_g, opt_d, rng, fixed.to(device))


def state_dict(state: TrainingState, config: TrainConfig) -> dict:
    return {
        "generator": state.generator.state_dict(),
        "discriminator": state.discriminator.state_dict(),
        "opt_g": state.opt_g.state_dict(),
        "opt_d": state.opt_d.state_dict(),
        "rng": capture_rng(state.rng),
        "fixed_noise": state.fixed_noise,
        "epoch": state.epoch,
        "step": state.step,
        "config": config.to_dict(),
    }


def load_state(state: TrainingState, saved: dict) -> None:
    state.generator.load_state_dict(saved["generator"])
    state.discriminator.load_state_dict(saved["discriminator"])
    state.opt_g.load_state_dict(saved["opt_g"])
    state.opt_d.load_state_dict(saved["opt_d"])
    restore_rng(saved["rng"], state.rng)
    state.fixed_noise = saved["fixed_noise"]
    state.epoch = saved["epoch"]
    state.step = saved["step"]


def grad_norm(module: nn.Module) -> torch.Tensor:
    """L2 norm of all of a module's gradients, as a device tensor (no sync)."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.stack(norms).norm() if norms else torch.zeros(())


def train_step(
    state: TrainingState,
    real: torch.Tensor,
    d_steps: int,
    autocast: contextlib.AbstractContextManager,
) -> torch.Tensor:
    """One generator step with its ``d_steps`` discriminator steps; returns the 7 STEP_KEYS values.

    With d_steps > 1 the discriminator numbers are averaged over its steps.
    """
    G, D = state.generator, state.discriminator
    b = real.shape[0]
    latent = state.fixed_noise.shape[1]
    d_stats = torch.zeros(5, device=real.device)
    D.requires_grad_(True)
    for _ in range(d_steps):
        noise = torch.randn(b, latent, device=real.device, generator=state.rng)
        with torch.no_grad(), autocast:
            fake = G(noise)
        with autocast:
            logits = D(torch.cat([real, fake.to(real.dtype)])).float()
        real_logits, fake_logits = logits[:b], logits[b:]
        loss_real, loss_fake = bce_discriminator_loss(real_logits, fake_logits)
        state.opt_d.zero_grad(set_to_none=True)
        (loss_real + loss_fake).backward()
        state.opt_d.step()
        d_stats += torch.stack(
            [
                loss_real.detach(),
                loss_fake.detach(),
                torch.sigmoid(real_logits.detach()).mean(),
                torch.sigmoid(fake_logits.detach()).mean(),
                grad_norm(D),
            ]
        )
    d_stats /= d_steps

    # The generator step needs gradients through D, not for D's weights.
    D.requires_grad_(False)
    noise = torch.randn(b, latent, device=real.device, generator=state.rng)
    with autocast:
        fake_logits = D(G(noise)).float()
    loss_g = bce_generator_loss(fake_logits)
    state.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    state.opt_g.step()
    D.requires_grad_(True)
    loss_r, loss_f, d_real, d_fake, g_d = d_stats
    return torch.stack([loss_g.detach(), loss_r, loss_f, d_real, d_fake, grad_norm(G), g_d])


def epoch_preview(state: TrainingState, dataset: Dataset) -> np.ndarray:
    """The per-epoch picture: the 8x8 grid of fixed-noise images, or a scatter for 2-D data."""
    with torch.no_grad():
        samples = state.generator(state.fixed_noise).float().cpu()
    if dataset.kind == "image":
        return image_grid(samples, nrow=8)
    from ganwatch.data.toy import mode_centres

    return scatter_image(samples.numpy(), reference_points=mode_centres(dataset.name))


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
    state = new_state(config, dataset.shape, device)
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

    n = len(dataset)
    batches = [(i, min(i + config.batch_size, n)) for i in range(0, n, config.batch_size)]
    progress = _Progress(
        config.epochs * len(batches), state.epoch * len(batches), quiet, f"run {run_id}"
    )
    live_postfix = device.type == "cpu"  # a live postfix costs a GPU sync; on CUDA, per epoch
    monitor.on_verdict = lambda new, old: progress.write(_verdict_line(run_id, new, old))
    stats = torch.zeros(len(batches), len(STEP_KEYS), device=device)
    done_in_epoch = 0
    status = "finished"
    try:
        while state.epoch < config.epochs:
            started = time.perf_counter()
            perm = torch.randperm(n, device=device, generator=state.rng)
            done_in_epoch = 0
            for i, (lo, hi) in enumerate(batches):
                stats[i] = train_step(
                    state, dataset.data[perm[lo:hi]], config.d_steps or 1, autocast
                )
                done_in_epoch = i + 1
                progress.update(
                    dict(zip(STEP_KEYS, stats[i].tolist(), strict=True)) if live_postfix else None
                )
            rows = stats.cpu().numpy()  # the epoch's one synchronisation
            monitor.log_steps(rows)
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
            timing = {"time/epoch_s": elapsed, "speed/images_per_s": n / elapsed}
            verdict = monitor.end_epoch(generator=state.generator, extra=timing)
            if state.epoch % config.checkpoint_every == 0 or state.epoch == config.epochs:
                save_checkpoint(ckpt, state_dict(state, config))
            values = dict(zip(STEP_KEYS, rows.mean(axis=0).tolist(), strict=True))
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
            monitor.log_steps(stats[:done_in_epoch])
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
