"""Tests for ganwatch.store: runs, metrics, events, images, and concurrent writers."""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganwatch.store import (
    DEFAULT_STORE,
    SCHEMA_VERSION,
    RunInfo,
    RunNotFoundError,
    RunStore,
    StoreVersionError,
    resolve_store_root,
)

STEPS_PER_WORKER = 2000
BATCH = 10
EVENT_EVERY = 50
EPOCH_EVERY = 200


@pytest.fixture
def store(tmp_path: Path):
    with RunStore(tmp_path / "store") as opened:
        yield opened


def test_resolve_store_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GANWATCH_STORE", raising=False)
    assert resolve_store_root() == tmp_path / DEFAULT_STORE
    monkeypatch.setenv("GANWATCH_STORE", str(tmp_path / "from_env"))
    assert resolve_store_root() == tmp_path / "from_env"
    assert resolve_store_root("explicit") == tmp_path / "explicit"


def test_new_store_has_schema_version_and_wal(store: RunStore) -> None:
    assert store.db_path == store.root / "runs.sqlite"
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    RunStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "runs.sqlite") as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreVersionError):
        RunStore(tmp_path)


def test_create_get_and_list_runs(store: RunStore) -> None:
    config = {
        "preset": "mnist",
        "epochs": 20,
        "lr": 2e-4,
        "betas": [0.5, 0.999],
        "nested": {"a": 1},
    }
    first = store.create_run("mnist", config)
    second = store.create_run("toy", {"dataset": "ring"})
    third = store.create_run("mnist", {"epochs": 5})

    run = store.get_run(first)
    assert isinstance(run, RunInfo)
    assert (run.id, run.name, run.status, run.config) == (first, "mnist", "running", config)
    assert run.created <= run.updated and run.finished is None
    assert store.get_run(str(second)).name == "toy"
    assert store.get_run("mnist").id == third  # a name finds the newest run of that name
    assert [r.id for r in store.list_runs()] == [third, second, first]


def test_config_with_non_json_values_is_stored_as_text(store: RunStore, tmp_path: Path) -> None:
    run_id = store.create_run("paths", {"data": tmp_path})
    assert store.get_run(run_id).config == {"data": str(tmp_path)}


def test_run_named_like_an_id_is_found_by_name(store: RunStore) -> None:
    run_id = store.create_run("777", {})
    assert store.get_run("777").id == run_id


def test_unknown_run_raises_clear_error(store: RunStore) -> None:
    with pytest.raises(RunNotFoundError) as caught:
        store.get_run("nope")
    assert isinstance(caught.value, KeyError)
    assert "nope" in str(caught.value) and str(store.db_path) in str(caught.value)
    with pytest.raises(RunNotFoundError):
        store.get_run(42)
    with pytest.raises(RunNotFoundError):
        store.set_status(42, "finished")
    with pytest.raises(RunNotFoundError):
        store.log_steps(42, [(0, {"loss/g": 1.0})])
    with pytest.raises(RunNotFoundError):
        store.log_event(42, "oops")


def test_statuses_set_and_clear_finished(store: RunStore) -> None:
    run_id = store.create_run("r", {})
    for status in ("finished", "failed", "diverged", "stopped"):
        store.set_status(run_id, status)
        run = store.get_run(run_id)
        assert run.status == status and run.finished is not None
    store.set_status(run_id, "interrupted")
    assert store.get_run(run_id).finished is None
    store.set_status(run_id, "finished")
    store.set_status(run_id, "running")
    run = store.get_run(run_id)
    assert run.status == "running" and run.finished is None
    with pytest.raises(ValueError):
        store.set_status(run_id, "exploded")
    with pytest.raises(ValueError):
        store.create_run("bad", {}, status="exploded")


def test_update_config(store: RunStore) -> None:
    run_id = store.create_run("r", {"epochs": 1})
    store.update_config(run_id, {"epochs": 2, "device": "cpu"})
    assert store.get_run(run_id).config == {"epochs": 2, "device": "cpu"}


