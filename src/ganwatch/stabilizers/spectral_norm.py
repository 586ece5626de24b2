"""Spectral normalisation (Miyato et al. 2018) of every weight layer of the discriminator.

Dividing each layer's weight by its largest singular value (estimated by one power iteration
per forward pass) bounds the discriminator's Lipschitz constant, which keeps its gradients
informative and stops it from overpowering the generator.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganwatch.stabilizers.base import Stabilizer

LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def apply_spectral_norm(module: nn.Module) -> int:
    """Parametrise every Linear / Conv2d / ConvTranspose2d weight in ``module``; return how many."""
    layers = [m for m in module.modules() if isinstance(m, LAYERS)]
    for layer in layers:
        spectral_norm(layer)
    return len(layers)


class SpectralNorm(Stabilizer):
    """``--stabilize spectral-norm``: every weight layer of D spectrally normalised."""

    def adapt_discriminator(self, discriminator: nn.Module) -> None:
        apply_spectral_norm(discriminator)
