"""A run copied between stores batch by batch, as the Ray engine copies a trial's records.

No Ray here: two (or three) local stores stand for the trial's machine and the sweep's store.
"""

from __future__ import annotations

import pytest

from ganwatch.config import build_config
from ganwatch.store import RunStore
from ganwatch.sweep import mirror
from ganwatch.training import resume, train
from ganwatch.training.checkpoint import checkpoint_path

CONFIG = {
    "dataset": "ring",
    "train_size": 256,
    "batch_size": 64,  # 4 steps an epoch
    "epochs": 4,
    "checkpoint_every": 1,
    "device": "cpu",
}
STEPS_PER_EPOCH = 4


def _forwarding(local: RunStore, target: RunStore, cursor: mirror.Cursor, ids: dict):
    """An on_epoch that sends what is new, as a trial does; ``ids["target"]`` is the copy."""

    def forward(state=None) -> None:
        batch = mirror.collect(local, local.list_runs()[0].id, cursor)
        ids["target"] = mirror.apply(target, ids.get("target"), batch)

    return forward


def _grid_of_epoch(store: RunStore, run_id: int, epoch: int) -> bytes | None:
    found = [path for number, _, path in store.images(run_id, "grid") if number == epoch]
    return found[0].read_bytes() if found else None


def _kinds(store: RunStore, run_id: int) -> list[str]:
    return [e["kind"] for e in store.events(run_id) if e["kind"] not in ("reference",)]


def test_a_copied_run_matches_its_source(tmp_path):
    with RunStore(tmp_path / "trial") as local, RunStore(tmp_path / "sweep") as target:
        cursor, ids = mirror.Cursor(), {}
        forward = _forwarding(local, target, cursor, ids)
        result = train(build_config(CONFIG), local, name="cell", quiet=True, on_epoch=forward)
        forward()  # the end: the "finished" event and status
        copy = ids["target"]
        assert target.get_run(copy).name == "cell"
        assert target.get_run(copy).config == local.get_run(result.run_id).config
        assert target.get_run(copy).status == "finished"
        assert target.epoch_metrics(copy) == local.epoch_metrics(result.run_id)
        source_steps = local.step_metrics(result.run_id)
        copied_steps = target.step_metrics(copy)
        assert source_steps.keys() == copied_steps.keys()
        for key, (steps, values) in source_steps.items():
            assert steps.tolist() == copied_steps[key][0].tolist()
            assert values.tolist() == pytest.approx(copied_steps[key][1].tolist(), nan_ok=True)
        assert target.step_count(copy) == 4 * STEPS_PER_EPOCH
        assert [e["kind"] for e in target.events(copy)] == [
            e["kind"] for e in local.events(result.run_id)
        ]
        for kind in local.image_kinds(result.run_id):
            source = [path.read_bytes() for _, _, path in local.images(result.run_id, kind)]
            copied = [path.read_bytes() for _, _, path in target.images(copy, kind)]
            assert copied == source and len(source) >= 1
        local_checkpoint = checkpoint_path(local.run_dir(result.run_id)).read_bytes()
        assert checkpoint_path(target.run_dir(copy)).read_bytes() == local_checkpoint
        # Nothing new since the last batch: an empty one, which changes nothing.
        empty = mirror.collect(local, result.run_id, cursor)
        assert not (empty["steps"] or empty["epochs"] or empty["events"] or empty["images"])
        assert empty["checkpoint"] is None


def test_a_run_resumed_on_another_machine_keeps_each_step_and_verdict_once(tmp_path):
    def stop_after_two(state) -> None:
        forward(state)
        if state.epoch == 2:
            raise KeyboardInterrupt

    with RunStore(tmp_path / "first") as first, RunStore(tmp_path / "sweep") as target:
        cursor, ids = mirror.Cursor(), {}
        forward = _forwarding(first, target, cursor, ids)
        with pytest.raises(KeyboardInterrupt):
            train(build_config(CONFIG), first, name="cell", quiet=True, on_epoch=stop_after_two)
        forward()
        copy = ids["target"]
        assert target.get_run(copy).status == "interrupted"
        verdicts_before = len(target.events(copy, "verdict"))
        # A second machine: the run's past goes there, and its records come back.
        with RunStore(tmp_path / "second") as second:
            local_id = mirror.restore(second, mirror.history(target, copy))
            assert second.epoch_metrics(local_id) == target.epoch_metrics(copy)
            cursor = mirror.Cursor()
            mirror.collect(second, local_id, cursor)  # the past is not sent back
            again = mirror.collect(second, local_id, cursor)
            assert not (again["epochs"] or again["events"] or again["checkpoint"])
            forward = _forwarding(second, target, cursor, ids)
            resume(second, local_id, quiet=True, on_epoch=forward)
            forward()
        assert ids["target"] == copy
        assert target.get_run(copy).status == "finished"
        assert target.step_count(copy) == 4 * STEPS_PER_EPOCH
        assert [row["epoch"] for row in target.epoch_metrics(copy)] == [1, 2, 3, 4]
        assert _kinds(target, copy)[0] == "started"
        assert [k for k in _kinds(target, copy) if k != "verdict"] == [
            "started",
            "interrupted",
            "resumed",
            "finished",
        ]
        epochs_with_verdict = [e["payload"]["epoch"] for e in target.events(copy, "verdict")]
        assert len(epochs_with_verdict) == len(set(epochs_with_verdict)) >= verdicts_before


def test_epochs_trained_again_after_the_checkpoint_are_sent_again(tmp_path):
    """Checkpoint at epoch 2, stopped after epoch 3: the resume trains epoch 3 again, under
    the same number, and the copy must end with the new epoch 3, not the first one (its
    time/epoch_s, at least, differs: the resume is otherwise exact on the CPU)."""

    def stop_after_three(state) -> None:
        forward(state)
        if state.epoch == 3:
            raise KeyboardInterrupt

    config = build_config({**CONFIG, "checkpoint_every": 2})
    with RunStore(tmp_path / "first") as first, RunStore(tmp_path / "sweep") as target:
        cursor, ids = mirror.Cursor(), {}
        forward = _forwarding(first, target, cursor, ids)
        with pytest.raises(KeyboardInterrupt):
            train(config, first, name="cell", quiet=True, on_epoch=stop_after_three)
        forward()
        copy = ids["target"]
        first_epoch_three = target.epoch_metrics(copy)[2]
        with RunStore(tmp_path / "second") as second:
            local_id = mirror.restore(second, mirror.history(target, copy))
            cursor = mirror.Cursor()
            mirror.collect(second, local_id, cursor)
            forward = _forwarding(second, target, cursor, ids)
            resume(second, local_id, quiet=True, on_epoch=forward)
            forward()
            assert target.epoch_metrics(copy) == second.epoch_metrics(local_id)
            retrained = second.step_metrics(local_id, after=2 * STEPS_PER_EPOCH)["loss/g"]
            copied = target.step_metrics(copy, after=2 * STEPS_PER_EPOCH)["loss/g"]
            assert copied[0].tolist() == retrained[0].tolist()
            assert copied[1].tolist() == pytest.approx(retrained[1].tolist())
            new_grid = _grid_of_epoch(second, local_id, 3)
            assert new_grid is not None and _grid_of_epoch(target, copy, 3) == new_grid
        assert target.epoch_metrics(copy)[2]["epoch"] == 3
        assert target.step_count(copy) == 4 * STEPS_PER_EPOCH
        assert target.get_run(copy).status == "finished"
        assert first_epoch_three["step"] == target.epoch_metrics(copy)[2]["step"]
