"""Tests for ganwatch.export: CSV/PNG export and the text views of runs."""

from __future__ import annotations

import csv
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganwatch.diagnose import Verdict
from ganwatch.export import (
    _timeline_indices,
    diagnosis_timeline,
    export_run,
    run_summary,
    runs_table,
)
from ganwatch.images import image_grid
from ganwatch.store import RunNotFoundError, RunStore

STEP_KEYS = ("loss/g", "loss/d_real", "loss/d_fake", "d/real", "d/fake", "grad/g", "grad/d")
EPOCH_KEYS = (*STEP_KEYS, "time/epoch_s", "speed/images_per_s")
STEPS_PER_EPOCH = 10


@pytest.fixture
def store(tmp_path: Path):
    with RunStore(tmp_path / "store") as opened:
        yield opened


def _fill_run(store: RunStore, epochs: int, name: str = "mnist-dcgan") -> int:
    """A run shaped like a real one: step and epoch metrics, a grid per epoch, events."""
    run_id = store.create_run(name, {"preset": "mnist", "dataset": "mnist", "epochs": epochs})
    rng = np.random.default_rng(0)
    for epoch in range(1, epochs + 1):
        steps = range((epoch - 1) * STEPS_PER_EPOCH, epoch * STEPS_PER_EPOCH)
        store.log_steps(run_id, [(s, {k: float(rng.random()) for k in STEP_KEYS}) for s in steps])
        last_step = epoch * STEPS_PER_EPOCH - 1
        store.log_epoch(run_id, epoch, last_step, {k: 1.0 / epoch for k in EPOCH_KEYS})
        batch = np.tanh(rng.normal(size=(16, 1, 16, 16)))
        store.save_image(run_id, "grid", epoch, last_step, image_grid(batch, nrow=4))
    store.log_event(run_id, "checkpoint", {"epoch": epochs}, step=epochs * STEPS_PER_EPOCH)
    store.set_status(run_id, "finished")
    return run_id


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_export_writes_csvs_and_charts(store: RunStore, tmp_path: Path) -> None:
    run_id = _fill_run(store, epochs=3)
    out = tmp_path / "export"
    written = export_run(store, run_id, out)
    names = ["steps.csv", "epochs.csv", "losses.png", "grids.png"]
    assert written == [out / name for name in names]

    steps = _read_csv(out / "steps.csv")
    assert steps[0] == ["step", *sorted(STEP_KEYS)]
    assert [int(row[0]) for row in steps[1:]] == list(range(3 * STEPS_PER_EPOCH))
    series = store.step_metrics(run_id)
    g_column = steps[0].index("loss/g")
    assert [float(row[g_column]) for row in steps[1:]] == series["loss/g"][1].tolist()

    epochs = _read_csv(out / "epochs.csv")
    assert epochs[0] == ["epoch", "step", *sorted(EPOCH_KEYS)]
    assert [row[:2] for row in epochs[1:]] == [["1", "9"], ["2", "19"], ["3", "29"]]
    assert float(epochs[2][epochs[0].index("loss/g")]) == 0.5

    with Image.open(out / "losses.png") as chart:
        assert chart.width >= 400 and chart.height >= 300
        colours = np.asarray(chart.convert("RGB")).reshape(-1, 3)
        assert len(np.unique(colours, axis=0)) > 20  # lines, text and legend were drawn
    with Image.open(out / "grids.png") as timeline:
        grid_width = image_grid(np.zeros((16, 1, 16, 16)), nrow=4).shape[1]
        assert timeline.width >= 3 * grid_width
        assert timeline.height > grid_width


def test_export_by_name_with_missing_values(store: RunStore, tmp_path: Path) -> None:
    run_id = store.create_run("sparse", {})
    store.log_steps(run_id, [(0, {"a": 1.0}), (1, {"b": math.nan})])
    store.log_epoch(run_id, 1, 1, {"loss/g": math.inf})
    export_run(store, "sparse", tmp_path)
    assert _read_csv(tmp_path / "steps.csv") == [
        ["step", "a", "b"],
        ["0", "1.0", ""],
        ["1", "", "nan"],
    ]
    assert _read_csv(tmp_path / "epochs.csv") == [["epoch", "step", "loss/g"], ["1", "1", "inf"]]


