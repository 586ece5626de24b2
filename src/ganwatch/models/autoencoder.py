"""Autoencoder discriminators whose output is an energy: EBGAN and BEGAN.

EBGAN (Zhao, Mathieu & LeCun, 2017, "Energy-based Generative Adversarial Network") and BEGAN
(Berthelot, Schumm & Metz, 2017, "BEGAN: Boundary Equilibrium Generative Adversarial
Networks") replace the real/fake classifier by an autoencoder: its reconstruction error is the
"energy", trained to be low on real data and high on samples. EBGAN uses the mean squared error
("l2"), BEGAN the mean absolute error ("l1"). Both are averaged over every non-batch dimension,
so the energy's scale does not depend on the image size or on PacGAN's packing.

The encoder reuses the plain discriminators' bodies (the article's two strided convolutions for
images, the MLP body for points), so only the decoder and the embedding are new layers.
``features`` returns the embedding, which is what feature matching and EBGAN's pulling-away
term compare. There is deliberately no ``classifier`` attribute: layers that replace a
classifier head (minibatch discrimination) can check for it and refuse.
"""

from __future__ import annotations

import torch
from torch import nn

from ganwatch.models.article import D_FEATURES, Discriminator
from ganwatch.models.mlp import HIDDEN, MLPDiscriminator, _mlp

IMAGE_EMBEDDING = 64  # embedding size for (C, 28, 28) images
POINT_EMBEDDING = 32  # embedding size for low-dimensional points
ENERGIES = ("l2", "l1")


class AutoencoderDiscriminator(nn.Module):
    """``D(x)`` = per-sample reconstruction error of ``decoder(encoder(x))``, shape (B,)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, energy: str = "l2") -> None:
        super().__init__()
        if energy not in ENERGIES:
            raise ValueError(f"energy must be one of {', '.join(ENERGIES)}, got {energy!r}")
        self.encoder = encoder
        self.decoder = decoder
        self.energy = energy

    def energy_and_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(energy (B,), embedding (B, E)) from one encoder/decoder pass."""
        embedding = self.encoder(x)
        error = self.decoder(embedding) - x
        error = error.square() if self.energy == "l2" else error.abs()
        return error.flatten(1).mean(dim=1), embedding

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding (B, E)."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.energy_and_embedding(x)[0]


class ConvAutoencoderDiscriminator(AutoencoderDiscriminator):
    """(C, 28, 28) images: the article discriminator's conv body -> Linear embedding -> mirror.

    The decoder ends on a plain transposed convolution, without tanh: its output is never shown
    as an image, only compared with the input. Data in [-1, 1] is reachable by a linear output,
    whereas tanh would reach MNIST's many exact -1 background pixels only asymptotically, with
    growing pre-activations and a vanishing gradient, which puts a floor under real energies.
    """

    def __init__(self, channels: int = 1, energy: str = "l2") -> None:
        body = Discriminator(channels).conv  # two strided 4x4 convs: (C, 28, 28) -> 64x7x7
        encoder = nn.Sequential(body, nn.Flatten(), nn.Linear(D_FEATURES * 7 * 7, IMAGE_EMBEDDING))
        decoder = nn.Sequential(
            nn.Linear(IMAGE_EMBEDDING, D_FEATURES * 7 * 7),
            nn.LeakyReLU(0.2),
            nn.Unflatten(1, (D_FEATURES, 7, 7)),
            nn.ConvTranspose2d(D_FEATURES, D_FEATURES, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(D_FEATURES, channels, 4, 2, 1),
        )
        super().__init__(encoder, decoder, energy)


class MLPAutoencoderDiscriminator(AutoencoderDiscriminator):
    """Points: the MLP discriminator's body -> Linear embedding -> MLP decoder (linear output,
    since the toy data is unbounded)."""

    def __init__(self, in_dim: int = 2, energy: str = "l2", hidden: int = HIDDEN) -> None:
        body = MLPDiscriminator(in_dim, hidden).body  # three LeakyReLU layers: D -> hidden
        encoder = nn.Sequential(body, nn.Linear(hidden, POINT_EMBEDDING))
        decoder = _mlp([POINT_EMBEDDING, hidden, hidden, in_dim], None)
        super().__init__(encoder, decoder, energy)
