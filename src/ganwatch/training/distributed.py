"""Data-parallel training under ``torchrun``: every rank a shard of each batch, one run.

``torchrun --nproc_per_node N -m ganwatch train ...`` starts N copies of the trainer. Each
keeps the whole (device-resident) dataset and the same random streams, so all ranks draw the
same permutation and the same noise for a batch; rank r trains on its slice of the batch and
of that batch's noise, and the gradients are averaged across ranks, weighted by slice size,
before every optimiser step. That is DistributedDataParallel's rule (gradients all-reduced
between backward and step), applied by an optimiser hook rather than DDP's module wrapper,
which does not support the double backward of gradient penalties (WGAN-GP, DRAGAN). The batch
in the config is the effective batch, so a plain recipe trains the very same model as one
process does, up to the order of floating-point sums.

What depends on a batch's own statistics follows each rank's slice, as under DDP: BatchNorm's
batch statistics, minibatch discrimination, PacGAN's packs, BEGAN's balance term. Rank 0 owns
the run: the Monitor (the other ranks get a FollowerMonitor), the store, the grids and the
checkpoints; a resume reads the checkpoint on rank 0 and sends it to the others.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

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

    def slice(self, index: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous part of a batch's indices; remembers where it lies."""
        n = index.shape[0]
        lo, hi = n * self.rank // self.world, n * (self.rank + 1) // self.world
        self.offset, self.size, self.batch = lo, hi - lo, n
        return index[lo:hi]

    @property
    def weight(self) -> float:
        """This rank's share of the batch: its gradient's weight in the average."""
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
def process_group() -> Iterator[Shards]:
    """Join the job torchrun started for the ``with`` block (gloo for CPU tensors, NCCL for
    GPU ones, each rank on its local GPU); without torchrun, one process, nothing to join."""
    if not launched_by_torchrun() or dist.is_initialized():
        yield current_shards()
        return
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("cpu:gloo,cuda:nccl" if cuda else "gloo")
    try:
        yield current_shards()
    finally:
        dist.destroy_process_group()


def latent_noise(shards: Shards, b: int, latent_dim: int, device, rng) -> torch.Tensor:
    """Noise for ``b`` samples: the rank's slice of the whole batch's draw when sharded, so
    that every rank's stream stays the one a single process would draw."""
    if shards.world == 1 or shards.batch == 0:
        return torch.randn(b, latent_dim, device=device, generator=rng)
    full = torch.randn(shards.batch, latent_dim, device=device, generator=rng)
    return full[shards.offset : shards.offset + b]


def average_gradients_before_step(optimizer: torch.optim.Optimizer, shards: Shards) -> None:
    """Hook ``optimizer`` so that, before each step, its gradients become the batch-weighted
    average over ranks (one all-reduce of one flat tensor per step)."""
    if shards.world == 1:
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


def mean_over_ranks(values: torch.Tensor, shards: Shards) -> torch.Tensor:
    """The per-step records averaged over ranks (one all-reduce an epoch), so the recorded
    losses are the whole batch's, not rank 0's slice's."""
    if shards.world == 1:
        return values
    total = values.clone()
    dist.all_reduce(total)
    return total / shards.world


def shared_value(value: Any, shards: Shards) -> Any:
    """Rank 0's ``value`` (a run's config, a checkpoint's bytes) on every rank."""
    if shards.world == 1:
        return value
    box = [value if shards.leader else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]
