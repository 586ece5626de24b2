"""``ganwatch sweep`` stopped part-way and run again: resumed where it stopped, failed cells
left to the others, a changed file refused, a running sweep not run twice."""

from __future__ import annotations

import pytest

from ganwatch.store import RunStore
from ganwatch.sweep.runner import DEAD_REASON, sweep_lock
from sweep_support import interrupt_at_grid, runs_by_name, summary_json, sweep, write_sweep

# -- stopping and resuming ------------------------------------------------------------------


@pytest.mark.parametrize("left_as", ["interrupted", "running"])
def test_stopped_sweep_resumes_where_it_stopped(tmp_path, monkeypatch, capsys, left_as):
    """Ctrl-C in cell 2's second epoch (after its epoch-1 checkpoint); or, with "running",
    the process killed outright so the run still says running. A rerun must leave cell 1
    alone, resume cell 2's run from its checkpoint and start cell 3."""
    path = write_sweep(tmp_path, "  seed: [0, 1, 2]\n")
    store = tmp_path / "store"
    with monkeypatch.context() as patch:
        interrupt_at_grid(patch, call=4)  # cell 1: images 1, 2; cell 2: 3, then 4 raises
        assert sweep(path, store) == 130
    err = capsys.readouterr().err
    assert "[2/3] t/seed=1 interrupted" in err
    assert f"ganwatch sweep {path} --store {store}" in err
    runs = runs_by_name(store)
    assert [r.status for r in runs["t/seed=0"]] == ["finished"]
    assert [r.status for r in runs["t/seed=1"]] == ["interrupted"]
    assert "t/seed=2" not in runs
    first, stopped = runs["t/seed=0"][0], runs["t/seed=1"][0]
    with RunStore(store) as opened:
        steps_before = opened.step_count(first.id)
        if left_as == "running":
            opened.set_status(stopped.id, "running")

    assert sweep(path, store) == 0
    err = capsys.readouterr().err
    assert "1 done, 1 to resume, 1 to start" in err
    assert f"resumed run {stopped.id}, which was {left_as}" in err
    runs = runs_by_name(store)
    assert [(r.id, r.updated) for r in runs["t/seed=0"]] == [(first.id, first.updated)]
    assert [(r.id, r.status) for r in runs["t/seed=1"]] == [(stopped.id, "finished")]
    assert [r.status for r in runs["t/seed=2"]] == ["finished"]
    with RunStore(store) as opened:
        assert opened.step_count(first.id) == steps_before == 8
        assert opened.step_count(stopped.id) == 8
        assert len(opened.epoch_metrics(stopped.id)) == 2
        events = opened.events(stopped.id)
        kinds = [e["kind"] for e in events]
        assert kinds.count("resumed") == 1 and kinds[-1] == "finished"
        # marked by train on Ctrl-C; a run found dead is marked again by the sweep, saying so
        reasons = [e["payload"].get("reason") for e in events if e["kind"] == "interrupted"]
        assert reasons[1:] == ([] if left_as == "interrupted" else [DEAD_REASON])
    cells = summary_json(path, store, capsys)["cells"]
    assert [c["status"] for c in cells] == ["finished"] * 3
    assert cells[1]["run_id"] == stopped.id


def test_stop_before_a_checkpoint_starts_the_cell_again(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, "  seed: [0, 1]\n", checkpoint_every=10)  # only at the end
    store = tmp_path / "store"
    with monkeypatch.context() as patch:
        interrupt_at_grid(patch, call=2)  # cell 1, epoch 2: no checkpoint yet
        assert sweep(path, store) == 130
    assert sweep(path, store) == 0
    assert "was interrupted before a checkpoint" in capsys.readouterr().err
    runs = runs_by_name(store)
    assert [r.status for r in runs["t/seed=0"]] == ["interrupted", "finished"]
    newest = runs["t/seed=0"][-1]
    cells = summary_json(path, store, capsys)["cells"]
    assert cells[0]["run_id"] == newest.id and cells[0]["status"] == "finished"


def test_failed_cell_does_not_stop_the_others(tmp_path, monkeypatch, capsys):
    path = write_sweep(tmp_path, "  seed: [0, 1]\n", epochs=1)
    store = tmp_path / "store"
    with monkeypatch.context() as patch:
        interrupt_at_grid(patch, call=1, error=RuntimeError)
        assert sweep(path, store) == 1
    err = capsys.readouterr().err
    assert "[1/2] t/seed=0 failed" in err and "simulated stop" in err
    assert "[2/2] t/seed=1 finished" in err
    assert sweep(path, store) == 0  # the failed cell is retried, the finished one skipped
    assert [r.status for r in runs_by_name(store)["t/seed=0"]] == ["failed", "finished"]


# -- a changed file -----------------------------------------------------------------------


def test_changed_config_is_refused_unless_restart_changed(tmp_path, capsys):
    store = tmp_path / "store"
    path = write_sweep(tmp_path, "  seed: [0]\n", epochs=1)
    assert sweep(path, store) == 0
    path = write_sweep(tmp_path, "  seed: [0]\n", epochs=2)
    capsys.readouterr()
    assert sweep(path, store) == 2
    err = capsys.readouterr().err
    assert "t/seed=0 (run 1): epochs: 1 -> 2" in err and "--restart-changed" in err
    assert len(runs_by_name(store)["t/seed=0"]) == 1  # nothing trained

    assert sweep(path, store, "--restart-changed") == 0
    runs = runs_by_name(store)["t/seed=0"]
    assert [r.config["epochs"] for r in runs] == [1, 2]
    assert summary_json(path, store, capsys)["cells"][0]["run_id"] == runs[-1].id


def test_a_running_sweep_is_not_run_twice(tmp_path, capsys):
    path = write_sweep(tmp_path, "  seed: [0]\n")
    with RunStore(tmp_path / "store") as store, sweep_lock(store, "t"):
        assert sweep(path, tmp_path / "store") == 2
    assert "already running" in capsys.readouterr().err
    assert "t/seed=0" not in runs_by_name(tmp_path / "store")
