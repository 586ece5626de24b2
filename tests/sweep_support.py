"""What the ``ganwatch sweep`` tests share: a tiny sweep file, running it through the CLI,
reading its summary and runs, and stopping a cell part-way."""

from __future__ import annotations

import json
from pathlib import Path

from ganwatch.cli import main
from ganwatch.store import RunStore

BASE = """\
base:
  dataset: ring
  train-size: 256
  batch_size: 64
  epochs: {epochs}
  checkpoint_every: {checkpoint_every}
  metrics: true
  device: cpu
"""


def write_sweep(
    folder: Path,
    grid: str,
    *,
    name: str = "t",
    epochs: int = 2,
    checkpoint_every: int = 1,
    file: str = "sweep.yaml",
) -> Path:
    path = folder / file
    base = BASE.format(epochs=epochs, checkpoint_every=checkpoint_every)
    path.write_text(f"name: {name}\n{base}grid:\n{grid}")
    return path


def sweep(path: Path, store: Path, *extra: str) -> int:
    return main(["sweep", str(path), "--store", str(store), *extra])


def summary_json(path: Path, store: Path, capsys) -> dict:
    capsys.readouterr()
    assert sweep(path, store, "--summary", "--format", "json") == 0
    return json.loads(capsys.readouterr().out)


def runs_by_name(store: Path) -> dict[str, list]:
    with RunStore(store) as opened:
        out: dict[str, list] = {}
        for run in sorted(opened.list_runs(), key=lambda r: r.id):
            out.setdefault(run.name, []).append(run)
        return out


def interrupt_at_grid(monkeypatch, call: int, error: type[BaseException] = KeyboardInterrupt):
    """Raise ``error`` when the trainer writes its ``call``-th grid image (one an epoch)."""
    original = RunStore.save_image
    count = {"n": 0}

    def save_image(self, *args, **kwargs):
        count["n"] += 1
        if count["n"] == call:
            raise error("simulated stop")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RunStore, "save_image", save_image)
