"""``ganwatch sweep --engine ray``: cells as Ray Tune trials on a real local Ray (no mocks).

One Ray session serves the whole module: a 4-cell sweep in which one cell is built to fail
(15 discriminator updates per generator update, the 2-D recipe that never converges) and runs
long enough for the stop rule, one cell was interrupted earlier and is resumed, and the others
are too short for the rule. The records reach the store through the engine's one writer.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from ganwatch.cli import main
from ganwatch.config import ConfigError
from ganwatch.store import RunStore
from ganwatch.sweep import load_sweep
from ganwatch.sweep.ray_engine import TRIAL_STORE_PREFIX
from ganwatch.training import train

SWEEP = """\
name: ray-stop
base:
  dataset: ring
  latent_dim: 2
  batch_size: 256
  train_size: 1024
  lr: 5.0e-4
  d_steps: 15
  checkpoint_every: 1
  device: cpu
grid:
  epochs: [1, 2, 3, 6]
stop:
  verdicts: [mode_collapse, convergence_failure]
  min_epochs: 4
resources: {cpu: 1}
"""
STEPS_PER_EPOCH = 4  # 1,024 points in batches of 256


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray")
    path = folder / "sweep.yaml"
    path.write_text(SWEEP)
    store = folder / "store"
    interrupted = load_sweep(path).cells[2]  # epochs=3: stopped after its second epoch

    def stop_after_two(state) -> None:
        if state.epoch == 2:
            raise KeyboardInterrupt

    with RunStore(store) as opened, pytest.raises(KeyboardInterrupt):
        name = interrupted.name
        train(interrupted.config, opened, name=name, quiet=True, on_epoch=stop_after_two)
    before = _trial_stores()
    code = main(["sweep", str(path), "--store", str(store), "--engine", "ray"])
    return path, store, code, _trial_stores() - before


def _trial_stores() -> set[Path]:
    """The trials' private stores in the temporary folder (this machine's workers share it)."""
    return set(Path(tempfile.gettempdir()).glob(f"{TRIAL_STORE_PREFIX}*"))


def _run(store, name):
    with RunStore(store, read_only=True) as opened:
        run = opened.get_run(name)
        return (
            run,
            [e["kind"] for e in opened.events(run.id) if e["kind"] not in ("reference", "verdict")],
            opened.events(run.id),
            opened.step_count(run.id),
            [row["epoch"] for row in opened.epoch_metrics(run.id)],
            len(opened.images(run.id, "grid")),
        )


def test_the_failing_trial_is_stopped_by_its_verdict(swept):
    _, store, code, _ = swept
    assert code == 0  # stopped is an ending like finished
    run, kinds, events, steps, epochs, grids = _run(store, "ray-stop/epochs=6")
    assert run.status == "stopped"
    assert kinds == ["started", "stopped"]
    assert epochs == [1, 2, 3, 4] and steps == 4 * STEPS_PER_EPOCH and grids == 4
    stopped = events[-1]["payload"]
    assert stopped["verdict"] in ("mode_collapse", "convergence_failure")
    last_verdict = [e for e in events if e["kind"] == "verdict"][-1]["payload"]
    assert last_verdict["kind"] == stopped["verdict"]


def test_no_trial_leaves_its_private_store_behind(swept):
    """The stopped trial too: Ray may end its worker as soon as Tune stops it."""
    *_, left_behind = swept
    assert left_behind == set()


@pytest.mark.parametrize("epochs", [1, 2])
def test_the_short_trials_finish_with_every_record(swept, epochs):
    _, store, _, _ = swept
    run, kinds, _, steps, recorded, grids = _run(store, f"ray-stop/epochs={epochs}")
    assert run.status == "finished"
    assert kinds == ["started", "finished"]
    assert recorded == list(range(1, epochs + 1))
    assert steps == epochs * STEPS_PER_EPOCH and grids == epochs


def test_an_interrupted_cell_is_resumed_from_its_checkpoint(swept):
    _, store, _, _ = swept
    run, kinds, _, steps, epochs, grids = _run(store, "ray-stop/epochs=3")
    assert run.status == "finished"
    assert kinds == ["started", "interrupted", "resumed", "finished"]
    assert epochs == [1, 2, 3] and steps == 3 * STEPS_PER_EPOCH and grids == 3
    with RunStore(store, read_only=True) as opened:
        assert len(opened.list_runs()) == 4  # resumed in place, no second run of the cell


def test_a_rerun_trains_nothing_and_the_summary_reads_the_store(swept, capsys):
    path, store, _, _ = swept
    capsys.readouterr()
    assert main(["sweep", str(path), "--store", str(store), "--engine", "ray"]) == 0
    out, err = capsys.readouterr()
    assert "4 done, 0 to resume, 0 to start" in err
    assert "4 cells: 3 finished, 1 stopped" in out


def test_a_stop_rule_needs_the_ray_engine(swept, tmp_path, capsys):
    path, _, _, _ = swept
    assert main(["sweep", str(path), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err  # says what a local sweep uses instead
    assert "stop_on" in err and "stop_min_epochs" in err


@pytest.mark.parametrize(
    ("stop", "fragment"),
    [
        ("stop: {on: [mode_collapse]}", "stop: expected a mapping with keys verdicts"),
        ("stop: {verdicts: [sad]}", "stop.verdicts"),
        ("stop: {min_epochs: 0}", "stop.min_epochs"),
        ("stop: {min_confidence: 1.5}", "stop.min_confidence"),
        ("stop: {min_confidence: sure}", "stop.min_confidence: expected a confidence in"),
        ("resources: {cpu: -1}", "resources.cpu"),
        ("resources: {tpu: 1}", "resources: expected a mapping with keys cpu, gpu"),
    ],
)
def test_bad_stop_and_resources_name_the_key(tmp_path, stop, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: t\ngrid: {{seed: [0]}}\n{stop}\n")
    with pytest.raises(ConfigError, match=fragment):
        load_sweep(path)


def test_without_ray_the_engine_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("name: t\nbase: {dataset: ring}\ngrid: {seed: [0]}\n")
    monkeypatch.setitem(sys.modules, "ray", None)
    assert main(["sweep", str(path), "--store", str(tmp_path / "s"), "--engine", "ray"]) == 2
    assert "pip install 'ganwatch[ray]'" in capsys.readouterr().err


def test_jobs_is_refused_with_the_ray_engine(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("name: t\nbase: {dataset: ring}\ngrid: {seed: [0]}\n")
    store = tmp_path / "s"
    assert main(["sweep", str(path), "--store", str(store), "--engine", "ray", "--jobs", "2"]) == 2
    assert "--jobs is for the local engine" in capsys.readouterr().err


def test_a_trial_that_raises_is_a_failed_cell_naming_the_error(tmp_path, capsys):
    empty = tmp_path / "no-data"
    empty.mkdir()
    path = tmp_path / "fail.yaml"
    path.write_text(
        "name: fail\n"
        f"base: {{dataset: mnist, epochs: 1, train_size: 256, device: cpu, data_dir: {empty}}}\n"
        "grid: {seed: [0]}\n"
    )
    store = tmp_path / "s"
    assert main(["sweep", str(path), "--store", str(store), "--engine", "ray"]) == 1
    err = capsys.readouterr().err
    assert "[1/1] fail/seed=0 failed" in err and "DataNotFoundError: mnist data not found" in err
    with RunStore(store, read_only=True) as opened:
        assert opened.list_runs() == []  # refused before a run existed, as train refuses


def test_the_stop_rule_waits_for_its_epochs_and_its_confidence(tmp_path):
    from ganwatch.sweep.ray_engine import stop_trial

    path = tmp_path / "s.yaml"
    path.write_text(
        "name: t\ngrid: {seed: [0]}\n"
        "stop: {verdicts: mode_collapse, min_epochs: 2, min_confidence: 0.5}\n"
    )
    rule = load_sweep(path).stop
    assert (rule.verdicts, rule.min_epochs, rule.min_confidence) == (("mode_collapse",), 2, 0.5)
    collapse = {"verdict": "mode_collapse", "epoch": 3, "confidence": 0.8}
    assert stop_trial(rule, collapse)
    assert not stop_trial(rule, {**collapse, "confidence": 0.43})  # MNIST's collapse record
    assert not stop_trial(rule, {**collapse, "epoch": 1})
    assert not stop_trial(rule, {**collapse, "verdict": "healthy"})
    path.write_text("name: t\ngrid: {seed: [0]}\nstop: {verdicts: [mode_collapse]}\n")
    assert load_sweep(path).stop.min_confidence == 0.0  # any, as before
