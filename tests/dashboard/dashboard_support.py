"""Helpers for the dashboard tests: stores written with the real RunStore API, a server on
an ephemeral port of 127.0.0.1, and a page wrapper that records script errors and dialogs."""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganwatch.dashboard.server import DashboardServer, make_server
from ganwatch.store import RunStore

SCRIPT_NAME = "<script>alert(1)</script>"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


@dataclass
class StoreRuns:
    """A store and the ids of the runs in it, by role."""

    root: Path
    trained: int  # a real 2-epoch ring run
    collapsed: int  # written by hand: verdicts, metrics, NDB pictures, five grids
    script: int  # named SCRIPT_NAME


def ring_config(**overrides):
    from ganwatch.config import build_config

    values = {
        "dataset": "ring",
        "latent_dim": 2,
        "train_size": 512,
        "batch_size": 128,
        "epochs": 2,
        "device": "cpu",
    }
    values.update(overrides)
    return build_config(values)


def step_row(step: int, rng: np.random.Generator, collapse: float = 0.0) -> dict[str, float]:
    """Plausible step metrics; ``collapse`` in [0, 1] pushes them the way mode collapse does."""
    noise = rng.normal(0, 0.05, 7)
    return {
        "loss/g": 0.8 + 2.5 * collapse + noise[0],
        "loss/d_real": 0.6 - 0.4 * collapse + noise[1],
        "loss/d_fake": 0.6 - 0.45 * collapse + noise[2],
        "d/real": 0.55 + 0.35 * collapse + noise[3] / 5,
        "d/fake": 0.45 - 0.35 * collapse + noise[4] / 5,
        "grad/g": 1.0 + noise[5],
        "grad/d": 2.0 + noise[6],
    }


def grid_image(epoch: int) -> np.ndarray:
    """A small grey picture whose brightness tells epochs apart."""
    return np.full((64, 64), (epoch * 40) % 256, dtype=np.uint8)


def write_epoch(
    store: RunStore,
    run_id: int,
    epoch: int,
    steps_per_epoch: int,
    rng: np.random.Generator,
    collapse: float = 0.0,
    extra: dict[str, float] | None = None,
) -> int:
    """Log one epoch's steps, its means and its grid, as the trainer does; returns its last step."""
    first = (epoch - 1) * steps_per_epoch + 1
    rows = [(s, step_row(s, rng, collapse)) for s in range(first, first + steps_per_epoch)]
    store.log_steps(run_id, rows)
    last = first + steps_per_epoch - 1
    means = {key: float(np.mean([row[key] for _, row in rows])) for key in rows[0][1]}
    means.update({"time/epoch_s": 1.5, "speed/images_per_s": 800.0, **(extra or {})})
    store.log_epoch(run_id, epoch, last, means)
    store.save_image(run_id, "grid", epoch, last, grid_image(epoch))
    return last


def verdict(kind: str, since: int, confidence: float = 0.9) -> dict:
    return {
        "kind": kind,
        "since_step": since,
        "confidence": confidence,
        "evidence": [
            {
                "metric": "metric/ndb_k",
                "value": 0.7,
                "threshold": 0.5,
                "op": ">",
                "note": "most bins differ",
            }
        ]
        if kind == "mode_collapse"
        else [],
        "remedies": [{"text": "Use a larger latent space", "flag": "--latent-dim 128"}]
        if kind == "mode_collapse"
        else [],
    }


def build_collapsed_run(store: RunStore, name: str = "latent-2-collapsed") -> int:
    """A finished run with everything the dashboard can show: verdicts, metrics, NDB charts."""
    rng = np.random.default_rng(0)
    run_id = store.create_run(
        name,
        {
            "preset": "latent-2",
            "scale": "quick",
            "dataset": "mnist",
            "latent_dim": 2,
            "lr": 2e-4,
            "beta1": 0.5,
            "beta2": 0.999,
            "batch_size": 64,
            "epochs": 5,
        },
    )
    store.log_event(run_id, "started", {"device": "cpu"}, step=0)
    for epoch in range(1, 6):
        collapse = max(0.0, (epoch - 2) / 3)
        metrics = {}
        if epoch % 2 == 1:
            metrics = {
                "metric/ndb_k": 0.2 + 0.15 * epoch,
                "metric/classes_covered": 11.0 - 2 * epoch,
                "metric/precision": 0.8,
                "metric/recall": 0.7 - 0.1 * epoch,
            }
        last = write_epoch(store, run_id, epoch, 10, rng, collapse, metrics)
        if epoch % 2 == 1:
            store.save_image(run_id, "ndb", epoch, last, grid_image(epoch + 3))
        if epoch == 1:
            store.log_event(run_id, "verdict", verdict("warming_up", 0, 0.5), step=last)
        if epoch == 2:
            store.log_event(run_id, "verdict", verdict("healthy", 10, 0.7), step=last)
        if epoch >= 4:
            store.log_event(run_id, "verdict", verdict("mode_collapse", 25), step=last)
    store.log_event(run_id, "finished", {"epoch": 5}, step=50)
    store.set_status(run_id, "finished")
    return run_id


def start_server(root: Path) -> tuple[DashboardServer, threading.Thread]:
    server = make_server(root, "127.0.0.1", 0)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    return server, thread


def stop_server(server: DashboardServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


# -- the browser ------------------------------------------------------------------------


def chromium_path() -> str | None:
    return (
        os.environ.get("GANWATCH_CHROMIUM")
        or shutil.which("chromium")
        or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    )


class PageWatch:
    """A page plus what went wrong on it: script errors, console errors, dialogs opened."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )

        def on_dialog(dialog) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("#gw-main[data-ready]")
