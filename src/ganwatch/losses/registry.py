"""The losses ``--loss`` can choose, by name: which functions a training step calls, and how.

A loss is more than a pair of functions: WGAN clips the critic's weights and takes five critic
steps per generator step, WGAN-GP and DRAGAN add a gradient penalty, EBGAN and BEGAN need an
autoencoder discriminator whose output is an energy, and only losses on probabilities have a
real label that one-sided label smoothing can lower. :class:`LossSpec` writes those facts down
once, so the training step reads them instead of testing loss names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ganwatch.losses.adversarial import (
    bce_discriminator_loss,
    bce_generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    minimax_generator_loss,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
)
from ganwatch.losses.penalties import DRAGAN_WEIGHT, GP_WEIGHT, WGAN_CLIP

# Gulrajani et al. and Arjovsky et al. train the critic five times per generator step.
CRITIC_STEPS = 5

DiscriminatorLoss = Callable[..., tuple[torch.Tensor, torch.Tensor]]
GeneratorLoss = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class LossSpec:
    """How one loss trains.

    ``output`` says what the discriminator returns: ``"logit"`` (a probability's logit, so
    D(x) can be reported as sigmoid(logit)), ``"score"`` (an unbounded critic or margin score)
    or ``"energy"`` (an autoencoder's reconstruction error; EBGAN and BEGAN). Energy losses are
    wired in the training step itself because they carry state (BEGAN's k) and extra terms.
    """

    name: str
    summary: str
    output: str
    discriminator_loss: DiscriminatorLoss | None = None
    generator_loss: GeneratorLoss | None = None
    d_steps: int = 1
    penalty: str | None = None  # "gradient" (WGAN-GP) or "dragan"
    penalty_weight: float = 0.0
    clip: float | None = None  # WGAN's weight clipping bound
    smoothable: bool = False  # has a real-label target that label smoothing can lower
    energy_norm: str | None = None  # "l2" (EBGAN) or "l1" (BEGAN) reconstruction error


LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in (
        LossSpec(
            "bce",
            "the article's: BCE for D, non-saturating -log D(G(z)) for G",
            "logit",
            bce_discriminator_loss,
            bce_generator_loss,
            smoothable=True,
        ),
        LossSpec(
            "minimax",
            "Goodfellow et al.'s original game: G minimises log(1 - D(G(z)))",
            "logit",
            bce_discriminator_loss,
            minimax_generator_loss,
            smoothable=True,
        ),
        LossSpec(
            "lsgan",
            "least squares (Mao et al.): D regresses real to 1, fake to 0",
            "score",
            lsgan_discriminator_loss,
            lsgan_generator_loss,
            smoothable=True,
        ),
        LossSpec(
            "wgan",
            "Wasserstein (Arjovsky et al.): critic with clipped weights, 5 critic steps",
            "score",
            wasserstein_discriminator_loss,
            wasserstein_generator_loss,
            d_steps=CRITIC_STEPS,
            clip=WGAN_CLIP,
        ),
        LossSpec(
            "wgan-gp",
            "Wasserstein with gradient penalty (Gulrajani et al.), 5 critic steps",
            "score",
            wasserstein_discriminator_loss,
            wasserstein_generator_loss,
            d_steps=CRITIC_STEPS,
            penalty="gradient",
            penalty_weight=GP_WEIGHT,
        ),
        LossSpec(
            "dragan",
            "BCE with DRAGAN's gradient penalty around the real data (Kodali et al.)",
            "logit",
            bce_discriminator_loss,
            bce_generator_loss,
            penalty="dragan",
            penalty_weight=DRAGAN_WEIGHT,
            smoothable=True,
        ),
        LossSpec(
            "hinge",
            "hinge (Lim & Ye; Miyato et al.): margin loss for D, -D(G(z)) for G",
            "score",
            hinge_discriminator_loss,
            hinge_generator_loss,
        ),
        LossSpec(
            "ebgan",
            "energy-based (Zhao et al.): autoencoder D, margin on fake energy, pull-away term",
            "energy",
            energy_norm="l2",
        ),
        LossSpec(
            "began",
            "boundary equilibrium (Berthelot et al.): autoencoder D balanced by k_t",
            "energy",
            energy_norm="l1",
        ),
    )
}


def loss_spec(name: str) -> LossSpec:
    """The spec of loss ``name``; an unknown name is an error that lists the valid ones."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"--loss: expected one of {', '.join(LOSSES)}, got {name!r}") from None


def discriminator_steps(loss: str, d_steps: int | None) -> int:
    """``--d-steps`` when given, else the loss's own (5 for the Wasserstein losses, else 1)."""
    return d_steps if d_steps is not None else loss_spec(loss).d_steps
