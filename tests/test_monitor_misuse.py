"""A user's loop that uses the Monitor wrongly gets a clear error at once, and loses nothing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganwatch.monitor import Monitor
from ganwatch.store import RunNotFoundError, RunStore


@pytest.mark.parametrize(
    "bad",
    [torch.ones(64), "0.5", [0.5, 0.6], np.ones(3), {"loss": 1.0}, True],
    ids=["batch-tensor", "string", "list", "array", "dict", "bool"],
)
def test_a_value_that_is_not_one_number_is_refused_when_logged(tmp_path, bad) -> None:
    mon = Monitor(store=tmp_path, name="misuse")
    mon.log_step(0.7, 0.6, 0.6)
    with pytest.raises(ValueError, match="loss_g|loss/g"):
        mon.log_step(bad, 0.6, 0.6)
    mon.log_step(torch.tensor(0.8), np.float32(0.5), 0.5)  # numbers and 0-d tensors are fine
    assert mon.end_epoch().epoch == 1  # the good steps are all kept
    mon.close()
    with RunStore(tmp_path) as store:
        run = store.get_run("misuse")
        assert run.status == "finished"
        assert list(store.step_metrics(run.id)["loss/g"][0]) == [1, 2]


def test_a_failed_end_epoch_does_not_use_up_an_epoch(tmp_path) -> None:
    mon = Monitor(reference=np.zeros((100, 5)), store=tmp_path, name="fails")
    mon.log_step(0.7, 0.6, 0.6)
    with pytest.raises(ValueError):
        mon.end_epoch(samples=np.zeros((10, 7)))  # samples that are not the reference's kind
    mon.log_step(0.7, 0.6, 0.6)
    assert mon.end_epoch().epoch == 1
    mon.close()


def test_closing_twice_is_harmless_and_logging_after_close_is_an_error(tmp_path) -> None:
    mon = Monitor(store=tmp_path, name="closed")
    mon.log_step(0.7, 0.6, 0.6)
    mon.end_epoch()
    mon.close()
    mon.close()
    with pytest.raises(RuntimeError, match="closed"):
        mon.log_step(0.7, 0.6, 0.6)
    with RunStore(tmp_path) as store:
        kinds = [e["kind"] for e in store.events(store.get_run("closed").id)]
    assert kinds.count("finished") == 1


def test_an_unknown_run_id_is_refused_at_once(tmp_path) -> None:
    Monitor(store=tmp_path, name="one").close()
    with pytest.raises(RunNotFoundError, match="999"):
        Monitor(store=tmp_path, run_id=999)


def test_samples_that_are_not_finite_are_a_divergence_with_a_warning(tmp_path) -> None:
    mon = Monitor(reference=np.random.default_rng(0).normal(size=(600, 5)), store=tmp_path)
    mon.log_step(0.7, 0.6, 0.6)
    with pytest.warns(RuntimeWarning, match="NaN or infinite"):
        verdict = mon.end_epoch(samples=np.full((64, 5), np.nan))
    assert verdict.kind == "divergence"
    mon.close()


def test_samples_from_a_users_loop_are_kept_as_the_epochs_grid(tmp_path) -> None:
    mon = Monitor(store=tmp_path, name="grid")
    mon.log_step(0.7, 0.6, 0.6)
    mon.end_epoch(samples=torch.rand(80, 1, 28, 28) * 2 - 1)
    mon.close()
    with RunStore(tmp_path) as store:
        ((epoch, _, path),) = store.images(store.get_run("grid").id, "grid")
    assert epoch == 1 and path.is_file()
