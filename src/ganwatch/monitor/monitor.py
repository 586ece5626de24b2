"""Monitor: the one integration point between a training loop and ganwatch.

A user's own PyTorch loop (or ganwatch's trainer) reports losses every step and samples every
epoch; the Monitor records them in the run store, measures the scheduled metrics against the
reference data, asks the detectors for a verdict, and says when to stop::

    mon = Monitor(reference="mnist", store="ganwatch_runs", name="my-gan", config={...})
    for epoch in range(epochs):
        for real in loader:
            ...                                    # the usual D and G updates
            mon.log_step(loss_g=lg, loss_d_real=lr, loss_d_fake=lf, d_real=dx, d_fake=dgz)
        verdict = mon.end_epoch(samples=G(fixed_noise))   # or generator=G, latent_dim=...
        if mon.should_stop:
            break
    mon.close()

``log_step`` accepts floats or 0-d tensors and keeps tensors as they are (no GPU sync); they
become floats once, at ``end_epoch``.

The Monitor owns the run's life: it creates the run (or resumes one), records how it started,
and ``close`` records how it ended (finished, stopped, diverged, interrupted or failed) as an
event and as the run's status. ganwatch's own trainer goes through it too, so a user's loop
and ``ganwatch train`` leave the same timeline.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from ganwatch.catalog.keys import step_key_names
from ganwatch.diagnose import History, Verdict, diagnose, found_kinds, steady_verdict
from ganwatch.diagnose.stopping import stop_rule
from ganwatch.metrics.bands import Bands
from ganwatch.monitor.measure import Measurement, png_to_array, sample_picture
from ganwatch.monitor.values import check_scalar, finite, to_float
from ganwatch.store import RunStore
from ganwatch.store.lock import RunLock

STEP_KEYS = step_key_names()


class Monitor:
    """Records a GAN's training, measures it after every epoch, and diagnoses it.

    In a torch.distributed job only rank 0 gets a Monitor; the other ranks get a
    ``FollowerMonitor`` that records nothing and shares rank 0's verdict (see
    ``monitor.distributed``: every rank must call ``end_epoch``)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from ganwatch.monitor.distributed import FollowerMonitor, rank

        if rank() != 0:
            return FollowerMonitor(stop_rule(**kwargs))
        return super().__new__(cls)

    def __init__(
        self,
        reference: Any = None,
        store: str | RunStore | None = "ganwatch_runs",
        name: str | None = None,
        config: dict | None = None,
        *,
        run_id: int | None = None,
        details: dict | None = None,
        step: int = 0,
        epoch: int = 0,
        stop_on: Iterable[str] = (),
        stop_confidence: float = 0.0,
        stop_min_epochs: int = 1,
        eval_every: int = 1,
        ndb_every: int = 5,
        eval_samples: int | None = None,
        data_dir: str | None = None,
        on_verdict: Callable[[Verdict, Verdict | None], None] | None = None,
        labels: Any = None,
        classifier: Callable[[torch.Tensor], Any] | None = None,
        value_range: str = "auto",
    ) -> None:
        """``reference``: real data (array or tensor, or a dataset name such as "mnist" or
        "ring"); None records and diagnoses from the losses alone. Without ``run_id`` a run
        named ``name`` is created with ``config`` and a ``started`` event (with ``details``);
        with it, that existing run is resumed at ``step``/``epoch`` (a ``resumed`` event).
        ``stop_on``: verdict kinds that set ``should_stop``, when said with at least
        ``stop_confidence`` (0: any; a confidence is capped by the verdict's track record, see
        ``ganwatch.diagnose.confidence``) from epoch ``stop_min_epochs`` on
        (``diagnose.stopping.StopRule``). ``on_verdict(new, previous)`` is
        called when the reported verdict changes (see ``ganwatch.diagnose.steady_verdict``).

        Any images work: (N, C, H, W), (N, H, W, C) or (N, H, W), 1 to 4 channels, 8 to 256
        pixels a side, uint8 or float in [0, 1] or [-1, 1] (``value_range``: "auto" detects
        it, see ``metrics.inputs.float_samples_range``). ``labels`` (the reference's class of
        each sample) or ``classifier`` (a callable from images in [-1, 1] to class
        probabilities) give class coverage and class KL for data ganwatch has no classifier
        of its own for.
        """
        self.stop_rule = stop_rule(stop_on, stop_confidence, stop_min_epochs)
        if eval_every < 1 or ndb_every < 1:
            raise ValueError("eval_every and ndb_every must be >= 1")
        self._owns_store = not isinstance(store, RunStore)
        self.store = store if isinstance(store, RunStore) else RunStore(store)
        self.config = dict(config or {})
        self.step, self.epoch = step, epoch
        if run_id is None:
            run_id = self.store.create_run(name or "run", self.config)
            self._lock = RunLock(self.store.run_dir(run_id)).acquire(run_id)
            self.store.log_event(run_id, "started", {"source": "monitor", **(details or {})}, 0)
        else:
            self.store.get_run(run_id)  # an unknown run is an error now, not at the first epoch
            self._lock = RunLock(self.store.run_dir(run_id)).acquire(run_id)
            self.store.delete_verdicts_after(run_id, step)
            self.store.log_event(run_id, "resumed", {"epoch": epoch, **(details or {})}, step)
            self.store.set_status(run_id, "running")
        self.run_id = run_id
        self.closed = False
        self.eval_every, self.ndb_every = eval_every, ndb_every
        self.eval_samples = eval_samples
        self.data_dir = data_dir
        self.on_verdict = on_verdict
        self._reference_source = reference
        options = {"value_range": value_range, "labels": labels, "classifier": classifier}
        self.measurement = Measurement(
            reference,
            eval_samples=eval_samples,
            ndb_every=ndb_every,
            data_dir=data_dir,
            options=options,
        )
        self._bands: Bands | None = self._recorded_bands()
        self._pending: list[tuple] = []  # per-step values, tensors kept as they are
        self._history: list[dict[str, float]] = self._recorded_history()
        self._nonfinite_step: int | None = None
        self.verdict: Verdict | None = self._last_verdict()
        self._found: list[str] = self._recorded_found()  # the detectors' kind per evaluation
        self.should_stop = False

    # -- steps ---------------------------------------------------------------------------
    def prepare(self, samples: int | None = None) -> Monitor:
        """Prepare the reference now rather than at the first ``end_epoch``: features,
        classifier, NDB bins and what held-out real data scores at ``samples`` per evaluation
        (default: ``eval_samples``, else 512 on a CPU and 2,048 with CUDA). Seconds to a
        minute, once per reference per process. Returns the Monitor, for chaining."""
        self._check_open()
        if self._reference_source is not None:
            count = samples or self.measurement.default_count()
            self.measurement.prepare(count, self._record_bands)
        return self

    def log_step(
        self,
        loss_g: Any,
        loss_d_real: Any,
        loss_d_fake: Any,
        d_real: Any = None,
        d_fake: Any = None,
        grad_g: Any = None,
        grad_d: Any = None,
    ) -> None:
        """Record one generator step (the global step counter advances by one). Each value is
        a number or a one-element tensor (kept on its device until ``end_epoch``), or None."""
        row = (loss_g, loss_d_real, loss_d_fake, d_real, d_fake, grad_g, grad_d)
        self._check_open()
        for key, value in zip(STEP_KEYS, row, strict=True):
            check_scalar(key, value)
        self._pending.append(row)

    def log_steps(self, rows: torch.Tensor | np.ndarray) -> None:
        """Record many steps at once: rows (n, 7) in the order of STEP_KEYS (the trainer's
        per-epoch tensor; copied to the host here, once)."""
        self._check_open()
        array = rows.detach().cpu().numpy() if isinstance(rows, torch.Tensor) else rows
        array = np.asarray(array, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != len(STEP_KEYS):
            raise ValueError(
                f"Monitor.log_steps: expected rows of shape (n, {len(STEP_KEYS)}) in the order "
                f"{', '.join(STEP_KEYS)}; got {array.shape}"
            )
        self._pending.extend(tuple(row) for row in array)

    def flush(self) -> None:
        """Store the steps logged since the last epoch ended (a crash mid-epoch keeps them)."""
        self._flush_steps()

    def _flush_steps(self) -> np.ndarray:
        """Convert pending steps to floats (one device sync), store them, return (n, 7)
        with NaN where a value was not given."""
        if not self._pending:
            return np.zeros((0, len(STEP_KEYS)))
        given = np.array([[v is not None for v in row] for row in self._pending])
        values = np.array([[to_float(v) for v in row] for row in self._pending])
        first = self.step
        self.store.log_steps(
            self.run_id,
            (
                (first + i + 1, {k: v for k, v, g in zip(STEP_KEYS, row, mask, strict=True) if g})
                for i, (row, mask) in enumerate(zip(values, given, strict=True))
            ),
        )
        bad = (given & ~np.isfinite(values)).any(axis=1)
        if bad.any() and self._nonfinite_step is None:
            self._nonfinite_step = first + int(np.argmax(bad)) + 1
        self.step += len(values)
        self._pending.clear()
        values[~given] = np.nan
        return values

    # -- epochs --------------------------------------------------------------------------
    def end_epoch(
        self,
        samples: Any = None,
        *,
        generator: torch.nn.Module | None = None,
        latent_dim: int | None = None,
        extra: dict[str, float] | None = None,
        preview: np.ndarray | None = None,
    ) -> Verdict:
        """Close an epoch: store its steps and averages, run the scheduled metrics on
        ``samples`` (or on samples drawn from ``generator``), and return the verdict.
        ``preview``: the epoch's picture (an image array), stored as its ``grid``; without it
        the first 64 ``samples`` are drawn as the grid. An epoch whose measurement raises is
        not counted (its steps are kept)."""
        from ganwatch.monitor.distributed import shared_verdict

        self._check_open()
        steps = self._flush_steps()
        self.epoch += 1
        try:
            verdict = self._end_epoch(steps, samples, generator, latent_dim, extra, preview)
        except BaseException:
            self.epoch -= 1
            raise
        return shared_verdict(verdict)  # the other ranks of a distributed job wait for it

    def _end_epoch(
        self,
        steps: np.ndarray,
        samples: Any,
        generator: torch.nn.Module | None,
        latent_dim: int | None,
        extra: dict[str, float] | None,
        preview: np.ndarray | None,
    ) -> Verdict:
        values: dict[str, float] = {}
        if len(steps):
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: not given
                means = np.nanmean(steps, axis=0)
                g_std = float(np.nanstd(steps[:, 0]))  # an infinite loss/g: NaN, no warning
            values = {
                k: float(v) for k, v in zip(STEP_KEYS, means, strict=True) if not math.isnan(v)
            }
            values["loss/g_std"] = g_std
        values.update(extra or {})
        if samples is not None and not finite(samples):
            warnings.warn(
                f"run {self.run_id} epoch {self.epoch}: the samples contain NaN or infinite "
                "values: the generator has diverged",
                RuntimeWarning,
                stacklevel=3,
            )
            self._nonfinite_step = self._nonfinite_step or self.step
        if preview is None and samples is not None and self._nonfinite_step is None:
            preview = sample_picture(samples, self.measurement.toy_name())
        if preview is not None:
            self.store.save_image(self.run_id, "grid", self.epoch, self.step, preview)
        if self._nonfinite_step is None and self._due():
            started = time.perf_counter()
            values.update(self._measure(samples, generator, latent_dim))
            values["time/metrics_s"] = time.perf_counter() - started
        self.store.log_epoch(self.run_id, self.epoch, self.step, values)
        self._history.append({"epoch": self.epoch, "step": self.step, **values})
        return self._diagnose()

    def _measure(
        self, samples: Any, generator: torch.nn.Module | None, latent_dim: int | None
    ) -> dict[str, float]:
        values, ndb = self.measurement.measure(samples, generator, latent_dim, self._record_bands)
        if ndb is not None:
            from ganwatch.metrics.ndb_plot import ndb_chart

            png = png_to_array(ndb_chart(ndb))
            self.store.save_image(self.run_id, "ndb", self.epoch, self.step, png)
        return values

    def _record_bands(self, bands: Bands) -> None:
        """Keep what held-out real data scores, for the detectors and for replays."""
        self._bands = bands
        self.store.log_event(self.run_id, "reference", bands.to_dict(), step=self.step)

    def _recorded_bands(self) -> Bands | None:
        """The bands a resumed run recorded last (None before its first evaluation)."""
        events = self.store.events(self.run_id, "reference")
        return Bands.from_dict(events[-1]["payload"]) if events else None

    def _due(self) -> bool:
        return self._reference_source is not None and self.epoch % self.eval_every == 0

    def _diagnose(self) -> Verdict:
        """The reported verdict: the detectors' one for this epoch, steadied by hysteresis.

        A verdict event is stored whenever the reported kind or the kind the detectors found
        changes, so a held verdict's unconfirmed kind (``raw_kind``) is on record too;
        ``on_verdict`` hears only changes of the reported kind.
        """
        history = History.from_records(self._history, self._nonfinite_step, self._bands)
        raw = diagnose(history, config=self.config)
        self._found.append(raw.kind)
        previous = self.verdict
        verdict = steady_verdict(raw, previous, self._found)
        changed = previous is None or previous.kind != verdict.kind
        found_changed = previous is None or previous.found_kind != verdict.found_kind
        if changed or found_changed:
            self.store.log_event(self.run_id, "verdict", verdict.to_dict(), step=verdict.step)
        if changed and self.on_verdict is not None:
            self.on_verdict(verdict, previous)
        self.verdict = verdict
        if self.stop_rule.stops(verdict):
            self.should_stop = True
        return verdict

    # -- lifecycle -----------------------------------------------------------------------
    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError(
                f"Monitor of run {self.run_id} is closed; nothing more can be recorded"
            )

    def close(self, status: str | None = None, **details: Any) -> None:
        """Store what is pending and end the run: an event named after its ``status`` (with
        ``details``) and the status itself. Without ``status``: diverged after a divergence,
        stopped when ``should_stop``, else finished. A second call does nothing."""
        if self.closed:
            return
        self._flush_steps()
        kind = self.verdict.kind if self.verdict else None
        if status is None:
            status = (
                "diverged"
                if kind == "divergence"
                else "stopped"
                if self.should_stop
                else "finished"
            )
        payload: dict[str, Any] = {"epoch": self.epoch}
        if status == "diverged":
            payload["reason"] = "non-finite loss or gradient"
            payload["first_bad_step"] = self._nonfinite_step
        elif status == "stopped" and kind is not None:
            payload["verdict"] = kind
        payload.update(details)
        step = payload.get("first_bad_step") or self.step
        self.store.log_event(self.run_id, status, payload, step=step)
        self.store.set_status(self.run_id, status)
        self.closed = True
        self._lock.release()
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            status = "interrupted" if issubclass(exc_type, KeyboardInterrupt) else "failed"
            self.close(status, error=f"{exc_type.__name__}: {exc}")

    def _recorded_history(self) -> list[dict[str, float]]:
        """Epochs already in the store up to ``self.epoch`` (a resumed run keeps its past)."""
        return [row for row in self.store.epoch_metrics(self.run_id) if row["epoch"] <= self.epoch]

    def _recorded_verdicts(self) -> list[Verdict]:
        """Verdict events already stored up to ``self.step`` (a resumed run's)."""
        events = self.store.events(self.run_id, "verdict")
        return [Verdict.from_dict(e["payload"]) for e in events if (e["step"] or 0) <= self.step]

    def _last_verdict(self) -> Verdict | None:
        verdicts = self._recorded_verdicts()
        return verdicts[-1] if verdicts else None

    def _recorded_found(self) -> list[str]:
        """The detectors' kind at each recorded epoch, so a resumed run keeps counting."""
        return found_kinds(self._recorded_verdicts(), [int(r["epoch"]) for r in self._history])
