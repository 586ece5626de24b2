"""Data-parallel training under ``torchrun``: every rank a shard of each batch, one run.

``torchrun --nproc_per_node N -m ganwatch train ...`` starts N copies of the trainer. Each
keeps the whole (device-resident) dataset and the same random streams: all ranks use rank
0's permutation of the data and draw a batch's noise and fake labels whole, and rank r trains
on its slice of the batch and of those draws; the gradients are averaged across ranks,
weighted by slice size, before every optimiser step (the unrolled look-ahead's too). That is
DistributedDataParallel's rule (gradients all-reduced between backward and step), applied by
an optimiser hook rather than DDP's module wrapper, which does not support the double
backward of gradient penalties (WGAN-GP, DRAGAN). The batch in the config is the effective
batch, so a plain recipe trains the very same model as one process does, up to the order of
floating-point sums.

What depends on a batch's own statistics follows each rank's slice, as under DDP: BatchNorm's
batch statistics, minibatch discrimination, PacGAN's packs, BEGAN's balance term; so do the
draws made per slice (instance noise, a gradient penalty's interpolation weights). A last
batch too small to give each rank two samples is left out of the epoch. Rank 0 owns the run:
the Monitor (the other ranks get a FollowerMonitor), the store, the grids and the checkpoints;
a resume reads the checkpoint on rank 0 and sends it to the others.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from ganwatch.monitor.distributed import from_rank_zero

WORLD_ENV = "WORLD_SIZE"


@dataclass
class Shards:
    """This process's place in the job and the slice of the current batch it trains on."""

    rank: int = 0
    world: int = 1
    offset: int = 0  # where this rank's slice starts in the current batch
    size: int = 0  # how many of the batch's samples it has
    batch: int = 0  # the current batch's full size (0: not sharded yet)

    @property
    def leader(self) -> bool:
        """Rank 0: the one that records, draws the grids and writes checkpoints."""
        return self.rank == 0

    def bounds(self, n: int) -> tuple[int, int]:
        """Where this rank's contiguous part of a batch of ``n`` lies."""
        return n * self.rank // self.world, n * (self.rank + 1) // self.world

    def share(self, n: int) -> float:
        """This rank's part of a batch of ``n``: its gradient's (and records') weight."""
        lo, hi = self.bounds(n)
        return (hi - lo) / n

    def slice(self, index: torch.Tensor) -> torch.Tensor:
        """This rank's part of a batch's indices; remembers where it lies."""
        n = index.shape[0]
        lo, hi = self.bounds(n)
        self.offset, self.size, self.batch = lo, hi - lo, n
        return index[lo:hi]

    @property
    def weight(self) -> float:
        """This rank's share of the current batch."""
        return self.size / self.batch if self.batch else 1.0 / self.world


def current_shards() -> Shards:
    """The job's rank and size when a process group is up, else a single process."""
    if dist.is_available() and dist.is_initialized():
        return Shards(dist.get_rank(), dist.get_world_size())
    return Shards()


def launched_by_torchrun() -> bool:
    """``torchrun`` (or any launcher) asked for more than one process."""
    return int(os.environ.get(WORLD_ENV, "1")) > 1


@contextlib.contextmanager
def process_group(device_name: str = "auto") -> Iterator[Shards]:
    """Join the job torchrun started for the ``with`` block: gloo on CPUs; with GPUs (unless
    the run is on the CPU), NCCL for GPU tensors and gloo for the rest, each rank on its
    local GPU. Without torchrun, one process and nothing to join."""
    if not launched_by_torchrun() or dist.is_initialized():
        yield current_shards()
        return
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device_name != "cpu" and local_rank < torch.cuda.device_count()
    if cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("cpu:gloo,cuda:nccl" if cuda else "gloo")
    try:
        yield current_shards()
        # Every rank past its last collective before any tears the group down: a follower
        # that destroyed it while rank 0 was still closing the run was seen to abort
        # ("terminate called without an active exception") after a finished run.
        dist.barrier()
    finally:
        dist.destroy_process_group()


