"""A run's life: bad recipes are refused before a run exists, and ganwatch's trainer and a
user's own loop, both through the Monitor, leave the same events for the same outcomes."""

from __future__ import annotations

import numpy as np
import pytest

import ganwatch.monitor.monitor as monitor_module
import ganwatch.training.loop as loop_module
from ganwatch.cli import main
from ganwatch.config import build_config
from ganwatch.data import write_idx
from ganwatch.diagnose import Verdict
from ganwatch.monitor import Monitor
from ganwatch.store import RunStore
from ganwatch.training import train
from test_cli import RING  # the smallest ring run the command line trains


def _runs(store) -> list:
    if not (store / "runs.sqlite").exists():
        return []
    with RunStore(store) as opened:
        return opened.list_runs()


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--loss", "began", "--stabilize", "minibatch-discrimination"], "classifier"),
        (["--model", "cgan", "--loss", "ebgan"], "--model cgan"),
        (["--model", "article"], "--model article"),
        (["--stabilize", "pacgan:0"], "pacgan"),
        (["--stabilize", "ema:-1"], "ema"),
        (["--stabilize", "ttur:0"], "ttur"),
        (["--stabilize", "unrolled:-3"], "unrolled"),
        (["--loss", "wgan", "--stabilize", "label-smoothing"], "no real label"),
        (["--lr", "inf"], "--lr"),
    ],
)
def test_a_bad_recipe_exits_2_and_leaves_no_run(tmp_path, capsys, flags, named):
    store = tmp_path / "store"
    assert main([*RING, *flags, "--store", str(store)]) == 2
    assert named in capsys.readouterr().err
    assert _runs(store) == []


def test_images_of_the_wrong_size_exit_2_before_a_run_exists(tmp_path, capsys):
    data = tmp_path / "mnist"
    data.mkdir()
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        write_idx(
            data / f"{prefix}-images-idx3-ubyte.gz",
            rng.integers(0, 256, (64, 32, 32), dtype=np.uint8),
            gzip=True,
        )
        write_idx(data / f"{prefix}-labels-idx1-ubyte.gz", np.zeros(64, np.uint8), gzip=True)
    store = tmp_path / "store"
    code = main(
        [
            "train",
            "--dataset",
            "mnist",
            "--data-dir",
            str(data),
            "--epochs",
            "1",
            "--device",
            "cpu",
            "--quiet",
            "--store",
            str(store),
        ]
    )
    assert code == 2
    assert "28, 28" in capsys.readouterr().err
    assert _runs(store) == []


def test_a_bad_sweep_cell_is_refused_before_any_cell_trains(tmp_path, capsys):
    sweep = tmp_path / "bad.yaml"
    sweep.write_text(
        "name: bad\nbase:\n  dataset: ring\n  latent-dim: 2\n  train-size: 256\n"
        "  batch-size: 64\n  epochs: 1\n  device: cpu\n"
        "grid:\n  loss: [bce, began]\n  stabilize: [minibatch-discrimination]\n"
    )
    store = tmp_path / "store"
    assert main(["sweep", str(sweep), "--store", str(store)]) == 2
    assert "minibatch-discrimination" in capsys.readouterr().err
    assert _runs(store) == []


def _lifecycle(store, run_id: int) -> list[str]:
    with RunStore(store) as opened:
        return [e["kind"] for e in opened.events(run_id) if e["kind"] != "verdict"]


def _user_loop(store, outcome: str) -> int:
    """A user's own loop through the Monitor, ending as ``outcome`` says."""
    stop_on = ["mode_collapse"] if outcome == "stopped" else []
    rng = np.random.default_rng(0)
    try:
        with Monitor(store=store, name=outcome, stop_on=stop_on) as mon:
            for epoch in range(2):
                for _ in range(4):
                    g = float("nan") if outcome == "diverged" and epoch == 1 else rng.random()
                    mon.log_step(loss_g=g, loss_d_real=0.6, loss_d_fake=0.6)
                if outcome == "interrupted" and epoch == 1:
                    raise KeyboardInterrupt
                mon.end_epoch()
                if mon.should_stop:
                    break
    except KeyboardInterrupt:
        pass
    return mon.run_id


def _trainer(store, outcome: str, monkeypatch) -> int:
    """``ganwatch train`` on the ring, ending as ``outcome`` says."""
    if outcome == "interrupted":
        real_step, calls = loop_module.train_step, {"n": 0}

        def crashing(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 6:
                raise KeyboardInterrupt
            return real_step(*args, **kwargs)

        monkeypatch.setattr(loop_module, "train_step", crashing)
    if outcome == "diverged":
        from ganwatch.losses import objective

        real_loss = objective.bce_generator_loss
        monkeypatch.setattr(objective, "bce_generator_loss", lambda x: real_loss(x) * np.nan)
    values = {
        "dataset": "ring",
        "latent_dim": 2,
        "train_size": 256,
        "batch_size": 64,
        "epochs": 2,
        "device": "cpu",
        "metrics": False,
    }
    if outcome == "stopped":
        values["stop_on"] = "mode_collapse"
    with RunStore(store) as opened:
        try:
            return train(build_config(values), opened, name=outcome, quiet=True).run_id
        except KeyboardInterrupt:
            return opened.list_runs()[-1].id


@pytest.mark.parametrize("outcome", ["finished", "stopped", "diverged", "interrupted"])
def test_a_users_loop_and_the_trainer_leave_the_same_events(tmp_path, monkeypatch, outcome):
    if outcome == "stopped":  # the verdict is not what is tested here: force a collapse
        collapse = Verdict("mode_collapse", 1, 4, 4, 0.95)
        monkeypatch.setattr(monitor_module, "diagnose", lambda *a, **k: collapse)
    user = _lifecycle(tmp_path / "user", _user_loop(tmp_path / "user", outcome))
    trainer = _lifecycle(tmp_path / "train", _trainer(tmp_path / "train", outcome, monkeypatch))
    assert user == trainer == ["started", outcome]
    for store in ("user", "train"):
        with RunStore(tmp_path / store) as opened:
            assert opened.list_runs()[-1].status == outcome