def test_relogging_steps_overwrites(store: RunStore) -> None:
    run_id = store.create_run("r", {})
    store.log_steps(run_id, [(step, {"loss/g": float(step), "d/real": 0.5}) for step in range(10)])
    # A resumed run re-records steps 5..9 with new values.
    store.log_steps(run_id, [(step, {"loss/g": -float(step)}) for step in range(5, 10)])
    series = store.step_metrics(run_id)
    steps, values = series["loss/g"]
    assert steps.dtype == np.int64 and values.dtype == np.float64
    assert steps.tolist() == list(range(10))
    assert values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, -5.0, -6.0, -7.0, -8.0, -9.0]
    assert series["d/real"][0].tolist() == list(range(10))
    assert store.step_count(run_id) == 10


def test_step_metrics_sorted_and_filtered(store: RunStore) -> None:
    run_id = store.create_run("r", {})
    store.log_steps(run_id, [(3, {"a": 3.0, "b": 30.0}), (1, {"a": 1.0}), (2, {"a": 2.0})])
    assert store.step_metrics(run_id)["a"][0].tolist() == [1, 2, 3]
    assert list(store.step_metrics(run_id, keys=["b"])) == ["b"]
    assert store.step_metrics(run_id, keys=[]) == {}
    assert store.step_metrics(store.create_run("empty", {})) == {}


def test_nan_and_inf_round_trip(store: RunStore) -> None:
    run_id = store.create_run("r", {})
    logged = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "np": np.float32(0.25)}
    store.log_steps(run_id, [(0, logged)])
    store.log_epoch(run_id, 1, 0, logged)
    series = store.step_metrics(run_id)
    assert math.isnan(series["nan"][1][0])
    assert series["inf"][1][0] == math.inf and series["-inf"][1][0] == -math.inf
    assert series["np"][1][0] == 0.25
    (epoch,) = store.epoch_metrics(run_id)
    assert math.isnan(epoch["nan"]) and epoch["inf"] == math.inf and epoch["-inf"] == -math.inf


def test_epoch_metrics(store: RunStore) -> None:
    run_id = store.create_run("r", {})
    store.log_epoch(run_id, 2, 200, {"loss/g": 2.0})
    store.log_epoch(run_id, 1, 100, {"loss/g": 1.0, "time/epoch_s": 3.5})
    store.log_epoch(run_id, 1, 100, {"loss/g": 1.5})  # re-logged: replaced, not duplicated
    assert store.epoch_metrics(run_id) == [
        {"epoch": 1, "step": 100, "loss/g": 1.5, "time/epoch_s": 3.5},
        {"epoch": 2, "step": 200, "loss/g": 2.0},
    ]


def test_events(store: RunStore) -> None:
    run_id = store.create_run("r", {})
    store.log_event(run_id, "start")
    store.log_event(run_id, "mode_collapse", {"modes": 3, "of": 8}, step=120)
    store.log_event(run_id, "checkpoint", {"path": "c.pt"}, step=200)
    events = store.events(run_id)
    assert [e["kind"] for e in events] == ["start", "mode_collapse", "checkpoint"]
    assert events[0]["payload"] == {} and events[0]["step"] is None
    assert events[1]["payload"] == {"modes": 3, "of": 8} and events[1]["step"] == 120
    assert events[0]["time"] <= events[2]["time"]
    assert [e["step"] for e in store.events(run_id, kind="checkpoint")] == [200]


