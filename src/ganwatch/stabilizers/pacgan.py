"""PacGAN (Lin et al. 2018): the discriminator judges packs of ``m`` samples at once.

A pack of samples from a collapsed generator looks alike, and a pack of real samples does not,
so packing lets the discriminator penalise missing modes, which it cannot do one sample at a
time. The discriminator is built for ``m`` times the channels (images) or features (points);
packs are made by concatenating ``m`` consecutive samples of a batch.
"""

from __future__ import annotations

import torch

from ganwatch.stabilizers.base import Stabilizer


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(B, C, ...) -> (B // m, m * C, ...): consecutive samples side by side in the channels.

    A remainder of fewer than ``m`` samples is dropped, as a partial pack has no meaning.
    """
    usable = (x.shape[0] // m) * m
    if usable == 0:
        raise ValueError(f"pacgan: a batch of {x.shape[0]} samples has no full pack of {m}")
    x = x[:usable]
    return x.reshape(usable // m, m * x.shape[1], *x.shape[2:])


class PacGAN(Stabilizer):
    """``--stabilize pacgan:m``: D is built m times wider and judges packs of m samples."""

    def __init__(self, knob: float, total_steps: int = 1) -> None:
        super().__init__(knob, total_steps)
        self.pack = int(knob)

    def discriminator_input(self, x: torch.Tensor, step: int, rng: torch.Generator) -> torch.Tensor:
        return pack(x, self.pack)
