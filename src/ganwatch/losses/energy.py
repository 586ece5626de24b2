"""Energy-based GAN losses: the discriminator is an autoencoder and its energy is the
per-sample reconstruction error, a tensor of shape (B,).

EBGAN (Zhao et al. 2017) trains D to give real samples low energy and fakes an energy of at
least a margin m; G lowers the energy of its fakes, optionally with the pull-away term that
spreads its samples apart. BEGAN (Berthelot et al. 2017) instead matches the distributions of
the autoencoder's losses, balancing D and G with a proportional controller k.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "BEGAN_GAMMA",
    "BEGAN_LAMBDA_K",
    "EBGAN_MARGIN",
    "began_convergence",
    "began_discriminator_loss",
    "began_generator_loss",
    "began_update_k",
    "ebgan_discriminator_loss",
    "ebgan_generator_loss",
    "pullaway_term",
]

# The energy here is the per-pixel mean squared reconstruction error of data in [-1, 1], so it
# lies in [0, 4] (4 only when every pixel is reconstructed at the opposite extreme). An
# autoencoder that outputs all zeros has energy mean(x^2), about 1 for data like MNIST whose
# pixels sit mostly at -1 or 1, while a trained one reconstructs real digits to ~0.01-0.05.
# A margin of 1 thus asks D to reconstruct fakes no better than that trivial all-zero output and
# then stops pushing (the hinge switches off). A margin of 4 or more could never be met, so D
# would push fake energies up forever, the instability the margin exists to prevent. Zhao et al.
# search m per setting; with per-pixel means 1 is the natural scale.
EBGAN_MARGIN = 1.0

BEGAN_GAMMA = 0.5  # diversity ratio gamma = E[L(G(z))] / E[L(x)] (Berthelot et al. use 0.3-0.7)
BEGAN_LAMBDA_K = 0.001  # proportional gain lambda_k of k's update (Berthelot et al. 2017)


def ebgan_discriminator_loss(
    real_energy: torch.Tensor, fake_energy: torch.Tensor, margin: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """EBGAN's discriminator losses (mean D(x), mean relu(margin - D(G(z)))).

    Zhao et al. 2017, eq. 1: real energies are pushed down, fake energies up until they reach
    ``margin``, beyond which fakes no longer contribute (see ``EBGAN_MARGIN``).
    """
    real, fake = real_energy.reshape(-1), fake_energy.reshape(-1)
    return real.mean(), F.relu(margin - fake).mean()


def pullaway_term(embeddings: torch.Tensor) -> torch.Tensor:
    """Zhao et al. 2017's pull-away term: the mean squared cosine similarity of distinct pairs.

    PT = 1 / (N (N - 1)) * sum over i != j of (S_i^T S_j / (||S_i|| ||S_j||))^2 over the N rows
    of ``embeddings`` (the encoder's codes of a batch of fakes, flattened per sample). It is 0 for
    mutually orthogonal codes and 1 for parallel ones, so adding it to G's loss discourages mode
    collapse. With a single row there is no pair and it is 0.
    """
    n = embeddings.shape[0]
    if n < 2:
        return embeddings.new_zeros(())
    unit = F.normalize(embeddings.reshape(n, -1), dim=1)
    similarity = unit @ unit.T
    off_diagonal = 1.0 - torch.eye(n, device=unit.device, dtype=unit.dtype)
    return (similarity.pow(2) * off_diagonal).sum() / (n * (n - 1))


def ebgan_generator_loss(
    fake_energy: torch.Tensor,
    embeddings: torch.Tensor | None = None,
    pullaway_weight: float = 0.1,
) -> torch.Tensor:
    """EBGAN's generator loss mean D(G(z)), plus ``pullaway_weight`` * PT when given embeddings.

    Zhao et al. 2017, eq. 2, and section 2.4 (EBGAN-PT, with weight 0.1 in their experiments).
    """
    loss = fake_energy.reshape(-1).mean()
    if embeddings is not None:
        loss = loss + pullaway_weight * pullaway_term(embeddings)
    return loss


def began_discriminator_loss(
    real_energy: torch.Tensor, fake_energy: torch.Tensor, k: torch.Tensor | float
) -> tuple[torch.Tensor, torch.Tensor]:
    """BEGAN's discriminator losses (mean L(x), -k mean L(G(z))); their sum is L_D.

    Berthelot et al. 2017, eq. 4. k in [0, 1] (from ``began_update_k``) controls how hard D
    pushes fakes' reconstruction loss up; it starts at 0.
    """
    return real_energy.reshape(-1).mean(), -k * fake_energy.reshape(-1).mean()


def began_generator_loss(fake_energy: torch.Tensor) -> torch.Tensor:
    """BEGAN's generator loss mean L(G(z)) (Berthelot et al. 2017, eq. 4)."""
    return fake_energy.reshape(-1).mean()


def began_update_k(
    k: torch.Tensor,
    real_energy_mean: torch.Tensor,
    fake_energy_mean: torch.Tensor,
    gamma: float,
    lambda_k: float,
) -> torch.Tensor:
    """One step of BEGAN's controller: clamp(k + lambda_k (gamma L(x) - L(G(z))), 0, 1).

    Berthelot et al. 2017, eq. 4: k rises while fakes are reconstructed better than gamma times
    the reals, keeping E[L(G(z))] = gamma E[L(x)]. Detached, tensor in and out (no host sync).
    """
    real, fake = real_energy_mean.detach(), fake_energy_mean.detach()
    return (k.detach() + lambda_k * (gamma * real - fake)).clamp(0.0, 1.0)


def began_convergence(
    real_energy_mean: torch.Tensor, fake_energy_mean: torch.Tensor, gamma: float
) -> torch.Tensor:
    """BEGAN's global convergence measure M = L(x) + |gamma L(x) - L(G(z))| (detached).

    Berthelot et al. 2017, section 3.4.1: it falls as the model converges and flags collapse
    when it does not, so it is a monitoring value, not a loss.
    """
    real, fake = real_energy_mean.detach(), fake_energy_mean.detach()
    return real + (gamma * real - fake).abs()