def test_grid_timeline_shows_at_most_ten_epochs(store: RunStore, tmp_path: Path) -> None:
    many = _fill_run(store, epochs=13, name="long")
    few = _fill_run(store, epochs=2, name="short")
    export_run(store, many, tmp_path / "many")
    export_run(store, few, tmp_path / "few")
    with (
        Image.open(tmp_path / "many" / "grids.png") as a,
        Image.open(tmp_path / "few" / "grids.png") as b,
    ):
        tile = (b.width - 8) / 2  # two tiles, each followed by an 8 px gap
        assert a.width == 8 + 10 * tile


def test_timeline_indices_spread_evenly_with_ends() -> None:
    assert _timeline_indices(4) == [0, 1, 2, 3]
    picked = _timeline_indices(50)
    assert len(picked) == 10 and picked[0] == 0 and picked[-1] == 49
    assert picked == sorted(set(picked))
    assert _timeline_indices(0) == []


def test_export_without_epochs_writes_csvs_only(
    store: RunStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_id = store.create_run("young", {})
    store.log_steps(run_id, [(0, {"loss/g": 1.0})])
    with caplog.at_level(logging.WARNING, logger="ganwatch.export"):
        written = export_run(store, run_id, tmp_path / "out")
    assert [p.name for p in written] == ["steps.csv", "epochs.csv"]
    assert _read_csv(tmp_path / "out" / "epochs.csv") == [["epoch", "step"]]
    assert "losses.png" in caplog.text and "grids.png" in caplog.text
    assert not (tmp_path / "out" / "losses.png").exists()


def test_export_unknown_run(store: RunStore, tmp_path: Path) -> None:
    with pytest.raises(RunNotFoundError):
        export_run(store, "ghost", tmp_path)


def test_runs_table(store: RunStore) -> None:
    _fill_run(store, epochs=1, name="mnist-dcgan")
    store.create_run("toy-ring", {"dataset": "ring8"})
    table = runs_table(store, store.list_runs())
    lines = table.splitlines()
    assert lines[0].split() == ["ID", "NAME", "STATUS", "PRESET", "DATASET", "EPOCHS", "CREATED"]
    assert len(lines) == 3
    assert "toy-ring" in lines[1] and "running" in lines[1] and "ring8" in lines[1]
    assert lines[1].split()[3] == "-"  # no preset in its config
    assert lines[2].split()[:6] == ["1", "mnist-dcgan", "finished", "mnist", "mnist", "1/1"]
    # Columns line up: every row starts its NAME column at the same offset.
    assert (
        len({line.index(name) for line, name in zip(lines, ["NAME", "toy", "mnist"], strict=True)})
        == 1
    )
    assert runs_table(store, []) == "(no runs)"


def test_run_summary(store: RunStore) -> None:
    run_id = _fill_run(store, epochs=2)
    summary = run_summary(store, store.get_run(run_id))
    assert "mnist-dcgan" in summary and "finished" in summary
    assert "preset = mnist" in summary
    assert "20 steps, 2 epochs, 2 grid images" in summary
    assert "last epoch: 2 (step 19)" in summary and "loss/g = 0.5" in summary
    assert str(store.root / "runs" / str(run_id)) in summary
    assert "checkpoint" in summary


def test_run_summary_of_empty_run(store: RunStore) -> None:
    run_id = store.create_run("blank", {})
    summary = run_summary(store, store.get_run(run_id))
    assert "blank" in summary and "running" in summary
    assert "0 steps, 0 epochs, 0 grid images" in summary and "events: none" in summary


def test_the_timeline_says_when_a_verdict_is_held(store: RunStore) -> None:
    """A verdict held while the latest evaluation found another kind says so in ``ganwatch
    diagnose``; one the detectors found says nothing more."""
    run_id = store.create_run("ring", {})
    found = Verdict("healthy", 3, 30, 10, 0.82)
    held = Verdict("healthy", 4, 40, 10, 0.08, raw_kind="warming_up")
    for verdict in (found, held):
        store.log_event(run_id, "verdict", verdict.to_dict(), step=verdict.step)
    lines = diagnosis_timeline(store, store.get_run(run_id)).splitlines()
    assert lines[1] == "epoch 3 (step 30): healthy  confidence 0.82, since step 10"
    assert lines[2] == (
        "epoch 4 (step 40): healthy  confidence 0.08, since step 10 "
        "(held: the latest evaluation found warming_up, not yet confirmed)"
    )
