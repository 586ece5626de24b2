"""The JSON the dashboard pages read, and the store's read-only mode they are read through."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from dashboard_support import StoreRuns, build_collapsed_run, write_epoch

from ganwatch.dashboard import data
from ganwatch.store import RunStore, StoreVersionError


def test_read_only_store_sees_new_rows_and_refuses_writes(tmp_path: Path) -> None:
    with RunStore(tmp_path) as writer:
        run_id = writer.create_run("a", {"dataset": "ring"})
        reader = RunStore(tmp_path, read_only=True)
        try:
            assert [run.name for run in reader.list_runs()] == ["a"]
            writer.log_steps(run_id, [(1, {"loss/g": 1.0}), (2, {"loss/g": 2.0})])
            assert reader.last_step(run_id) == 2  # a writer's commits are visible at once
            with pytest.raises(PermissionError):
                reader.create_run("b", {})
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader._conn.execute("DELETE FROM runs")
        finally:
            reader.close()


def test_read_only_store_refuses_a_newer_schema(tmp_path: Path) -> None:
    RunStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "runs.sqlite") as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreVersionError, match="upgrade ganwatch"):
        RunStore(tmp_path, read_only=True)


def test_read_only_store_does_not_create_a_missing_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no run store"):
        RunStore(tmp_path / "absent", read_only=True)
    assert not (tmp_path / "absent").exists()


def test_step_metrics_after_and_image_kinds(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        run_id = store.create_run("a", {})
        write_epoch(store, run_id, 1, 5, np.random.default_rng(0))
        store.save_image(run_id, "ndb", 1, 5, np.zeros((4, 4), dtype=np.uint8))
        steps, _ = store.step_metrics(run_id, ["loss/g"], after=3)["loss/g"]
        assert steps.tolist() == [4, 5]
        assert store.image_kinds(run_id) == ["grid", "ndb"]
        assert store.last_step(run_id) == 5
        assert store.last_step(store.create_run("empty", {})) == 0


def test_clean_makes_valid_json() -> None:
    value = {"a": math.nan, "b": [math.inf, 1.23456789012, np.float32(2.5)], "c": (1, "x")}
    cleaned = data.clean(value, 7)
    assert cleaned == {"a": None, "b": [None, 1.234568, 2.5], "c": [1, "x"]}
    json.dumps(cleaned, allow_nan=False)
    assert data.clean(1764195123.456) == 1764195123.456  # times keep every digit


def test_config_summary() -> None:
    summary = data.config_summary(
        {
            "preset": "latent-2",
            "scale": "quick",
            "dataset": "mnist",
            "latent_dim": 2,
            "lr": 0.0002,
            "beta1": 0.5,
            "batch_size": 64,
            "d_steps": 1,
        }
    )
    assert summary == "latent-2 (quick) · mnist · z 2 · lr 0.0002 · β1 0.5 · batch 64"
    assert "k 5" in data.config_summary({"d_steps": 5})


def event(kind: str, step: int, payload: dict) -> dict:
    return {"kind": kind, "step": step, "time": 0.0, "payload": payload}


def test_verdict_periods_follow_since_steps_and_merge_repeats() -> None:
    events = [
        event("started", 0, {}),
        event("verdict", 10, {"kind": "warming_up", "since_step": 0}),
        event("verdict", 30, {"kind": "healthy", "since_step": 20, "confidence": 0.8}),
        event("verdict", 60, {"kind": "mode_collapse", "since_step": 50, "confidence": 0.6}),
        event(
            "verdict",
            70,
            {
                "kind": "mode_collapse",
                "since_step": 50,
                "confidence": 0.9,
                "evidence": [{"metric": "metric/ndb_k", "value": 0.7}],
            },
        ),
    ]
    periods = data.verdict_periods(events)
    assert [(p["kind"], p["start"], p["end"]) for p in periods] == [
        ("warming_up", 0, 20),
        ("healthy", 20, 50),
        ("mode_collapse", 50, None),
    ]
    assert periods[-1]["count"] == 2
    assert periods[-1]["confidence"] == 0.9  # the latest evidence wins
    assert periods[-1]["evidence"][0]["metric"] == "metric/ndb_k"
    assert data.current_verdict(events)["kind"] == "mode_collapse"
    assert data.current_verdict(events[:1]) is None
    assert periods[-1]["pending"] is None


def test_a_held_verdict_is_pending_and_no_confirmation() -> None:
    """A verdict held while the detectors found another kind (``raw_kind``) names that kind
    and does not count as confirmed; once they find the held kind again, it does."""
    events = [
        event("verdict", 10, {"kind": "healthy", "since_step": 10, "confidence": 0.8}),
        event("verdict", 20, {"kind": "healthy", "raw_kind": "warming_up", "confidence": 0.08}),
    ]
    now = data.current_verdict(events)
    assert (now["kind"], now["pending"], now["count"], now["confidence"]) == (
        "healthy",
        "warming_up",
        1,
        0.08,
    )
    events.append(event("verdict", 30, {"kind": "healthy", "raw_kind": "healthy"}))
    now = data.current_verdict(events)
    assert (now["pending"], now["count"]) == (None, 2)


def sign(metric: str, op: str, note: str = "") -> dict:
    return {"metric": metric, "value": 0.0, "threshold": 0.0, "op": op, "note": note}


PRECISION = sign("metric/precision", "<")
FID = sign("metric/fid", ">")
OFF_MODES = sign("metric/high_quality", "<")
D_WINS = [sign("loss/d_real", "<"), sign("loss/d_fake", "<"), sign("loss/g", ">")]
HIGH_LR = [sign("loss/d_real", "<"), sign("loss/d_fake", ">")]


def test_convergence_failure_note_follows_the_detector_that_fired() -> None:
    note = data.verdict_note
    quality = note("convergence_failure", [PRECISION, FID])
    assert (
        quality
        == "the samples are far from the real data (low precision, FID far above real data's)"
    )
    assert "overpowers" not in quality  # sample quality is not a discriminator that won
    assert note("convergence_failure", [OFF_MODES]) == (
        "the samples are far from the real data (few samples on the modes)"
    )
    speckled = note("convergence_failure", [sign("metric/pixel_realism", "<")])
    assert (
        speckled
        == "the samples are far from the real data (noisy: far from real images pixel for pixel)"
    )
    unlike = note("convergence_failure", [sign("metric/realism", "<"), sign("metric/detail", "<")])
    assert unlike == (
        "the samples are far from the real data (few samples as close to it as real data is, "
        "blurred)"
    )
    assert note("convergence_failure", D_WINS) == "the discriminator overpowers the generator"
    assert "learning rate" in note("convergence_failure", HIGH_LR)
    assert "neither network learns" in note("convergence_failure", [sign("loss/g", "<")])
    both = note("convergence_failure", [PRECISION, *D_WINS])
    assert both.startswith("the samples are far") and both.endswith("overpowers the generator")


def test_verdict_note_ignores_marked_evidence_and_other_kinds() -> None:
    weaker = sign("loss/d_real", "<", "(also a sign of mode collapse) D wins")
    pending = sign("loss/d_fake", "<", "(not yet confirmed: convergence failure, 1 of 2) x")
    assert data.verdict_note("convergence_failure", [PRECISION, weaker, pending]) == (
        "the samples are far from the real data (low precision)"
    )
    assert data.verdict_note("convergence_failure", []) is None  # the page's generic line
    assert data.verdict_note("mode_collapse", [PRECISION]) is None
    periods = data.verdict_periods(
        [
            event("verdict", 10, {"kind": "convergence_failure", "evidence": D_WINS}),
            event("verdict", 20, {"kind": "convergence_failure", "evidence": [PRECISION]}),
        ]
    )
    assert periods[-1]["note"] == "the samples are far from the real data (low precision)"


def test_verdict_without_since_step_starts_at_its_event() -> None:
    periods = data.verdict_periods([event("verdict", 42, {"kind": "divergence"})])
    assert (periods[0]["start"], periods[0]["end"]) == (42, None)


def test_run_summary_of_a_real_run(runs: StoreRuns) -> None:
    with RunStore(runs.root, read_only=True) as store:
        summary = data.run_summary(store, store.get_run(runs.trained))
        collapsed = data.run_summary(store, store.get_run(runs.collapsed))
    assert summary["name"] == "ring-real"
    assert summary["status"] == "finished"
    assert (summary["epochs_done"], summary["epochs_total"], summary["step"]) == (2, 2, 8)
    assert set(summary["last"]) >= {"loss/g", "loss/d_real", "loss/d_fake"}
    with RunStore(runs.root, read_only=True) as store:
        verdicts = store.events(runs.trained, "verdict")
    # the trainer's monitor diagnoses the run; the summary shows its latest verdict
    assert summary["verdict"]["kind"] == verdicts[-1]["payload"]["kind"]
    assert set(summary["metrics"]) >= {"metric/modes_captured", "metric/high_quality"}
    assert len(summary["spark"]) == 2
    assert collapsed["verdict"]["kind"] == "mode_collapse"
    assert collapsed["metrics"]["metric/ndb_k"]["epoch"] == 5  # the latest evaluation
    json.dumps(collapsed, allow_nan=False)


def test_last_values_come_from_steps_before_the_first_epoch(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        run_id = store.create_run("young", {"epochs": 3})
        store.log_steps(run_id, [(1, {"loss/g": 1.0}), (2, {"loss/g": 3.0})])
        summary = data.run_summary(store, store.get_run(run_id))
    assert summary["last"] == {"loss/g": 3.0}
    assert (summary["epochs_done"], summary["step"]) == (0, 2)


def test_step_columns_align_keys_and_fetch_only_new_steps(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        run_id = store.create_run("a", {})
        store.log_steps(run_id, [(1, {"loss/g": 1.0}), (2, {"loss/g": math.nan, "grad/g": 5.0})])
        store.log_steps(run_id, [(3, {"loss/g": 3.0})])
        everything = data.step_columns(store, run_id)
        newer = data.step_columns(store, run_id, after=2)
    assert everything["steps"] == [1, 2, 3]
    assert everything["series"] == {"grad/g": [None, 5.0, None], "loss/g": [1.0, None, 3.0]}
    assert newer == {"after": 2, "steps": [3], "series": {"loss/g": [3.0]}}


def test_run_detail_lists_images_events_and_periods(tmp_path: Path) -> None:
    with RunStore(tmp_path) as store:
        run_id = build_collapsed_run(store)
        detail = data.run_detail(store, store.get_run(run_id), lambda r, k, e: f"/img/{r}/{k}/{e}")
    assert [frame["epoch"] for frame in detail["images"]["grid"]] == [1, 2, 3, 4, 5]
    assert [frame["epoch"] for frame in detail["images"]["ndb"]] == [1, 3, 5]
    assert detail["images"]["grid"][0]["url"] == f"/img/{run_id}/grid/1"
    assert [p["kind"] for p in detail["verdicts"]] == ["warming_up", "healthy", "mode_collapse"]
    assert detail["events"][0]["kind"] == "started"
    assert detail["config"]["preset"] == "latent-2"
