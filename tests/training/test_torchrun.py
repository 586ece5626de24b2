"""``torchrun --nproc_per_node 2 -m ganwatch train`` on the CPU (gloo): one run in the store,
each step once, resumable under torchrun, and the same model as one process trains.

Every rank draws a batch's noise and fake labels whole and keeps its rows, and the gradients
are averaged across ranks weighted by slice size: so two processes at the same effective
batch train what one process does, up to the order of floating-point sums, also on uneven
slices and with a conditional pair. The
tolerances below are what that order allows over 24 steps (measured: losses within 3e-5,
gradient norms within 5e-3 relative; step 1 agrees to 1e-7).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from ganwatch.store import RunStore

ARGS = [
    "--dataset", "ring", "--train-size", "512", "--batch-size", "64", "--device", "cpu",
    "--checkpoint-every", "1", "--quiet",
]  # fmt: skip
STEPS_PER_EPOCH = 8


def _ganwatch(store, *args: str, ranks: int, code: int = 0) -> subprocess.CompletedProcess:
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={ranks}"]
    command = [sys.executable, *(launcher if ranks > 1 else []), "-m", "ganwatch", *args]
    # faulthandler: a rank that aborts prints where each of its threads was
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    done = subprocess.run(
        [*command, "--store", str(store)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == code, done.stdout + done.stderr
    return done


# A conditional pair (fake labels drawn whole, then sliced) on slices of 31 and 32 samples,
# and a last batch of 11 (5 and 6): uneven everywhere.
UNEVEN = [
    "--dataset", "ring", "--model", "cgan", "--train-size", "515", "--batch-size", "63",
    "--device", "cpu", "--epochs", "2", "--quiet",
]  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    store = tmp_path_factory.mktemp("torchrun") / "store"
    _ganwatch(store, "train", *ARGS, "--epochs", "2", "--name", "ddp", ranks=2)
    resumed = _ganwatch(store, "resume", "ddp", "--epochs", "3", "--quiet", ranks=2)
    _ganwatch(store, "train", *ARGS, "--epochs", "3", "--name", "single", ranks=1)
    _ganwatch(store, "train", *UNEVEN, "--name", "uneven-ddp", ranks=2)
    _ganwatch(store, "train", *UNEVEN, "--name", "uneven-single", ranks=1)
    return store, resumed


def test_rank_zero_records_one_run_with_each_step_once(runs):
    store, resumed = runs
    assert resumed.stdout.count("finished: 3 epochs") == 1  # only rank 0 speaks
    with RunStore(store, read_only=True) as opened:
        run = opened.get_run("ddp")
        assert [r.name for r in opened.list_runs()].count("ddp") == 1
        assert run.status == "finished"
        steps, _ = opened.step_metrics(run.id)["loss/g"]
        assert steps.tolist() == list(range(1, 3 * STEPS_PER_EPOCH + 1))
        assert [row["epoch"] for row in opened.epoch_metrics(run.id)] == [1, 2, 3]
        kinds = [e["kind"] for e in opened.events(run.id)]
        kinds = [kind for kind in kinds if kind not in ("verdict", "reference")]
        assert kinds == ["started", "finished", "resumed", "finished"]
        assert len(opened.images(run.id, "grid")) == 3


@pytest.mark.parametrize("pair", [("ddp", "single"), ("uneven-ddp", "uneven-single")])
def test_two_processes_train_what_one_does_at_the_same_batch(runs, pair):
    store, _ = runs
    with RunStore(store, read_only=True) as opened:
        two = opened.step_metrics(opened.get_run(pair[0]).id)
        one = opened.step_metrics(opened.get_run(pair[1]).id)
    assert two.keys() == one.keys()
    for key, (steps, values) in one.items():
        assert two[key][0].tolist() == steps.tolist()
        tolerance = 2e-2 if key.startswith("grad/") else 1e-4
        np.testing.assert_allclose(two[key][1], values, rtol=tolerance, atol=1e-6, err_msg=key)


def test_slices_cover_each_batch_once_and_draws_are_the_whole_batchs():
    from ganwatch.training.distributed import Shards, shardable, sliced_draw

    index = torch.arange(63)
    parts = [Shards(rank, 2).slice(index) for rank in (0, 1)]
    assert torch.cat(parts).tolist() == index.tolist() and [len(p) for p in parts] == [31, 32]
    whole = torch.arange(63 * 3).view(63, 3)
    drawn = []
    for rank in (0, 1):
        shards = Shards(rank, 2)
        part = shards.slice(index)
        rows = sliced_draw(shards, len(part), lambda n: (whole[:n], whole[:n, 0]))
        assert rows[0].shape == (len(part), 3) and rows[1].tolist() == rows[0][:, 0].tolist()
        drawn.append(rows[0])
    assert torch.cat(drawn).tolist() == whole.tolist()  # each row drawn once, by one rank
    assert shardable([(0, 64), (64, 67)], 2) == [(0, 64)]  # 3 < two samples per rank
    assert shardable([(0, 64), (64, 68)], 2) == [(0, 64), (64, 68)]
    assert shardable([(0, 64), (64, 67)], 1) == [(0, 64), (64, 67)]


def test_every_rank_stops_on_rank_zeros_verdict(tmp_path):
    """--stop-on under torchrun: rank 0's verdict reaches the other rank through end_epoch,
    so both leave the loop in the same epoch (one alone would leave the other waiting in its
    next all-reduce, and the launch would hang), and both wait out --stop-min-epochs (the
    untrained ring is a convergence failure from its first epoch)."""
    store = tmp_path / "store"
    done = _ganwatch(
        store, "train", *ARGS, "--epochs", "6", "--name", "stop",
        "--stop-on", "convergence_failure", "--stop-min-epochs", "3", ranks=2, code=1,
    )  # fmt: skip  # exit 1: a stopped run, on every rank
    assert done.stdout.count("stopping on convergence_failure") == 1  # rank 0 alone says it
    with RunStore(store, read_only=True) as opened:
        run = opened.get_run("stop")
        assert run.status == "stopped"
        epochs = [row["epoch"] for row in opened.epoch_metrics(run.id)]
        assert epochs == [1, 2, 3]


def test_a_rank_leaves_with_its_code_and_its_output_written():
    """exit_rank: one process gets its code back; a rank of a job ganwatch joined leaves at
    once (os._exit skips the finalisation where gloo was seen to abort finished ranks) with
    that code, and what it printed still reaches the pipe (os._exit alone would drop it)."""
    from ganwatch.training.distributed import Shards, exit_rank

    assert exit_rank(3, Shards()) == 3  # a single process: the CLI returns it as usual
    script = (
        "import sys; from ganwatch.training.distributed import Shards, exit_rank\n"
        "print('recorded', end=''); sys.stderr.write('said')\n"
        "exit_rank(3, Shards(1, 2)); print('not reached')\n"
    )
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as in a pipe
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=buffered
    )
    assert (done.returncode, done.stdout, done.stderr) == (3, "recorded", "said")


def test_a_rank_in_a_group_ganwatch_did_not_start_is_left_running(tmp_path):
    """A user's own job calling the CLI inside its process group: its process is not ours to
    end (the group is still up after the command, so exit_rank only returns the code)."""
    import torch.distributed as dist

    from ganwatch.training.distributed import Shards, exit_rank

    rendezvous = f"file://{tmp_path / 'rendezvous'}"
    dist.init_process_group("gloo", init_method=rendezvous, rank=0, world_size=1)
    try:
        assert exit_rank(4, Shards(0, 2)) == 4
    finally:
        dist.destroy_process_group()
