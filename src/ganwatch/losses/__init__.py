"""GAN losses as plain functions of the discriminator's outputs.

``adversarial``: BCE (the article's, with one-sided label smoothing), minimax, LSGAN,
Wasserstein and hinge. ``penalties``: WGAN-GP and DRAGAN gradient penalties, WGAN weight
clipping. ``energy``: EBGAN (with the pull-away term) and BEGAN. ``auxiliary``: ACGAN's class
loss, InfoGAN's code reconstruction and feature matching. Every loss returns 0-d tensors (means
over the batch) and never syncs with the host.
"""

from __future__ import annotations

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
from ganwatch.losses.auxiliary import class_loss, feature_matching_loss, infogan_loss
from ganwatch.losses.energy import (
    BEGAN_GAMMA,
    BEGAN_LAMBDA_K,
    EBGAN_MARGIN,
    began_convergence,
    began_discriminator_loss,
    began_generator_loss,
    began_update_k,
    ebgan_discriminator_loss,
    ebgan_generator_loss,
    pullaway_term,
)
from ganwatch.losses.penalties import (
    DRAGAN_WEIGHT,
    GP_WEIGHT,
    WGAN_CLIP,
    clip_weights_,
    dragan_penalty,
    gradient_penalty,
)

__all__ = [
    "BEGAN_GAMMA",
    "BEGAN_LAMBDA_K",
    "DRAGAN_WEIGHT",
    "EBGAN_MARGIN",
    "GP_WEIGHT",
    "WGAN_CLIP",
    "bce_discriminator_loss",
    "bce_generator_loss",
    "began_convergence",
    "began_discriminator_loss",
    "began_generator_loss",
    "began_update_k",
    "class_loss",
    "clip_weights_",
    "dragan_penalty",
    "ebgan_discriminator_loss",
    "ebgan_generator_loss",
    "feature_matching_loss",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "infogan_loss",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "minimax_generator_loss",
    "pullaway_term",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
]