def exit_rank(code: int, shards: Shards) -> int:
    """End a torchrun rank whose run is recorded and whose group is gone: ``code`` is
    returned by a single process (or one in a group ganwatch did not start), and a rank of a
    job ganwatch joined leaves at once (``os._exit``) after flushing what it wrote.

    Why: a rank that ended the usual way, through the interpreter's finalisation, was seen
    to abort there after a complete run (SIGABRT, "terminate called without an active
    exception", no Python frame left), even though the group had been destroyed, so
    torchrun failed a finished job (BENCHMARKS.md, "A finished torchrun job's exit"). A
    related abort, of processes that exit *without* destroying their group, is described in
    pytorch/pytorch#179291 (gloo's worker threads releasing tensors while the interpreter
    finalises; that PR was abandoned). What ``os._exit`` skips: atexit handlers and the
    finalisation of objects; ganwatch registers none on the train/resume path and has closed
    its store before this is called, so code added there later must not rely on them. A
    run that raised leaves through the usual exit (its code is not 0 either way).
    """
    if shards.world == 1 or dist.is_initialized():
        return code
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(code)


Draw = Any  # a tensor, a tuple of tensors (InfoGAN's codes) or None


def _rows(drawn: Draw, lo: int, hi: int) -> Draw:
    if drawn is None:
        return None
    if isinstance(drawn, tuple):
        return tuple(_rows(part, lo, hi) for part in drawn)
    return drawn[lo:hi]


def sliced_draw(shards: Shards, b: int, draw: Callable[[int], Draw]) -> Draw:
    """``draw(b)`` for ``b`` samples, or, when sharded, the rank's rows of ``draw(batch)``:
    every rank then draws what one process would for the whole batch (the same amount from
    the same stream) and keeps its own part, so ranks never share noise or labels."""
    if shards.world == 1 or shards.batch == 0:
        return draw(b)
    return _rows(draw(shards.batch), shards.offset, shards.offset + b)


def shared_permutation(perm: torch.Tensor, shards: Shards) -> torch.Tensor:
    """Rank 0's epoch order on every rank (one broadcast an epoch). The ranks' streams agree
    by construction, but draws that stay per slice (instance noise, a gradient penalty's
    interpolation) can move them apart on uneven slices; the data must never."""
    if shards.world > 1:
        dist.broadcast(perm, src=0)
    return perm


def shardable(batches: list[tuple[int, int]], world: int) -> list[tuple[int, int]]:
    """The epoch's batches less a last one too small to give every rank two samples (an
    empty slice has no loss, a single sample breaks BatchNorm)."""
    if world > 1 and batches and batches[-1][1] - batches[-1][0] < 2 * world:
        return batches[:-1]
    return batches


def average_gradients_before_step(optimizer: torch.optim.Optimizer, shards: Shards) -> None:
    """Hook ``optimizer`` so that, before each step, its gradients become the batch-weighted
    average over ranks (one all-reduce of one flat tensor per step)."""
    if shards.world == 1 or getattr(optimizer, "_ganwatch_averaged", False):
        return

    def average(opt: torch.optim.Optimizer, args: object, kwargs: object) -> None:
        grads = [p.grad for group in opt.param_groups for p in group["params"]]
        grads = [grad for grad in grads if grad is not None]
        if not grads:
            return
        flat = torch.cat([grad.reshape(-1) for grad in grads])
        flat.mul_(shards.weight)
        dist.all_reduce(flat)
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    optimizer.register_step_pre_hook(average)
    optimizer._ganwatch_averaged = True  # type: ignore[attr-defined]  # hooked once only


def batch_shares(
    batches: list[tuple[int, int]], shards: Shards, device: torch.device
) -> torch.Tensor | None:
    """(batches, 1): this rank's share of each batch of an epoch, known before it starts;
    None in one process (nothing to weigh)."""
    if shards.world == 1:
        return None
    shares = [[shards.share(hi - lo)] for lo, hi in batches]
    return torch.tensor(shares, device=device)


def batch_means(values: torch.Tensor, shares: torch.Tensor | None) -> torch.Tensor:
    """The whole batches' per-step records from each rank's slice records weighted by its
    shares (one all-reduce an epoch): the recorded losses are each batch's mean, as one
    process records them, not rank 0's slice's. In one process, ``values`` as they are."""
    if shares is None:
        return values
    total = values * shares
    dist.all_reduce(total)
    return total


def shared_checkpoint(path: Path | None, shards: Shards) -> Path | bytes:
    """What ``load_checkpoint`` reads: the file itself in one process; under torchrun its
    bytes, read on rank 0 (the only rank that needs the store) and sent to the others."""
    if shards.world == 1:
        assert path is not None
        return path
    return from_rank_zero(path.read_bytes() if shards.leader else None)
