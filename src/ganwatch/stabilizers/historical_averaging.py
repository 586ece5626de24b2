"""Historical averaging (Salimans et al. 2016): penalise parameters far from their past mean.

Each network's loss gains ``weight * ||theta - mean(theta_1..theta_t)||^2``. Pulling the
parameters towards their own history damps the orbits that gradient descent on a two-player
game can circle in, one of the ways GAN training fails to converge. The running mean is updated
after each optimiser step and is part of the checkpoint.
"""

from __future__ import annotations

import torch
from torch import nn

from ganwatch.stabilizers.base import Stabilizer


class ParameterAverage:
    """The running mean of a module's parameters over all the steps taken so far."""

    def __init__(self, module: nn.Module) -> None:
        self.mean = [p.detach().clone() for p in module.parameters()]
        self.count = 1

    def penalty(self, module: nn.Module) -> torch.Tensor:
        """Squared L2 distance of the current parameters to their running mean (differentiable)."""
        return sum(
            ((p - m) ** 2).sum() for p, m in zip(module.parameters(), self.mean, strict=True)
        )

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """Fold the current parameters into the mean: m += (theta - m) / t."""
        self.count += 1
        for p, m in zip(module.parameters(), self.mean, strict=True):
            m.add_((p.detach() - m) / self.count)

    def state_dict(self) -> dict:
        return {"mean": self.mean, "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.mean = [
            m.to(old.device, copy=True) for m, old in zip(state["mean"], self.mean, strict=True)
        ]
        self.count = int(state["count"])


class HistoricalAveraging(Stabilizer):
    """``--stabilize historical-averaging:w``: both losses add w times the distance of their
    parameters to their running mean."""

    def attach(self, generator: nn.Module, discriminator: nn.Module) -> None:
        self.average_g = ParameterAverage(generator)
        self.average_d = ParameterAverage(discriminator)

    def discriminator_penalty(self, discriminator: nn.Module) -> torch.Tensor:
        return self.knob * self.average_d.penalty(discriminator)

    def generator_penalty(self, generator: nn.Module) -> torch.Tensor:
        return self.knob * self.average_g.penalty(generator)

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        self.average_d.update(discriminator)

    def after_generator_step(self, generator: nn.Module) -> None:
        self.average_g.update(generator)

    def state_dict(self) -> dict:
        return {"average_g": self.average_g.state_dict(), "average_d": self.average_d.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.average_g.load_state_dict(state["average_g"])
        self.average_d.load_state_dict(state["average_d"])
