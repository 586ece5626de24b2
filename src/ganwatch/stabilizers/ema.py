"""An exponential moving average of the generator's weights (Yazıcı et al. 2019).

Samples from the averaged generator are steadier than the raw one's, which oscillates with the
discriminator. The average is what ganwatch evaluates, diagnoses and draws when the stabiliser
is on; the raw generator keeps training. Early steps use a smaller decay,
``min(decay, (1 + t) / (10 + t))``, so that the average is not dominated by the random start.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ganwatch.stabilizers.base import Stabilizer


class GeneratorAverage:
    """A frozen copy of the generator whose weights follow it with decay ``decay``."""

    def __init__(self, generator: nn.Module, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(generator).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for avg, p in zip(self.model.parameters(), generator.parameters(), strict=True):
            avg.lerp_(p.detach(), 1 - decay)
        for avg, b in zip(self.model.buffers(), generator.buffers(), strict=True):
            avg.copy_(b)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])


class GeneratorEMA(Stabilizer):
    """``--stabilize ema:decay``: grids, metrics and the diagnosis use the averaged generator."""

    def attach(self, generator: nn.Module, discriminator: nn.Module) -> None:
        self.average = GeneratorAverage(generator, self.knob)

    def after_generator_step(self, generator: nn.Module) -> None:
        self.average.update(generator)

    def sampling_generator(self, generator: nn.Module) -> nn.Module:
        return self.average.model

    def state_dict(self) -> dict:
        return self.average.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.average.load_state_dict(state)
