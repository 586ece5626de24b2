"""A small MLP generator/discriminator pair for the 2-D toy benchmarks (ring, grid).

The sizes follow the usual VEEGAN/PacGAN setup: a few fully connected layers of a few hundred
units, enough to fit 8 or 25 Gaussians when training goes well, so that missing modes are the
optimiser's fault rather than the model's capacity.
"""

from __future__ import annotations

import torch
from torch import nn

HIDDEN = 128


def _mlp(sizes: list[int], last: nn.Module | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """Latent vector -> 2-D point (no output squashing: the grid spans [-4, 4])."""

    def __init__(self, latent_dim: int = 2, out_dim: int = 2, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = _mlp([latent_dim, hidden, hidden, hidden, out_dim], None)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """2-D point -> one real/fake logit."""

    def __init__(self, in_dim: int = 2, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.body = _mlp([in_dim, hidden, hidden, hidden], nn.LeakyReLU(0.2))
        self.classifier = nn.Linear(hidden, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


#: The classic fully connected GAN for 28x28 images (Goodfellow et al.'s MNIST setup, with
#: batch normalisation in G as in most of its descendants): small enough to train to varied
#: digits in a few minutes on one CPU core, where the article's convolutional pair needs a GPU.
IMAGE_G_HIDDEN = (256, 512, 1024)
IMAGE_D_HIDDEN = (512, 256)


class ImageMLPGenerator(nn.Module):
    """Latent vector -> image in [-1, 1] of ``shape`` through batch-normalised dense layers."""

    def __init__(self, latent_dim: int, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.latent_dim, self.shape = latent_dim, tuple(shape)
        layers: list[nn.Module] = []
        for a, b in zip((latent_dim, *IMAGE_G_HIDDEN[:-1]), IMAGE_G_HIDDEN, strict=True):
            layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.LeakyReLU(0.2)]
        width = 1
        for size in self.shape:
            width *= size
        self.net = nn.Sequential(*layers, nn.Linear(IMAGE_G_HIDDEN[-1], width), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.shape)


class ImageMLPDiscriminator(nn.Module):
    """Image (flattened) -> one real/fake logit through two dense LeakyReLU layers."""

    def __init__(self, in_features: int) -> None:
        super().__init__()
        self.body = _mlp([in_features, *IMAGE_D_HIDDEN], nn.LeakyReLU(0.2))
        self.classifier = nn.Linear(IMAGE_D_HIDDEN[-1], 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
