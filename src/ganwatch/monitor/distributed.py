"""A Monitor in a torch.distributed job: rank 0 records, every other rank follows.

In a DistributedDataParallel loop every process runs the same script, so every process
would create a Monitor: N runs in the store, N writers, N measurements of the same model.
Instead ``Monitor(...)`` is a full Monitor on rank 0 only; on the other ranks it is a
:class:`FollowerMonitor` with the same methods, which records and measures nothing.

One thing must still agree across ranks: when to stop. If rank 0 alone broke out of the loop
on ``should_stop``, the other ranks would wait for it in their next all-reduce forever. So
``end_epoch`` is a collective: rank 0 broadcasts its verdict, and every rank returns it and
sets ``should_stop`` from it. Every rank must therefore call ``end_epoch`` once per epoch (the
samples or generator given on other ranks are ignored).
"""

from __future__ import annotations

from typing import Any

from ganwatch.diagnose.stopping import StopRule
from ganwatch.diagnose.verdict import Verdict


def _initialized() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank in the default process group (0 when there is none)."""
    import torch.distributed as dist

    return dist.get_rank() if _initialized() else 0


def from_rank_zero(value: Any) -> Any:
    """Rank 0's ``value`` (any picklable object) on every rank; without a process group of
    several, ``value`` itself. Every rank must call it (it is a collective)."""
    import torch.distributed as dist

    if not _initialized() or dist.get_world_size() < 2:
        return value
    box = [value if rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def shared_verdict(verdict: Verdict | None) -> Verdict | None:
    """Rank 0's verdict, on every rank (without a process group of several: ``verdict``)."""
    shared = from_rank_zero(verdict.to_dict() if verdict is not None else None)
    return Verdict.from_dict(shared) if shared is not None else None


class FollowerMonitor:
    """``Monitor(...)`` on a rank other than 0: the Monitor's methods, recording nothing;
    ``end_epoch`` returns rank 0's verdict and sets ``should_stop`` from it."""

    def __init__(self, stop_rule: StopRule | None = None) -> None:
        self.stop_rule = stop_rule or StopRule()
        self.run_id: int | None = None  # the run is rank 0's
        self.verdict: Verdict | None = None
        self.should_stop = False
        self.closed = False

    def prepare(self, samples: int | None = None) -> FollowerMonitor:
        return self

    def log_step(self, *args: Any, **kwargs: Any) -> None:
        return None

    def log_steps(self, rows: Any) -> None:
        return None

    def flush(self) -> None:
        return None

    def end_epoch(self, samples: Any = None, **kwargs: Any) -> Verdict | None:
        self.verdict = shared_verdict(None)
        verdict = self.verdict
        self.should_stop = self.stop_rule.stops(verdict)
        return self.verdict

    def close(self, status: str | None = None, **details: Any) -> None:
        self.closed = True

    def __enter__(self) -> FollowerMonitor:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()
