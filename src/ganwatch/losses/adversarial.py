"""Adversarial GAN losses as plain functions of the discriminator's raw outputs.

The article trains with ``nn.BCELoss`` on a sigmoid output: the discriminator learns real -> 1,
fake -> 0, and the generator uses the non-saturating loss (its fakes labelled real). On logits,
BCE(sigmoid(x), 1) = softplus(-x) and BCE(sigmoid(x), 0) = softplus(x), which is the same function
without the overflow of exp for large |x|.

The other families take the discriminator's output as an unbounded score: least squares (LSGAN),
Wasserstein (WGAN, WGAN-GP, DRAGAN) and hinge. Every function flattens its inputs, so outputs of
shape (B,) or (B, 1) both work, and returns 0-d means over the batch without any host sync.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "bce_discriminator_loss",
    "bce_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "minimax_generator_loss",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
]


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1)


def bce_discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, real_target: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The article's two discriminator losses, kept apart because it plots them apart.

    Returns (mean BCE(sigmoid(real), real_target), mean BCE(sigmoid(fake), 0)) computed on logits
    (Goodfellow et al. 2014's discriminator objective). ``real_target`` < 1 is one-sided label
    smoothing (Salimans et al. 2016, "Improved Techniques for Training GANs"): only the real
    labels are smoothed, so the discriminator is not rewarded for pushing fakes towards real.
    """
    real = _flat(real_logits)
    if real_target == 1.0:
        loss_real = F.softplus(-real).mean()
    else:
        loss_real = F.binary_cross_entropy_with_logits(real, torch.full_like(real, real_target))
    return loss_real, F.softplus(_flat(fake_logits)).mean()


def bce_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: mean -log D(G(z)) = mean softplus(-fake).

    Goodfellow et al. 2014 suggest it instead of the minimax loss because its gradient is strong
    exactly when D confidently rejects the fakes, early in training.
    """
    return F.softplus(-_flat(fake_logits)).mean()


def minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The original saturating minimax generator loss: mean log(1 - D(G(z))) = mean -softplus(fake).

    G minimises it (Goodfellow et al. 2014, eq. 1). Its gradient vanishes when D rejects the
    fakes confidently, which is the failure mode the non-saturating loss avoids; it is kept to
    reproduce that failure.
    """
    return (-F.softplus(_flat(fake_logits))).mean()


def lsgan_discriminator_loss(
    real_out: torch.Tensor, fake_out: torch.Tensor, real_target: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares discriminator losses: (0.5 mean (real - real_target)^2, 0.5 mean fake^2).

    Mao et al. 2017 (LSGAN) with the 0-1 coding a = 0 (fake), b = 1 (real), c = 1 (what G wants);
    ``real_target`` lets the real label be smoothed as with BCE.
    """
    real, fake = _flat(real_out), _flat(fake_out)
    return 0.5 * (real - real_target).pow(2).mean(), 0.5 * fake.pow(2).mean()


def lsgan_generator_loss(fake_out: torch.Tensor) -> torch.Tensor:
    """Least-squares generator loss: 0.5 mean (fake - 1)^2 (Mao et al. 2017, c = 1)."""
    return 0.5 * (_flat(fake_out) - 1.0).pow(2).mean()


def wasserstein_discriminator_loss(
    real_scores: torch.Tensor, fake_scores: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The critic's losses (-mean real, mean fake): their sum is minus the Wasserstein estimate.

    Arjovsky et al. 2017 (WGAN): the critic maximises mean D(real) - mean D(fake) over
    1-Lipschitz functions, enforced by weight clipping or a gradient penalty (see penalties).
    """
    return -_flat(real_scores).mean(), _flat(fake_scores).mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """The WGAN generator loss -mean D(G(z)) (Arjovsky et al. 2017); also the hinge G loss."""
    return -_flat(fake_scores).mean()


def hinge_discriminator_loss(
    real_scores: torch.Tensor, fake_scores: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hinge discriminator losses (mean relu(1 - real), mean relu(1 + fake)).

    Lim & Ye 2017 (Geometric GAN), used by SNGAN (Miyato et al. 2018) and BigGAN: D stops being
    pushed on samples it already classifies with margin 1.
    """
    return F.relu(1.0 - _flat(real_scores)).mean(), F.relu(1.0 + _flat(fake_scores)).mean()


# The hinge generator loss is the Wasserstein one, -mean D(G(z)) (Lim & Ye 2017; Miyato et al.).
hinge_generator_loss = wasserstein_generator_loss
