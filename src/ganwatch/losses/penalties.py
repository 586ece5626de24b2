"""Lipschitz constraints on the discriminator: gradient penalties and weight clipping.

WGAN's critic must be 1-Lipschitz. Arjovsky et al. 2017 clip its weights (``clip_weights_``);
Gulrajani et al. 2017 (WGAN-GP) instead penalise the gradient norm on interpolates between real
and fake samples; Kodali et al. 2017 (DRAGAN) penalise it around perturbed real samples only.

The penalties are returned unweighted: the caller multiplies by ``GP_WEIGHT`` or
``DRAGAN_WEIGHT`` (lambda = 10 in both papers). The gradient norm is taken per sample over all
non-batch dimensions (C*H*W for images), which is what "||grad_x D(x)||" means in the papers.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = [
    "DRAGAN_WEIGHT",
    "GP_WEIGHT",
    "WGAN_CLIP",
    "clip_weights_",
    "dragan_penalty",
    "gradient_penalty",
]

GP_WEIGHT = 10.0  # lambda of Gulrajani et al. 2017 (used for every experiment there)
DRAGAN_WEIGHT = 10.0  # lambda of Kodali et al. 2017
WGAN_CLIP = 0.01  # c of Arjovsky et al. 2017 (Algorithm 1)


def _per_sample_uniform(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """U[0, 1) with one value per sample, shaped (B, 1, 1, ...) to broadcast over ``like``."""
    shape = (like.shape[0],) + (1,) * (like.dim() - 1)
    return torch.rand(shape, generator=generator, device=like.device, dtype=like.dtype)


def _unit_gradient_penalty(
    discriminator: Callable[[torch.Tensor], torch.Tensor], x_hat: torch.Tensor
) -> torch.Tensor:
    """mean over the batch of (||grad_x D(x_hat)|| - 1)^2, the norm over all non-batch dims.

    ``create_graph=True`` keeps the gradient differentiable, so the penalty back-propagates into
    the discriminator's parameters (a double backward).
    """
    out = discriminator(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(dim=1)
    return (norms - 1.0).pow(2).mean()


def gradient_penalty(
    discriminator: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP's two-sided penalty mean((||grad D(x_hat)|| - 1)^2), unweighted.

    Gulrajani et al. 2017, Algorithm 1: x_hat = eps * real + (1 - eps) * fake with one
    eps ~ U[0, 1) per sample (drawn with ``generator`` on real's device). Both samples are
    detached, so the penalty trains only the discriminator; x_hat is a fresh leaf that requires
    grad. Multiply by ``GP_WEIGHT`` and add to the critic's loss.
    """
    eps = _per_sample_uniform(real, generator)
    x_hat = eps * real.detach() + (1.0 - eps) * fake.detach()
    return _unit_gradient_penalty(discriminator, x_hat.requires_grad_(True))


def dragan_penalty(
    discriminator: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    generator: torch.Generator | None = None,
    spread: float = 0.5,
) -> torch.Tensor:
    """DRAGAN's penalty mean((||grad D(x_hat)|| - 1)^2) around the real data, unweighted.

    Kodali et al. 2017 ("On Convergence and Stability of GANs"): the mode collapse they study
    comes from sharp gradients of D near the real points, so the penalty is applied in a
    neighbourhood of the data: perturbed = real + spread * std(real) * U[0, 1) noise (same shape
    as real), and x_hat = real + alpha * (perturbed - real) with alpha ~ U[0, 1) per sample. The
    noise is drawn first, then alpha, both with ``generator``. Multiply by ``DRAGAN_WEIGHT``.
    """
    data = real.detach()
    noise = torch.rand(data.shape, generator=generator, device=data.device, dtype=data.dtype)
    perturbed = data + spread * data.std() * noise
    alpha = _per_sample_uniform(data, generator)
    x_hat = data + alpha * (perturbed - data)
    return _unit_gradient_penalty(discriminator, x_hat.requires_grad_(True))


def clip_weights_(module: nn.Module, limit: float) -> None:
    """Clamp every parameter of ``module`` to [-limit, limit] in place (WGAN weight clipping).

    Arjovsky et al. 2017 clip the critic's weights to ``WGAN_CLIP`` after each critic step so that
    it stays K-Lipschitz for some K; they note it is a crude constraint (hence WGAN-GP).
    """
    with torch.no_grad():
        for param in module.parameters():
            param.clamp_(-limit, limit)