def test_save_image_and_list(store: RunStore) -> None:
    run_id = store.create_run("r", {})
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 1] = 200
    second = store.save_image(run_id, "grid", 2, 20, rgb)
    first = store.save_image(run_id, "grid", 1, 10, np.full((8, 8), 7, np.uint8))
    store.save_image(run_id, "grid", 2, 21, rgb)  # replaced, not duplicated
    store.save_image(run_id, "scatter", 1, 10, rgb)

    assert first == store.run_dir(run_id) / "grid" / "epoch_0001.png"
    with Image.open(second) as loaded:
        assert np.array_equal(np.asarray(loaded), rgb)
    with Image.open(first) as loaded:
        assert np.asarray(loaded).shape == (8, 8)
    assert store.images(run_id) == [(1, 10, first), (2, 21, second)]
    assert [epoch for epoch, _, _ in store.images(run_id, "scatter")] == [1]
    assert store.images(run_id, "missing") == []
    with pytest.raises(ValueError):
        store.save_image(run_id, "../escape", 1, 1, rgb)


def test_data_persists_across_store_objects(tmp_path: Path) -> None:
    with RunStore(tmp_path) as writer:
        run_id = writer.create_run("r", {"k": 1})
        writer.log_steps(run_id, [(0, {"x": 1.0})])
    with RunStore(tmp_path) as reader:
        assert reader.get_run(run_id).config == {"k": 1}
        assert reader.step_metrics(run_id)["x"][1].tolist() == [1.0]


def _concurrent_writer(root: str, worker: int, shared_run: int, barrier) -> None:
    """Log one run's worth of steps, epochs and events in many small transactions."""
    with RunStore(root) as store:
        barrier.wait()  # start writing at the same moment as the other workers
        own_run = store.create_run(f"worker-{worker}", {"worker": worker})
        for start in range(0, STEPS_PER_WORKER, BATCH):
            steps = range(start, start + BATCH)
            store.log_steps(own_run, [(s, {"loss/g": s + worker, "loss/d": -s}) for s in steps])
            store.log_steps(shared_run, [(s, {f"w{worker}": float(s)}) for s in steps])
            if start % EVENT_EVERY == 0:
                store.log_event(own_run, "tick", {"step": start}, step=start)
                store.log_event(shared_run, f"tick-{worker}", step=start)
            if start % EPOCH_EVERY == 0:
                store.log_epoch(own_run, start // EPOCH_EVERY, start, {"loss/g": float(start)})
        store.set_status(own_run, "finished")


def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    workers = 3
    with RunStore(tmp_path) as store:
        shared_run = store.create_run("shared", {})
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    processes = [
        context.Process(target=_concurrent_writer, args=(str(tmp_path), i, shared_run, barrier))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * workers

    expected_steps = list(range(STEPS_PER_WORKER))
    with RunStore(tmp_path) as store:
        shared = store.step_metrics(shared_run)
        for worker in range(workers):
            run = store.get_run(f"worker-{worker}")
            assert run.status == "finished" and run.config == {"worker": worker}
            series = store.step_metrics(run.id)
            steps, values = series["loss/g"]
            assert steps.tolist() == expected_steps
            assert values.tolist() == [float(s + worker) for s in expected_steps]
            assert series["loss/d"][0].tolist() == expected_steps
            assert len(store.events(run.id, "tick")) == STEPS_PER_WORKER // EVENT_EVERY
            assert len(store.epoch_metrics(run.id)) == STEPS_PER_WORKER // EPOCH_EVERY
            assert shared[f"w{worker}"][0].tolist() == expected_steps
            ticks = store.events(shared_run, f"tick-{worker}")
            assert len(ticks) == STEPS_PER_WORKER // EVENT_EVERY
        assert len(store.list_runs()) == workers + 1


def _open_and_create(root: str, worker: int, barrier) -> None:
    barrier.wait()
    with RunStore(root) as store:
        store.create_run(f"opener-{worker}", {})


def test_processes_opening_a_fresh_store_at_once(tmp_path: Path) -> None:
    workers = 4
    root = tmp_path / "fresh"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    processes = [
        context.Process(target=_open_and_create, args=(str(root), i, barrier))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [p.exitcode for p in processes] == [0] * workers
    with RunStore(root) as store:
        names = sorted(run.name for run in store.list_runs())
    assert names == [f"opener-{i}" for i in range(workers)]
