"""``ganwatch sweep``: grid expansion, validation, running and summarising (stopping and
resuming: test_sweep_resume.py).

Every run is tiny (the ring, 256 points, batches of 64: 4 steps an epoch), so a cell
trains in about a second on one CPU thread.
"""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from ganwatch.cli import main
from ganwatch.config import ConfigError
from ganwatch.store import RunStore
from ganwatch.sweep import load_sweep
from sweep_support import runs_by_name, summary_json, sweep, write_sweep

# -- the file -----------------------------------------------------------------------------


def test_grid_expands_to_cells_in_order_with_names(tmp_path):
    path = write_sweep(
        tmp_path,
        '  lr: [1e-3, 0.0002]\n  stabilize: ["", "ema"]\n  seed: [0, 1]\n',
        name="demo",
    )
    spec = load_sweep(path)
    names = [cell.name for cell in spec.cells]
    assert names[:3] == [
        "demo/lr=0.001,stabilize=none,seed=0",
        "demo/lr=0.001,stabilize=none,seed=1",
        "demo/lr=0.001,stabilize=ema,seed=0",
    ]
    assert len(names) == len(set(names)) == 8
    assert names[-1] == "demo/lr=0.0002,stabilize=ema,seed=1"
    last = spec.cells[-1]
    assert last.index == 8 and last.values == {"lr": 0.0002, "stabilize": "ema", "seed": 1}
    # base keys with '-' or '_' alike, applied to every cell; the YAML string 1e-3 is coerced
    assert {c.config.train_size for c in spec.cells} == {256}
    assert {c.config.batch_size for c in spec.cells} == {64}
    assert spec.cells[0].config.lr == 0.001


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("name: t\ngrid: {seed: [0]}\nbogus: 1\n", ["'bogus'", "top-level"]),
        ("grid: {seed: [0]}\n", ["name", "missing"]),
        (
            "name: t\nbase: {learning_rate: 1}\ngrid: {seed: [0]}\n",
            ["base.learning_rate", "unknown"],
        ),
        ("name: t\ngrid: {sed: [0, 1]}\n", ["grid.sed", "unknown config key"]),
        ("name: t\ngrid: {seed: []}\n", ["grid.seed", "non-empty list"]),
        ("name: t\ngrid: {seed: 3}\n", ["grid.seed", "expected a list"]),
        ("name: t\ngrid: {loss: [bce, nope]}\n", ["grid.loss = 'nope'", "--loss", "one of"]),
        ("name: t\ngrid: {lr: [0.001, -1]}\n", ["grid.lr = -1", "--lr"]),
        ("name: t\nbase: {epochs: 0}\ngrid: {seed: [0]}\n", ["base", "--epochs", ">= 1"]),
        ("name: t\nbase: {seed: 1}\ngrid: {seed: [0]}\n", ["grid.seed", "also in base"]),
        ("name: t\ngrid: {lr: [0.001, '1e-3']}\n", ["grid", "same config", "lr=0.001"]),
        ("name: t\ngrid: [1, 2]\n", ["grid", "mapping"]),
        ("name: t\ngrid: {seed: [0]\n", ["not valid YAML"]),
        ("- just\n- a list\n", ["expected a mapping"]),
    ],
)
def test_invalid_files_name_the_file_and_key(tmp_path, text, fragments):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_sweep(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_cli_errors_exit_2_naming_the_file(tmp_path, capsys):
    missing = tmp_path / "missing.yaml"
    assert sweep(missing, tmp_path / "s") == 2
    assert str(missing) in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: t\ngrid: {loss: [nope]}\n")
    assert sweep(bad, tmp_path / "s") == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "grid.loss" in err
    assert not (tmp_path / "s" / "runs.sqlite").exists()  # validated before the store opens


# -- a finished sweep, shared by the read-only tests ----------------------------------------


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """A 2 x 2 sweep (lr x seed) run to the end once: (file, store, stderr, stdout)."""
    folder = tmp_path_factory.mktemp("done")
    path = write_sweep(folder, "  lr: [0.001, 0.0002]\n  seed: [0, 1]\n")
    store = folder / "store"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # capsys is per test
        code = sweep(path, store)
    assert code == 0, err.getvalue()
    return path, store, err.getvalue(), out.getvalue()


def test_sweep_prints_one_line_per_cell_and_a_summary(done):
    _, _, err, out = done
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert len(lines) == 4
    assert lines[0].startswith("[1/4] t/lr=0.001,seed=0 finished: verdict ")
    assert lines[3].startswith("[4/4] t/lr=0.0002,seed=1 finished: verdict ")
    assert "4 finished" in out and "Over seeds" in out


def test_summary_rows_are_the_recorded_values(done, capsys):
    path, store, _, _ = done
    data = summary_json(path, store, capsys)
    cells = data["cells"]
    assert [c["name"] for c in cells] == [c.name for c in load_sweep(path).cells]
    with RunStore(store) as opened:
        for cell in cells:
            run = opened.get_run(cell["name"])
            assert cell["run_id"] == run.id and cell["status"] == "finished"
            epochs = opened.epoch_metrics(run.id)
            assert len(epochs) == 2
            last = epochs[-1]
            assert cell["modes_captured"] == last["metric/modes_captured"]
            assert cell["modes"] == 8
            assert cell["high_quality_pct"] == pytest.approx(100 * last["metric/high_quality"])
            spent = sum(e["time/epoch_s"] + e["time/metrics_s"] for e in epochs)
            assert cell["time_s"] == pytest.approx(spent)
            assert cell["ndb_k"] is None and cell["fid"] is None  # not measured on the ring
            # the verdict is what `ganwatch diagnose` reports last for that run
            assert main(["diagnose", str(run.id), "--json", "--store", str(store)]) == 0
            verdicts = json.loads(capsys.readouterr().out)
            assert verdicts and cell["verdict"] == verdicts[-1]["kind"]


def test_aggregate_is_mean_and_std_over_seeds(done, capsys):
    path, store, _, _ = done
    data = summary_json(path, store, capsys)
    assert [g["grid"] for g in data["groups"]] == [{"lr": 0.001}, {"lr": 0.0002}]
    for group in data["groups"]:
        rows = [c for c in data["cells"] if c["grid"]["lr"] == group["grid"]["lr"]]
        assert group["runs"] == [r["name"] for r in rows] and group["done"] == 2
        for key in ("time_s", "high_quality_pct", "modes_captured"):
            values = np.array([r[key] for r in rows], dtype=float)
            stats = group["metrics"][key]
            assert stats["n"] == 2
            assert stats["mean"] == pytest.approx(values.mean())
            assert stats["std"] == pytest.approx(values.std(ddof=1))
        kinds = [r["verdict"] for r in rows]
        assert group["verdicts"] == {k: kinds.count(k) for k in set(kinds)}
    # the text table shows the same numbers, formatted
    assert sweep(path, store, "--summary") == 0
    text = capsys.readouterr().out
    first = data["groups"][0]["metrics"]["time_s"]
    assert f"{first['mean']:.1f} ± {first['std']:.1f}" in text
    kind, count = next(iter(data["groups"][0]["verdicts"].items()))
    assert f"{kind} {count}/2" in text


def test_markdown_summary(done, capsys):
    path, store, _, _ = done
    capsys.readouterr()
    assert sweep(path, store, "--summary", "--format", "markdown") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| lr | seed | status | verdict | modes | HQ % | time s |"
    assert lines[1].startswith("| ---: | ---: | --- | --- |")
    assert sum(line.startswith("| 0.") for line in lines) == 4 + 2  # cells, then groups


def test_rerun_of_a_finished_sweep_trains_nothing(done, capsys):
    path, store, _, _ = done
    before = {name: [(r.id, r.updated) for r in runs] for name, runs in runs_by_name(store).items()}
    capsys.readouterr()
    assert sweep(path, store) == 0
    err = capsys.readouterr().err
    assert err.count("skipped") == 4 and "4 done, 0 to resume, 0 to start" in err
    after = {name: [(r.id, r.updated) for r in runs] for name, runs in runs_by_name(store).items()}
    assert after == before


def test_summary_before_anything_ran(tmp_path, capsys):
    path = write_sweep(tmp_path, "  lr: [0.001]\n  seed: [0, 1]\n")
    RunStore(tmp_path / "store").close()
    assert sweep(path, tmp_path / "store", "--summary") == 0
    out = capsys.readouterr().out
    assert out.count("not run") == 3  # headline, two rows
    assert "0/2" in out  # none of the seeds done


def test_parallel_jobs_run_cells_in_subprocesses(tmp_path, capsys):
    path = write_sweep(tmp_path, "  batch_size: [64, 128]\n", epochs=1).read_text()
    path = path.replace("  batch_size: 64\n", "")
    (tmp_path / "sweep.yaml").write_text(path)
    store = tmp_path / "store"
    assert sweep(tmp_path / "sweep.yaml", store, "--jobs", "2", "--format", "json") == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # progress went to stderr, stdout is only the JSON
    assert [c["status"] for c in data["cells"]] == ["finished", "finished"]
    assert [c["name"] for c in data["cells"]] == ["t/batch_size=64", "t/batch_size=128"]
    with RunStore(store) as opened:
        counts = [opened.step_count(c["run_id"]) for c in data["cells"]]
    assert counts == [4, 2]  # 256 points in batches of 64, then 128


def test_summary_reads_each_cells_latest_run_and_last_values(tmp_path, capsys):
    """Written straight into a store, so every number is known: the latest run of a name
    counts, each metric is its value at the latest epoch that recorded it, NaN is missing."""
    path = write_sweep(tmp_path, "  seed: [0, 1]\n")
    cells = load_sweep(path).cells
    store = tmp_path / "store"
    with RunStore(store) as opened:
        old = opened.create_run(cells[0].name, cells[0].config.to_dict(), status="failed")
        opened.log_epoch(old, 1, 4, {"metric/modes_captured": 8.0})
        run = opened.create_run(cells[0].name, cells[0].config.to_dict(), status="finished")
        opened.log_epoch(
            run,
            1,
            4,
            {
                "metric/modes_captured": 5.0,
                "metric/modes": 8.0,
                "metric/high_quality": 0.5,
                "time/epoch_s": 1.5,
            },
        )
        opened.log_epoch(
            run,
            2,
            8,
            {
                "metric/modes_captured": 3.0,
                "metric/high_quality": float("nan"),
                "time/epoch_s": 2.0,
                "time/metrics_s": 0.25,
            },
        )
        for kind in ("warming_up", "mode_collapse"):
            opened.log_event(run, "verdict", {"kind": kind})
    data = summary_json(path, store, capsys)
    first, second = data["cells"]
    assert first["run_id"] == run and first["verdict"] == "mode_collapse"
    assert first["modes_captured"] == 3.0 and first["modes"] == 8.0
    assert first["high_quality_pct"] is None  # NaN at the last epoch that recorded it
    assert first["time_s"] == pytest.approx(3.75)
    assert second["status"] == "not run" and second["run_id"] is None
    group = data["groups"][0]
    assert group["metrics"]["time_s"] == {"mean": 3.75, "std": None, "n": 1}
    assert group["verdicts"] == {"mode_collapse": 1} and group["done"] == 1
    assert sweep(path, store, "--summary") == 0
    text = capsys.readouterr().out
    assert "mode_collapse    3/8     -" in text
    assert "3.8 (n=1)" in text and "mode_collapse 1/2" in text
