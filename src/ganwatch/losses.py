"""GAN losses as plain functions of discriminator logits.

The article trains with ``nn.BCELoss`` on a sigmoid output: the discriminator learns real -> 1,
fake -> 0, and the generator uses the non-saturating loss (its fakes labelled real). On logits,
BCE(sigmoid(x), 1) = softplus(-x) and BCE(sigmoid(x), 0) = softplus(x), which is the same function
without the overflow of exp for large |x|.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bce_discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The article's two discriminator losses, kept apart because it plots them apart."""
    return F.softplus(-real_logits).mean(), F.softplus(fake_logits).mean()


def bce_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: -log D(G(z))."""
    return F.softplus(-fake_logits).mean()
