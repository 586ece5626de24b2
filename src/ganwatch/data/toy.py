"""The 2-D mixture-of-Gaussians benchmarks used for mode collapse (VEEGAN, PacGAN).

Their point is that the modes are known exactly, so "how many modes does the generator
cover" has a ground truth. That is why the centres and sigma are exposed on their own:
the mode-coverage metrics must use the very numbers the data was drawn from.

- ``ring``: 8 Gaussians evenly spaced on a circle of radius 1, sigma 0.01;
- ``grid``: 25 Gaussians centred on {-4, -2, 0, 2, 4}^2, sigma 0.05.

Mixture weights are uniform.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["TOY_DATASETS", "mode_centres", "mode_sigma", "sample_toy"]

TOY_DATASETS = ("ring", "grid")

_RING_MODES = 8
_RING_RADIUS = 1.0
_GRID_COORDS = (-4.0, -2.0, 0.0, 2.0, 4.0)
_SIGMAS = {"ring": 0.01, "grid": 0.05}


def _check(name: str) -> None:
    if name not in TOY_DATASETS:
        raise ValueError(f"unknown toy dataset {name!r}; valid: {', '.join(TOY_DATASETS)}")


def mode_centres(name: str) -> np.ndarray:
    """Return the (K, 2) float64 mode centres; row k is the centre of mode label k.

    Ring modes go counter-clockwise from angle 0; grid modes are in row-major order of
    (x, y), i.e. mode ``5 * i + j`` is at ``(coords[i], coords[j])``.
    """
    _check(name)
    if name == "ring":
        angles = 2.0 * math.pi * np.arange(_RING_MODES) / _RING_MODES
        return _RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    xs, ys = np.meshgrid(_GRID_COORDS, _GRID_COORDS, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def mode_sigma(name: str) -> float:
    """Return the per-coordinate standard deviation of every mode of ``name``."""
    _check(name)
    return _SIGMAS[name]


def sample_toy(name: str, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``n`` points: (float32 (n, 2) CPU tensor, int64 (n,) mode labels).

    All randomness comes from ``generator``, so a seed fixes the data set exactly.
    """
    centres = torch.as_tensor(mode_centres(name), dtype=torch.float64)
    labels = torch.randint(len(centres), (n,), generator=generator, dtype=torch.int64)
    noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    points = centres[labels] + mode_sigma(name) * noise
    return points.to(torch.float32), labels
