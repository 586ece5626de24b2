"""Runs are never left stuck or lost, and bad input never ends in a traceback (issue 14)."""

from __future__ import annotations

import gzip
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganwatch.cli import main
from ganwatch.data import IdxFormatError, read_idx, write_idx
from ganwatch.monitor import Monitor
from ganwatch.store import RunStore
from ganwatch.store.lock import RunBusyError
from ganwatch.training.checkpoint import load_checkpoint

RING = [
    "--dataset",
    "ring",
    "--latent-dim",
    "2",
    "--train-size",
    "512",
    "--batch-size",
    "64",
    "--device",
    "cpu",
    "--quiet",
]


def _train_in_background(store: Path, epochs: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ganwatch",
            "train",
            *RING,
            "--epochs",
            str(epochs),
            "--checkpoint-every",
            "1",
            "--store",
            str(store),
            "--name",
            "bg",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def _wait_for_steps(store: Path, at_least: int, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (store / "runs.sqlite").exists():
            try:
                with RunStore(store, read_only=True) as opened:
                    runs = opened.list_runs()
                    if runs and opened.step_count(runs[0].id) >= at_least:
                        return
            except FileNotFoundError:  # the file exists, its tables not yet: the child is
                pass  # creating the store at this moment
        time.sleep(0.2)
    raise AssertionError("the background run never got going")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_record_the_run_as_interrupted(tmp_path, sig) -> None:
    child = _train_in_background(tmp_path, epochs=500)
    _wait_for_steps(tmp_path, 8)
    child.send_signal(sig)
    assert child.wait(timeout=120) != 0
    with RunStore(tmp_path) as store:
        (run,) = store.list_runs()
        assert run.status == "interrupted"
        (event,) = store.events(run.id, "interrupted")
        assert sig.name in event["payload"]["error"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_stop_signal_dropped_by_a_finaliser_still_stops_training() -> None:
    """Python runs a signal handler wherever the main thread is; inside a finaliser its
    exception is printed and dropped (the run trained on to its end once, exit code 0). The
    check the loop calls at every step raises it again."""
    from ganwatch.training.loop import Terminated, signals_interrupt

    class SignalledWhileFinalised:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10_000):  # the handler runs here; its exception goes nowhere
                pass

    before = signal.getsignal(signal.SIGTERM)
    with signals_interrupt() as check:
        check()  # nothing arrived yet
        SignalledWhileFinalised()  # dropped at once: its __del__ runs
        reached = True  # so the handler's own exception did not stop this code
        with pytest.raises(Terminated, match="SIGTERM"):
            check()
    assert reached
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


def test_a_stop_signal_the_step_check_finds_marks_the_run_interrupted(
    tmp_path, monkeypatch
) -> None:
    """The loop asks at every step whether a stop signal arrived: when the check raises (the
    handler's own exception dropped), training stops there and the run is interrupted."""
    import contextlib

    import ganwatch.training.loop as loop
    from ganwatch.config import build_config
    from ganwatch.training import train

    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 12:  # the 4th step of the 2nd epoch (8 steps an epoch)
            raise loop.Terminated("SIGTERM")

    monkeypatch.setattr(loop, "signals_interrupt", lambda: contextlib.nullcontext(check))
    values = {"dataset": "ring", "latent_dim": 2, "train_size": 512, "batch_size": 64}
    config = build_config({**values, "epochs": 5, "device": "cpu"})
    with RunStore(tmp_path) as store, pytest.raises(loop.Terminated):
        train(config, store, quiet=True)
    with RunStore(tmp_path) as store:
        (run,) = store.list_runs()
        assert run.status == "interrupted"
        (event,) = store.events(run.id, "interrupted")
        assert "SIGTERM" in event["payload"]["error"]
        assert store.step_count(run.id) == 11  # the steps before the check are kept


def test_a_killed_run_is_not_listed_as_running_and_resume_is_locked(tmp_path, capsys) -> None:
    child = _train_in_background(tmp_path, epochs=500)
    _wait_for_steps(tmp_path, 16)
    with RunStore(tmp_path) as store:
        (run,) = store.list_runs()
        # while it trains: running, and a second process may not resume it
        assert store.live_status(run) == "running"
        with pytest.raises(RunBusyError, match="another process"):
            Monitor(store=store, run_id=run.id, step=8, epoch=1)
    child.kill()
    child.wait()
    time.sleep(0.5)
    with RunStore(tmp_path) as store:
        (run,) = store.list_runs()
        assert run.status == "running"  # kill -9 could not record anything...
        import ganwatch.store.runs as runs_module

        before = runs_module.DEAD_AFTER_S
        runs_module.DEAD_AFTER_S = 0.0
        try:
            assert store.live_status(run) == "interrupted"  # ...but no process trains it
            assert main(["runs", "--store", str(tmp_path)]) == 0
            assert "running" not in capsys.readouterr().out
            assert store.mark_dead_runs() == [run.id]
        finally:
            runs_module.DEAD_AFTER_S = before
        assert store.get_run(run.id).status == "interrupted"


def test_resuming_after_a_crash_records_no_verdict_twice(tmp_path) -> None:
    from ganwatch.config import build_config
    from ganwatch.training import resume, train

    values = {
        "dataset": "ring",
        "latent_dim": 2,
        "train_size": 512,
        "batch_size": 64,
        "epochs": 4,
        "checkpoint_every": 2,
        "device": "cpu",
    }
    with RunStore(tmp_path) as store:
        whole = train(build_config(values), store, quiet=True, name="whole")
        first = train(build_config({**values, "epochs": 3}), store, quiet=True, name="split")
        # epoch 3 was committed after the last checkpoint (epoch 2): resume trains it again
        resume(store, first.run_id, epochs=4, quiet=True)
        kinds = lambda run_id: [  # noqa: E731
            e["payload"]["epoch"] for e in store.events(run_id, "verdict")
        ]
        assert kinds(first.run_id) == kinds(whole.run_id)


def test_a_checkpoint_that_could_run_code_is_refused(tmp_path) -> None:
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "checkpoint.pt"
    with path.open("wb") as handle:
        pickle.dump({"generator": Payload()}, handle)
    with pytest.raises(ValueError, match="could run code"):
        load_checkpoint(path, torch.device("cpu"))


def test_a_gzip_of_zeros_is_refused_from_its_header_without_decompressing(tmp_path) -> None:
    path = tmp_path / "bomb-idx3-ubyte.gz"
    with gzip.open(path, "wb") as handle:
        for _ in range(64):
            handle.write(bytes(1 << 20))  # 64 MB of zeros, a few KB compressed
    started = time.perf_counter()
    with pytest.raises(IdxFormatError, match=str(path)):
        read_idx(path)
    assert time.perf_counter() - started < 0.5  # decompressing it all would take longer


def test_a_huge_toy_dataset_is_refused_before_it_is_allocated(tmp_path, capsys) -> None:
    code = main(
        ["train", "--dataset", "ring", "--train-size", "100000000000", "--store", str(tmp_path)]
    )
    assert code == 2 and "GiB" in capsys.readouterr().err


def test_labels_outside_the_classes_name_the_file(tmp_path, capsys) -> None:
    data = tmp_path / "mnist"
    data.mkdir()
    for prefix in ("train", "t10k"):
        write_idx(
            data / f"{prefix}-images-idx3-ubyte.gz", np.zeros((64, 28, 28), np.uint8), gzip=True
        )
        write_idx(data / f"{prefix}-labels-idx1-ubyte.gz", np.full(64, 12, np.uint8), gzip=True)
    code = main(
        [
            "train",
            "--dataset",
            "mnist",
            "--model",
            "cgan",
            "--data-dir",
            str(data),
            "--epochs",
            "1",
            "--store",
            str(tmp_path / "s"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "train-labels-idx1-ubyte.gz" in err and "0..9" in err


def test_a_bad_value_in_a_config_file_names_the_file(tmp_path, capsys) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("lr: fast\n")
    assert main(["train", "--config", str(config), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and "'lr'" in err


def test_abbreviated_flags_are_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--epoch", "3"])
    assert "--epoch" in capsys.readouterr().err


def test_a_store_the_user_cannot_write_can_be_read(tmp_path, capsys) -> None:
    store = tmp_path / "theirs"
    assert main(["train", *RING, "--epochs", "1", "--store", str(store)]) == 0
    for path in (store, store / "runs.sqlite"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        capsys.readouterr()
        assert main(["runs", "--store", str(store)]) == 0
        assert "finished" in capsys.readouterr().out
        assert main(["show", "1", "--store", str(store)]) == 0
    finally:
        store.chmod(0o755)


def test_show_prints_events_readably_and_runs_counts_a_loops_epochs(tmp_path, capsys) -> None:
    mon = Monitor(store=tmp_path, name="loop")
    for _ in range(2):
        mon.log_step(0.7, 0.6, 0.6)
        mon.end_epoch()
    mon.close()
    assert main(["show", "loop", "--store", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert "{" not in shown.split("events")[-1]  # no raw dicts among the events
    assert main(["runs", "--store", str(tmp_path)]) == 0
    assert " 2 " in capsys.readouterr().out  # two epochs recorded


def test_a_dollar_sign_in_a_run_name_exports(tmp_path) -> None:
    store = tmp_path / "s"
    assert (
        main(["train", *RING, "--epochs", "1", "--name", "cost $5 $x^2$", "--store", str(store)])
        == 0
    )
    assert main(["export", "1", "--store", str(store), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "losses.png").is_file()


def test_output_to_a_closed_pipe_does_not_fail_the_run(tmp_path) -> None:
    store = tmp_path / "s"
    command = (
        f"{sys.executable} -m ganwatch train {' '.join(RING[:-1])} --epochs 3 "
        f"--store {store} | head -c 1"
    )
    subprocess.run(command, shell=True, check=False, capture_output=True, timeout=300)
    with RunStore(store) as opened:
        assert opened.list_runs()[0].status == "finished"


def test_the_data_folder_from_the_environment_is_recorded(tmp_path, mnist_dir, monkeypatch):
    monkeypatch.setenv("GANWATCH_DATA_DIR", str(mnist_dir))
    assert (
        main(
            [
                "train",
                "--dataset",
                "mnist",
                "--train-size",
                "64",
                "--batch-size",
                "64",
                "--epochs",
                "1",
                "--no-metrics",
                "--device",
                "cpu",
                "--quiet",
                "--store",
                str(tmp_path),
            ]
        )
        == 0
    )
    with RunStore(tmp_path) as store:
        assert store.list_runs()[0].config["data_dir"] == str(mnist_dir)
