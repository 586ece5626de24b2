"""The 2-D mixture-of-Gaussians benchmarks used for mode collapse (VEEGAN, PacGAN).

Their point is that the modes are known exactly, so "how many modes does the generator
cover" has a ground truth. That is why the centres and sigma are exposed on their own:
the mode-coverage metrics must use the very numbers the data was drawn from.

The mixtures themselves (layout, modes, sigma) are declared in
:mod:`ganwatch.catalog.datasets`; mixture weights are uniform.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ganwatch.catalog.datasets import mixture_of

__all__ = ["mode_centres", "mode_sigma", "sample_toy"]


def mode_centres(name: str) -> np.ndarray:
    """Return the (K, 2) float64 mode centres; row k is the centre of mode label k.

    Ring modes go counter-clockwise from angle 0, circle after circle (every other circle
    starts half a step on); grid modes are in row-major order of (x, y), i.e. mode
    ``5 * i + j`` is at ``(coords[i], coords[j])``.
    """
    mixture = mixture_of(name)
    if mixture.layout == "ring":
        circles = []
        for i, radius in enumerate(mixture.radii):
            angles = 2.0 * math.pi * (np.arange(mixture.modes) + 0.5 * (i % 2)) / mixture.modes
            circles.append(radius * np.stack([np.cos(angles), np.sin(angles)], axis=1))
        return np.concatenate(circles)
    xs, ys = np.meshgrid(mixture.coords, mixture.coords, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def mode_sigma(name: str) -> float:
    """Return the per-coordinate standard deviation of every mode of ``name``."""
    return mixture_of(name).sigma


def sample_toy(name: str, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` points: (float32 (n, 2) CPU tensor, int64 (n,) mode labels).

    All randomness comes from ``generator``, so a seed fixes the data set exactly.
    """
    centres = torch.as_tensor(mode_centres(name), dtype=torch.float64)
    labels = torch.randint(len(centres), (n,), generator=generator, dtype=torch.int64)
    noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    points = centres[labels] + mode_sigma(name) * noise
    return points.to(torch.float32), labels
