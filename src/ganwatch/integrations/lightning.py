"""A PyTorch Lightning callback that puts a ganwatch Monitor on a LightningModule GAN.

Install with ``pip install ganwatch[lightning]``. The module logs its losses as usual
(``self.log("loss_g", ...)`` and so on, on step); the callback reads them from
``trainer.callback_metrics`` after every batch, ends the Monitor's epoch with samples from
the module, and sets ``trainer.should_stop`` when the verdict is one of ``stop_on``::

    trainer = L.Trainer(callbacks=[GanwatchCallback(reference="mnist", name="my-gan")])

Only the loss names differ between projects, so they are a mapping, not a convention.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

try:
    from lightning.pytorch.callbacks import Callback
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "ganwatch.integrations.lightning needs PyTorch Lightning: pip install 'ganwatch[lightning]'"
    ) from exc

from ganwatch.monitor import Monitor

# Monitor.log_step argument -> the name the LightningModule logs it under.
DEFAULT_KEYS = {
    "loss_g": "loss_g",
    "loss_d_real": "loss_d_real",
    "loss_d_fake": "loss_d_fake",
    "d_real": "d_real",
    "d_fake": "d_fake",
}


class GanwatchCallback(Callback):
    """Record, measure and diagnose a LightningModule GAN with a ganwatch Monitor."""

    def __init__(
        self,
        reference: Any = None,
        store: Any = "ganwatch_runs",
        name: str | None = None,
        *,
        keys: Mapping[str, str] | None = None,
        samples: Callable[[Any], Any] | None = None,
        stop_on: Iterable[str] = (),
        **monitor_options: Any,
    ) -> None:
        """``samples(pl_module)`` returns the epoch's samples; by default the module's
        ``generator`` is sampled (its ``latent_dim`` attribute gives the noise size)."""
        self.reference, self.store, self.name = reference, store, name
        self.keys = dict(keys or DEFAULT_KEYS)
        self.samples = samples
        self.stop_on = tuple(stop_on)
        self.monitor_options = monitor_options
        self.monitor: Monitor | None = None

    def on_fit_start(self, trainer, pl_module) -> None:
        config = dict(getattr(pl_module, "hparams", {}) or {})
        self.monitor = Monitor(
            self.reference,
            self.store,
            self.name,
            config,
            stop_on=self.stop_on,
            **self.monitor_options,
        )

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        metrics = trainer.callback_metrics
        values = {arg: metrics.get(name) for arg, name in self.keys.items()}
        missing = [
            self.keys[a] for a in ("loss_g", "loss_d_real", "loss_d_fake") if values[a] is None
        ]
        if missing:
            raise KeyError(
                f"GanwatchCallback: the module did not log {missing} on this step; "
                "log them with self.log(name, value, on_step=True) or pass keys="
            )
        self.monitor.log_step(**values)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if self.samples is not None:
            self.monitor.end_epoch(samples=self.samples(pl_module))
        else:
            generator = pl_module.generator
            self.monitor.end_epoch(
                generator=generator, latent_dim=getattr(generator, "latent_dim", None)
            )
        if self.monitor.should_stop:
            trainer.should_stop = True

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.monitor is not None:
            self.monitor.close()
            self.monitor = None

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if self.monitor is not None:
            self.monitor.close(
                "interrupted" if isinstance(exception, KeyboardInterrupt) else "failed"
            )
            self.monitor = None
