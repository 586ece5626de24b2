"""The stabiliser protocol: a few optional hooks into building and stepping, and its own state.

A stabiliser overrides only the hooks it needs; every hook here does nothing. The training
state builds the chosen stabilisers in the catalog's order (so, for instance, instance noise is
added before PacGAN packs), and the step calls each hook on all of them in that order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn


class Stabilizer:
    """One ``--stabilize`` choice with its knob (the value after ``:``, or its default)."""

    #: The stabiliser's name in the catalog (set when it is built; keys its checkpoint state).
    name: str = ""
    #: Samples D judges together (PacGAN's m); the discriminator is built that many times wider.
    pack: int = 1
    #: D must see real and fake batches in separate calls (minibatch discrimination).
    separate_batches: bool = False

    def __init__(self, knob: float, total_steps: int = 1) -> None:
        self.knob = knob
        self.total_steps = max(1, total_steps)

    # -- building ------------------------------------------------------------------------
    def adapt_discriminator(self, discriminator: nn.Module) -> None:
        """Rewrite D's layers in place, once, before it moves to the device."""

    def attach(self, generator: nn.Module, discriminator: nn.Module) -> None:
        """Keep what the stabiliser tracks of the models (on their device)."""

    def learning_rates(self, lr_g: float, lr_d: float) -> tuple[float, float]:
        return lr_g, lr_d

    def real_target(self, target: float) -> float:
        """The label D is trained towards on real data."""
        return target

    def wrap_generator_loss(self, objective: Any) -> Any:
        """What computes G's loss: the objective itself, or something in its place."""
        return objective

    # -- every step ----------------------------------------------------------------------
    def discriminator_input(self, x: torch.Tensor, step: int, rng: torch.Generator) -> torch.Tensor:
        """What D sees of a batch at generator step ``step``."""
        return x

    def discriminator_penalty(self, discriminator: nn.Module) -> torch.Tensor | None:
        """A term added to D's loss (weighted already), or None."""
        return None

    def generator_penalty(self, generator: nn.Module) -> torch.Tensor | None:
        """A term added to G's loss (weighted already), or None."""
        return None

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """Called after each of D's real (not look-ahead) optimiser steps."""

    def after_generator_step(self, generator: nn.Module) -> None:
        """Called after each of G's optimiser steps."""

    def opponent(
        self,
        discriminator: nn.Module,
        optimizer: torch.optim.Optimizer,
        d_update: Callable[[nn.Module, torch.optim.Optimizer], Any],
    ) -> nn.Module:
        """The discriminator G's loss is computed against."""
        return discriminator

    def sampling_generator(self, generator: nn.Module) -> nn.Module:
        """The generator that grids, metrics and the diagnosis draw from."""
        return generator

    # -- checkpoints ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any] | None:
        """What a checkpoint keeps of the stabiliser (None: nothing)."""
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
