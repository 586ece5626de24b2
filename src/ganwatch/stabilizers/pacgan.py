"""PacGAN (Lin et al. 2018): the discriminator judges packs of ``m`` samples at once.

A pack of samples from a collapsed generator looks alike, and a pack of real samples does not,
so packing lets the discriminator penalise missing modes, which it cannot do one sample at a
time. The discriminator is built for ``m`` times the channels (images) or features (points);
packs are made by concatenating ``m`` consecutive samples of a batch.
"""

from __future__ import annotations

import torch


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(B, C, ...) -> (B // m, m * C, ...): consecutive samples side by side in the channels.

    A remainder of fewer than ``m`` samples is dropped, as a partial pack has no meaning.
    """
    usable = (x.shape[0] // m) * m
    if usable == 0:
        raise ValueError(f"pacgan: a batch of {x.shape[0]} samples has no full pack of {m}")
    x = x[:usable]
    return x.reshape(usable // m, m * x.shape[1], *x.shape[2:])
