"""A loss as the training step uses it: its terms, its constraint, its state, what it records.

Each loss of :data:`ganwatch.catalog.LOSSES` names one factory below. The step asks an
:class:`Objective` for D's two losses, an optional penalty, G's loss and what to record, and
never tests which loss it has. Losses with state (BEGAN's k) keep it here, so it is
checkpointed with the objective.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ganwatch.catalog import LossSpec, loss_spec
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
)
from ganwatch.losses.penalties import (
    DRAGAN_WEIGHT,
    GP_WEIGHT,
    WGAN_CLIP,
    clip_weights_,
    dragan_penalty,
    gradient_penalty,
)

Records = dict[str, torch.Tensor]
RealView = Callable[[], tuple[torch.Tensor, Any]]


class Objective:
    """A loss on D's raw outputs: ``d_loss(real, fake[, real_target])`` and ``g_loss(fake)``.

    The base class is the whole story for bce, minimax, lsgan and hinge; subclasses add a
    constraint (WGAN's clipping), a penalty (WGAN-GP, DRAGAN) or an energy (EBGAN, BEGAN).
    """

    #: Extra keys this loss records each step (see ganwatch.catalog.EXTRA_STEP_KEYS).
    record_keys: tuple[str, ...] = ()

    def __init__(self, spec: LossSpec, d_loss: Callable, g_loss: Callable | None) -> None:
        self.spec, self.d_loss, self.g_loss = spec, d_loss, g_loss

    def discriminator_losses(
        self, real: torch.Tensor, fake: torch.Tensor, real_target: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(loss on real, loss on fakes) from D's flattened float outputs."""
        if self.spec.smoothable:
            return self.d_loss(real, fake, real_target)
        return self.d_loss(real, fake)

    def penalty(
        self, critic: Callable, real_in: torch.Tensor, fake_in: torch.Tensor, rng
    ) -> tuple[torch.Tensor, float] | None:
        """(unweighted penalty, its weight), or None for losses without one."""
        return None

    def constrain(self, discriminator: nn.Module) -> None:
        """Enforce a constraint on D's weights after its optimiser step."""

    def commit(self, real: torch.Tensor, fake: torch.Tensor) -> Records:
        """Update the loss's own state after a real D step; return what it records."""
        return {}

    def report(self, outputs: torch.Tensor) -> torch.Tensor:
        """D's outputs as recorded: probabilities for logit losses, raw otherwise."""
        return torch.sigmoid(outputs) if self.spec.output == "logit" else outputs

    def generator_loss(
        self, pair, discriminator: nn.Module, fake_in: torch.Tensor, fake_labels, real: RealView
    ) -> tuple[torch.Tensor, Any]:
        """(G's loss, D's auxiliary output on the fakes or None)."""
        out, aux = pair.judge(discriminator, fake_in, fake_labels)
        return self.g_loss(out.float().flatten()), aux

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""

    def to(self, device: torch.device) -> Objective:
        return self


class Clipped(Objective):
    """WGAN: the critic's weights are clipped to [-c, c] after every critic step."""

    def __init__(self, spec, d_loss, g_loss, clip: float) -> None:
        super().__init__(spec, d_loss, g_loss)
        self.clip = clip

    def constrain(self, discriminator: nn.Module) -> None:
        clip_weights_(discriminator, self.clip)


class Penalised(Objective):
    """WGAN-GP and DRAGAN: a gradient penalty, recorded unweighted as ``loss/penalty``."""

    record_keys = ("loss/penalty",)

    def __init__(self, spec, d_loss, g_loss, penalty: Callable, weight: float) -> None:
        super().__init__(spec, d_loss, g_loss)
        self.penalty_fn, self.weight = penalty, weight

    def penalty(self, critic, real_in, fake_in, rng):
        return self.penalty_fn(critic, real_in, fake_in, rng), self.weight


class EnergyMargin(Objective):
    """EBGAN: D is an autoencoder; fakes' energy pushed up to a margin, G adds the pull-away
    term on the encoder's codes."""

    def discriminator_losses(self, real, fake, real_target):
        return ebgan_discriminator_loss(real, fake, EBGAN_MARGIN)

    def generator_loss(self, pair, discriminator, fake_in, fake_labels, real):
        energy, embedding = discriminator.energy_and_embedding(fake_in)
        return ebgan_generator_loss(energy.float(), embedding.float()), None


class BoundaryEquilibrium(Objective):
    """BEGAN: D's push on fakes is weighted by k, a controller state updated every D step."""

    record_keys = ("began/k", "began/convergence")

    def __init__(self, spec) -> None:
        super().__init__(spec, began_discriminator_loss, None)
        self.k = torch.zeros(())

    def discriminator_losses(self, real, fake, real_target):
        return began_discriminator_loss(real, fake, self.k)

    def commit(self, real, fake):
        real_mean, fake_mean = real.detach().mean(), fake.detach().mean()
        convergence = began_convergence(real_mean, fake_mean, BEGAN_GAMMA)
        self.k = began_update_k(self.k, real_mean, fake_mean, BEGAN_GAMMA, BEGAN_LAMBDA_K)
        return {"began/k": self.k.detach().reshape(()), "began/convergence": convergence.detach()}

    def generator_loss(self, pair, discriminator, fake_in, fake_labels, real):
        return began_generator_loss(discriminator(fake_in).float()), None

    def state_dict(self):
        return {"began_k": self.k}

    def load_state_dict(self, state):
        self.k = state["began_k"].to(self.k.device)

    def to(self, device):
        self.k = self.k.to(device)
        return self


def _dragan(critic, real_in, fake_in, rng):
    return dragan_penalty(critic, real_in, rng)


# -- one factory per loss of the catalog --------------------------------------------------
def non_saturating(spec: LossSpec) -> Objective:
    return Objective(spec, bce_discriminator_loss, bce_generator_loss)


def minimax(spec: LossSpec) -> Objective:
    return Objective(spec, bce_discriminator_loss, minimax_generator_loss)


def least_squares(spec: LossSpec) -> Objective:
    return Objective(spec, lsgan_discriminator_loss, lsgan_generator_loss)


def wasserstein_clipped(spec: LossSpec) -> Objective:
    return Clipped(spec, wasserstein_discriminator_loss, wasserstein_generator_loss, WGAN_CLIP)


def wasserstein_gradient_penalty(spec: LossSpec) -> Objective:
    return Penalised(
        spec,
        wasserstein_discriminator_loss,
        wasserstein_generator_loss,
        gradient_penalty,
        GP_WEIGHT,
    )


def dragan(spec: LossSpec) -> Objective:
    return Penalised(spec, bce_discriminator_loss, bce_generator_loss, _dragan, DRAGAN_WEIGHT)


def hinge(spec: LossSpec) -> Objective:
    return Objective(spec, hinge_discriminator_loss, hinge_generator_loss)


def energy_margin(spec: LossSpec) -> Objective:
    return EnergyMargin(spec, ebgan_discriminator_loss, None)


def boundary_equilibrium(spec: LossSpec) -> Objective:
    return BoundaryEquilibrium(spec)


def build_objective(name: str, device: torch.device | str = "cpu") -> Objective:
    """The objective of loss ``name`` (see ``ganwatch.catalog.LOSSES``), its state on ``device``."""
    from ganwatch.catalog import load

    spec = loss_spec(name)
    return load(spec.objective)(spec).to(torch.device(device))
