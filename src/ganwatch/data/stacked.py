"""Stacked MNIST: three random MNIST digits as the three channels of one image (VEEGAN, PacGAN).

With 10 digits per channel it has 1000 modes, each with a known label, which makes mode
collapse countable on real images: a pretrained digit classifier applied per channel
recovers the mode a generated sample falls in.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["stack_mnist"]


def stack_mnist(
    images: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    n: int,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Build ``n`` stacked samples from uint8 digits ``images`` (N, 28, 28) with ``labels``.

    Channel ``c`` of sample ``i`` is a copy of one source digit drawn uniformly (with
    replacement, independently per channel) using ``generator``. The label is
    ``100 * d0 + 10 * d1 + d2``, with ``d_c`` the digit in channel ``c``.

    Returns (uint8 (n, 3, 28, 28), int64 (n,)) CPU tensors; stacking stays in uint8 so that
    the float copy is only made once, on the training device.
    """
    images = torch.as_tensor(images)
    labels = torch.as_tensor(labels).to(torch.int64)
    if images.ndim != 3 or len(images) != len(labels) or len(images) == 0:
        raise ValueError(
            f"expected images (N, H, W) and labels (N,) with N > 0, got {tuple(images.shape)} "
            f"and {tuple(labels.shape)}"
        )
    picks = torch.randint(len(images), (n, 3), generator=generator)
    stacked = images[picks]
    digits = labels[picks]
    return stacked, 100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2]
