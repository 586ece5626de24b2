"""Features for any images without a download: a seeded, randomly initialised conv net.

Pretrained Inception weights cannot be fetched on offline machines and are the wrong domain
for most GAN data anyway. Naeem et al. (2020, "Reliable Fidelity and Diversity Metrics for
Generative Models") show that the k-NN metrics computed in the features of a *randomly
initialised* network are reliable outside ImageNet. Measured here (docs/any-data.md): on 32x32
photo patches, raw pixels call blurred patches *more* precise than real ones and put a
one-photo collapse inside the real band, while this embedding puts blur 2 to 45 and the
one-photo collapse 11 to 227 standard deviations outside it.

The net is fixed by its seed: every run, on every machine, embeds the same image the same way,
so numbers stay comparable. Images larger than 64x64 are averaged down to at most 64x64 first.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SEED = 0
WIDTHS = (32, 64, 128)
MAX_SIDE = 64
BATCH = 1024


class RandomEmbedding(nn.Module):
    """Three 3x3 conv layers with ReLU (the last two strided), then global average and max
    pooling: (N, C, H, W) in [-1, 1] -> (N, 2 x 128) features."""

    def __init__(self, channels: int, seed: int = SEED) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        layers, width = [], channels
        for i, out in enumerate(WIDTHS):
            with torch.random.fork_rng(devices=[]):  # nn.Conv2d's own init draws globally
                conv = nn.Conv2d(width, out, 3, stride=1 if i == 0 else 2, padding=1)
            bound = math.sqrt(6.0 / (width * 9))  # He-uniform: activations keep their scale
            with torch.no_grad():
                conv.weight.uniform_(-bound, bound, generator=generator)
                conv.bias.zero_()
            layers += [conv, nn.ReLU()]
            width = out
        self.net = nn.Sequential(*layers).eval().requires_grad_(False)

    @property
    def dim(self) -> int:
        return 2 * WIDTHS[-1]

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        side = max(x.shape[-2:])
        if side > MAX_SIDE:
            x = F.adaptive_avg_pool2d(x, tuple(max(1, s * MAX_SIDE // side) for s in x.shape[-2:]))
        h = self.net(x.float())
        return torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Features of any number of images, in batches, on the CPU."""
        parts = [self(x[i : i + BATCH]) for i in range(0, len(x), BATCH)]
        return torch.cat(parts) if parts else torch.empty(0, self.dim)


def linear_probe(
    features: torch.Tensor, labels: torch.Tensor, classes: int, seed: int = SEED, epochs: int = 60
) -> nn.Module:
    """A linear classifier of ``labels`` on ``features`` (standardised), trained in seconds:
    how a user's reference labels become a classifier for class coverage. The caller's global
    random state is left as it was: the probe is fitted inside the user's seeded run."""
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(seed)
        mean, std = features.mean(0), features.std(0).clamp_min(1e-6)
        probe = nn.Sequential(_Standardise(mean, std), nn.Linear(features.shape[1], classes))
        optimiser = torch.optim.Adam(probe.parameters(), lr=1e-2)
        order = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            for index in torch.randperm(len(features), generator=order).split(256):
                loss = F.cross_entropy(probe(features[index]), labels[index])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
    return probe.eval().requires_grad_(False)


class _Standardise(nn.Module):
    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std
