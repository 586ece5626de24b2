"""The examples in ``examples/`` run as a user runs them, at a tiny scale, and record a run."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from ganwatch.store import RunStore

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    ("script", "args", "name"),
    [
        ("dcgan_photos.py", ["--epochs", "2", "--per-photo", "60"], "dcgan-photos"),
        ("mlp_digits.py", ["--epochs", "2"], "mlp-digits"),
    ],
)
def test_example_runs_and_records_verdicts(tmp_path, monkeypatch, capsys, script, args, name):
    store = tmp_path / "runs"
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", [script, *args, "--store", str(store)])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in printed] == ["epoch 1", "epoch 2"]
    runs = RunStore(store).list_runs()
    assert [(r.name, r.status) for r in runs] == [(name, "finished")]
    epochs = RunStore(store).epoch_metrics(runs[0].id)
    assert len(epochs) == 2
    assert all(0 <= row["metric/realism"] <= 1 for row in epochs)
    assert all(row["metric/classes"] > 1 for row in epochs)
