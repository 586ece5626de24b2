"""The article's MNIST generator and discriminator, layer for layer.

"GAN Failure Modes: How to Identify and Monitor Them" uses a small DCGAN-like pair. Keeping the
layers and their order identical to the article makes parameter counts, initialisation and
therefore the failure modes it shows reproducible. The one deliberate difference: the
discriminator returns a logit and the sigmoid moves into the loss
(``binary_cross_entropy_with_logits``), which is the same function but numerically stable;
``d_prob`` gives the article's probability output.
"""

from __future__ import annotations

import torch
from torch import nn

FEATURES = 128  # channels of the generator's 7x7 seed and its transposed convolutions
D_FEATURES = 64


class Generator(nn.Module):
    """Latent vector -> image in [-1, 1]: Linear to 128x7x7, two 2x upsamplings, a 3x3 conv."""

    def __init__(self, latent_dim: int = 128, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.fcn = nn.Sequential(nn.Linear(latent_dim, FEATURES * 7 * 7), nn.LeakyReLU(0.2))
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(FEATURES, FEATURES, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(FEATURES, FEATURES, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(FEATURES, channels, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.fcn(z).view(-1, FEATURES, 7, 7))


class Discriminator(nn.Module):
    """Image -> one real/fake logit: two strided 4x4 convs to 64x7x7, then Linear(3136, 1)."""

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(channels, D_FEATURES, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(D_FEATURES, D_FEATURES, 4, 2, 1),
            nn.LeakyReLU(0.2),
        )
        self.classifier = nn.Linear(D_FEATURES * 7 * 7, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened last convolutional features (what feature matching compares)."""
        return self.conv(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
