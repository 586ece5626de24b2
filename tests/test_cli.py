"""The ganwatch command end to end: train, resume, runs, show, export, and its errors."""

import pytest

from ganwatch.cli import main

RING = [
    "train",
    "--dataset",
    "ring",
    "--latent-dim",
    "2",
    "--train-size",
    "512",
    "--batch-size",
    "128",
    "--epochs",
    "2",
    "--device",
    "cpu",
    "--quiet",
]


def test_train_then_runs_show_export(tmp_path, capsys):
    store = str(tmp_path / "store")
    assert main([*RING, "--name", "ring-cli", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "run 1 finished: 2 epochs, 8 steps" in out
    assert str(tmp_path / "store" / "runs.sqlite") in out  # says where the run is

    assert main(["runs", "--store", store]) == 0
    listing = capsys.readouterr().out
    assert "ring-cli" in listing and "finished" in listing

    assert main(["show", "ring-cli", "--store", store]) == 0
    shown = capsys.readouterr().out
    assert "latent_dim = 2" in shown and "8 steps" in shown

    out_dir = tmp_path / "export"
    assert main(["export", "1", "--store", store, "--out", str(out_dir)]) == 0
    assert {p.name for p in out_dir.iterdir()} == {
        "steps.csv",
        "epochs.csv",
        "losses.png",
        "grids.png",
    }
    header = (out_dir / "steps.csv").read_text().splitlines()[0]
    assert header.startswith("step,") and "loss/g" in header


def test_store_from_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANWATCH_STORE", str(tmp_path / "env-store"))
    assert main([*RING, "--epochs", "1"]) == 0
    assert (tmp_path / "env-store" / "runs.sqlite").exists()


def test_config_file_and_set_override(tmp_path, capsys):
    config = tmp_path / "ring.yaml"
    config.write_text(
        "dataset: ring\nlatent-dim: 3\ntrain-size: 256\nbatch-size: 128\nepochs: 5\ndevice: cpu\n"
    )
    store = str(tmp_path / "s")
    assert (
        main(["train", "--config", str(config), "--set", "epochs=1", "--quiet", "--store", store])
        == 0
    )
    assert main(["show", "1", "--store", store]) == 0
    shown = capsys.readouterr().out
    assert "latent_dim = 3" in shown and "epochs = 1" in shown


def test_resume_command(tmp_path, capsys):
    store = str(tmp_path / "s")
    assert main([*RING, "--store", store]) == 0
    assert main(["resume", "1", "--epochs", "3", "--quiet", "--store", store]) == 0
    assert "run 1 finished: 3 epochs, 12 steps" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr", "-1"], "--lr: expected a learning rate > 0"),
        (["--beta1", "1.5"], "--beta1: expected a value in [0, 1)"),
        (["--set", "nonsense"], "--set: expected KEY=VALUE"),
        (["--set", "warp=9"], "unknown config keys ['warp']"),
        (["--config", "missing.yaml"], "--config: cannot read missing.yaml"),
    ],
)
def test_bad_train_input_names_the_flag(tmp_path, capsys, argv, message):
    assert main([*RING, "--store", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_unknown_run_is_a_clear_error(tmp_path, capsys):
    from ganwatch.store import RunStore

    RunStore(tmp_path).close()  # a store without that run
    assert main(["show", "nope", "--store", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "runs.sqlite" in err


def test_reading_a_missing_store_says_where_and_creates_nothing(tmp_path, capsys):
    where = tmp_path / "elsewhere"
    for command in (["runs"], ["show", "1"], ["diagnose", "1"], ["export", "1", "--out", "x"]):
        assert main([*command, "--store", str(where)]) == 2, command
        assert f"no run store at {where}" in capsys.readouterr().err
    assert not where.exists()


def test_missing_data_names_files_and_folder(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(
        [
            "train",
            "--dataset",
            "mnist",
            "--data-dir",
            str(empty),
            "--epochs",
            "1",
            "--quiet",
            "--store",
            str(tmp_path / "s"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "train-images-idx3-ubyte" in err and str(empty) in err
    assert main(["runs", "--store", str(tmp_path / "s")]) == 0
    assert "no runs" in capsys.readouterr().out  # no half-made run is left behind
