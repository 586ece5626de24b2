"""A Monitor in a torch.distributed job (two CPU processes, gloo): rank 0 records one run,
the other rank records nothing, and both stop on rank 0's verdict in the same epoch."""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch.distributed as dist
import torch.multiprocessing as mp

from ganwatch.monitor import Monitor
from ganwatch.store import RunStore


def _worker(rank: int, world: int, init: str, store: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        seen = []
        with Monitor(store=store, name="ddp", stop_on=["divergence"]) as mon:
            for epoch in range(1, 6):
                for _ in range(4):
                    # Only rank 0's numbers are recorded: rank 1 logs a NaN that must not count.
                    g = math.nan if (epoch == 3 and rank == 0) or rank == 1 else 0.9
                    mon.log_step(g, 0.6, 0.6)
                verdict = mon.end_epoch()
                seen.append([epoch, verdict.kind if verdict else None, mon.should_stop])
                if mon.should_stop:
                    break
        Path(out, f"rank{rank}.json").write_text(
            json.dumps({"seen": seen, "run_id": mon.run_id, "type": type(mon).__name__})
        )
    finally:
        dist.destroy_process_group()


def test_rank_zero_records_and_every_rank_stops_on_its_verdict(tmp_path) -> None:
    init = f"file://{tmp_path / 'rendezvous'}"
    store = str(tmp_path / "store")
    mp.spawn(_worker, args=(2, init, store, str(tmp_path)), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["type"] == "Monitor" and ranks[1]["type"] == "FollowerMonitor"
    assert ranks[1]["run_id"] is None
    # Both ranks saw the same verdicts and stopped together, at rank 0's divergence.
    assert ranks[0]["seen"] == ranks[1]["seen"]
    assert ranks[0]["seen"][-1] == [3, "divergence", True]
    with RunStore(store, read_only=True) as opened:
        (run,) = opened.list_runs()
        steps = opened.step_metrics(run.id)["loss/g"][0]
        assert run.id == ranks[0]["run_id"]
        assert run.status == "diverged"
    assert len(steps) == 12  # rank 0's three epochs of four steps, once each
    assert not math.isnan(float(steps[0]))  # rank 1's NaNs were never written
