"""Unrolled GANs (Metz et al. 2017): the generator steps against a discriminator k steps ahead.

A generator that collapses onto the mode the current discriminator likes is punished only if it
sees where the discriminator goes next. Before each generator step, a copy of the discriminator
(and its optimiser) takes ``k`` more steps; the generator's loss is computed against that
look-ahead copy, and the copy is then discarded. This is the first-order variant: gradients do
not flow back through the k updates (Metz et al.'s full version differentiates through them,
at k times the memory), which keeps it usable on any model.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from ganwatch.stabilizers.base import Stabilizer


def look_ahead(
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    steps: int,
    d_update: Callable[[nn.Module, torch.optim.Optimizer], None],
) -> nn.Module:
    """A copy of ``discriminator`` after ``steps`` calls of ``d_update(copy, copy_optimizer)``.

    The original and its optimiser state are left exactly as they were.
    """
    ahead = copy.deepcopy(discriminator)
    ahead_opt = type(optimizer)(ahead.parameters(), **optimizer.defaults)
    ahead_opt.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    for _ in range(steps):
        d_update(ahead, ahead_opt)
    ahead.requires_grad_(False)
    return ahead


class Unrolled(Stabilizer):
    """``--stabilize unrolled:k``: G's loss is computed against D k steps ahead."""

    def opponent(
        self,
        discriminator: nn.Module,
        optimizer: torch.optim.Optimizer,
        d_update: Callable[[nn.Module, torch.optim.Optimizer], None],
    ) -> nn.Module:
        return look_ahead(discriminator, optimizer, int(self.knob), d_update)
