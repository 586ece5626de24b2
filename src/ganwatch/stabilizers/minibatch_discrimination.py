"""Minibatch discrimination (Salimans et al. 2016): let D see how alike the samples of a batch are.

A collapsed generator makes batches of near-identical samples, which one sample alone cannot
reveal. The layer projects each sample's features to ``kernels`` rows of ``kernel_dim`` numbers,
measures for each kernel how close every other sample of the batch is
(``sum_j exp(-||M_i - M_j||_1)``), and appends those closeness numbers to the features, so the
discriminator's last layer can reject batches that lack variety.
"""

from __future__ import annotations

import torch
from torch import nn

from ganwatch.stabilizers.base import Stabilizer

KERNEL_DIM = 8


class MinibatchDiscrimination(nn.Module):
    """features (B, F) -> (B, F + kernels): the features with their batch closeness appended."""

    def __init__(self, in_features: int, kernels: int, kernel_dim: int = KERNEL_DIM) -> None:
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.projection = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        m = (features @ self.projection).view(-1, self.kernels, self.kernel_dim)
        # Plain broadcasting, not torch.cdist: WGAN-GP and DRAGAN differentiate D's gradient
        # again, and cdist's backward has no derivative of its own.
        l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(-1)  # (B, B, kernels)
        closeness = torch.exp(-l1).sum(1) - 1  # (B, kernels), minus each sample's exp(0)
        return torch.cat([features, closeness], dim=1)


def add_minibatch_discrimination(discriminator: nn.Module, kernels: int) -> None:
    """Put the layer in front of ``discriminator.classifier`` (its last Linear), in place.

    Discriminators without a ``classifier`` Linear (the autoencoders of EBGAN and BEGAN) have
    no per-sample decision layer to feed, so they are refused with a clear error.
    """
    head = getattr(discriminator, "classifier", None)
    if not isinstance(head, nn.Linear):
        raise ValueError(
            "--stabilize minibatch-discrimination needs a discriminator with a final Linear "
            f"'classifier' layer; {type(discriminator).__name__} has none "
            "(the energy losses ebgan and began use an autoencoder)"
        )
    layer = MinibatchDiscrimination(head.in_features, kernels)
    discriminator.classifier = nn.Sequential(
        layer, nn.Linear(head.in_features + kernels, head.out_features)
    ).to(head.weight.device)


class DiscriminateMinibatches(Stabilizer):
    """``--stabilize minibatch-discrimination:kernels``: the layer in front of D's head; real
    and fake batches are judged apart, so closeness never mixes them."""

    separate_batches = True

    def adapt_discriminator(self, discriminator: nn.Module) -> None:
        add_minibatch_discrimination(discriminator, int(self.knob))
