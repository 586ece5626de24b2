"""Instance noise (Sønderby et al. 2017; Arjovsky & Bottou 2017), annealed to zero.

Early in training the real and generated distributions barely overlap, so a discriminator can
separate them perfectly and its gradients carry no information: the "D wins" convergence
failure. Gaussian noise added to everything D sees makes the two distributions overlap; it is
annealed linearly to zero so that the end of training fits the real data, not a blurred copy.
"""

from __future__ import annotations

import torch

from ganwatch.stabilizers.base import Stabilizer


def noise_std(start: float, step: int, total_steps: int) -> float:
    """The noise std at generator step ``step`` of ``total_steps``: linear from ``start`` to 0."""
    if total_steps <= 0:
        return 0.0
    return start * max(0.0, 1.0 - step / total_steps)


def add_instance_noise(
    x: torch.Tensor, std: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``x`` plus N(0, std^2) noise drawn from ``generator`` (x itself when std is 0)."""
    if std <= 0:
        return x
    noise = torch.randn(x.shape, device=x.device, dtype=x.dtype, generator=generator)
    return x + std * noise


class InstanceNoise(Stabilizer):
    """``--stabilize instance-noise:std``: noise on all D sees, annealed to 0 at the last step."""

    def discriminator_input(self, x: torch.Tensor, step: int, rng: torch.Generator) -> torch.Tensor:
        return add_instance_noise(x, noise_std(self.knob, step, self.total_steps), rng)
