"""The losses ``--loss`` chooses from: what each is, and the facts the rest of ganwatch reads.

The functions and their state live in :mod:`ganwatch.losses`; ``objective`` names the factory
that builds the loss's :class:`~ganwatch.losses.objective.Objective`. Adding a loss means
writing its functions and one spec here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganwatch.catalog._table import by_name, lookup

#: Gulrajani et al. and Arjovsky et al. train the critic five times per generator step.
CRITIC_STEPS = 5


@dataclass(frozen=True)
class LossSpec:
    """One loss.

    ``output`` is what the discriminator returns with it: ``"logit"`` (a probability's logit,
    so D(x) is reported as sigmoid(logit) and the loss values are on BCE's scale), ``"score"``
    (an unbounded critic or margin score) or ``"energy"`` (an autoencoder's reconstruction
    error, with ``energy_norm`` "l2" or "l1"). ``smoothable``: it has a real label that
    one-sided label smoothing can lower. ``remedy``: the sentence that suggests switching to
    it, for the losses the diagnosis recommends.
    """

    name: str
    summary: str
    output: str
    objective: str
    d_steps: int = 1
    smoothable: bool = False
    energy_norm: str | None = None
    remedy: str | None = None


_OBJECTIVES = "ganwatch.losses.objective"

LOSSES: dict[str, LossSpec] = by_name(
    (
        LossSpec(
            "bce",
            "the article's: BCE for D, non-saturating -log D(G(z)) for G",
            "logit",
            f"{_OBJECTIVES}:non_saturating",
            smoothable=True,
        ),
        LossSpec(
            "minimax",
            "Goodfellow et al.'s original game: G minimises log(1 - D(G(z)))",
            "logit",
            f"{_OBJECTIVES}:minimax",
            smoothable=True,
        ),
        LossSpec(
            "lsgan",
            "least squares (Mao et al.): D regresses real to 1, fake to 0",
            "score",
            f"{_OBJECTIVES}:least_squares",
            smoothable=True,
            remedy="Switch to the least-squares loss (LSGAN): G's gradient does not vanish when "
            "D wins",
        ),
        LossSpec(
            "wgan",
            "Wasserstein (Arjovsky et al.): critic with clipped weights, 5 critic steps",
            "score",
            f"{_OBJECTIVES}:wasserstein_clipped",
            d_steps=CRITIC_STEPS,
        ),
        LossSpec(
            "wgan-gp",
            "Wasserstein with gradient penalty (Gulrajani et al.), 5 critic steps",
            "score",
            f"{_OBJECTIVES}:wasserstein_gradient_penalty",
            d_steps=CRITIC_STEPS,
            remedy="Switch to the Wasserstein loss with gradient penalty (WGAN-GP)",
        ),
        LossSpec(
            "dragan",
            "BCE with DRAGAN's gradient penalty around the real data (Kodali et al.)",
            "logit",
            f"{_OBJECTIVES}:dragan",
            smoothable=True,
        ),
        LossSpec(
            "hinge",
            "hinge (Lim & Ye; Miyato et al.): margin loss for D, -D(G(z)) for G",
            "score",
            f"{_OBJECTIVES}:hinge",
            remedy="Switch to the hinge loss: D stops pushing on samples it already separates",
        ),
        LossSpec(
            "ebgan",
            "energy-based (Zhao et al.): autoencoder D, margin on fake energy, pull-away term",
            "energy",
            f"{_OBJECTIVES}:energy_margin",
            energy_norm="l2",
        ),
        LossSpec(
            "began",
            "boundary equilibrium (Berthelot et al.): autoencoder D balanced by k_t",
            "energy",
            f"{_OBJECTIVES}:boundary_equilibrium",
            energy_norm="l1",
        ),
    )
)

#: The loss a config without ``loss`` trains with: the article's.
DEFAULT_LOSS = "bce"


def loss_spec(name: str) -> LossSpec:
    """The spec of loss ``name``; an unknown name is an error that lists the valid ones."""
    return lookup(LOSSES, name, "--loss")


def discriminator_steps(loss: str, d_steps: int | None) -> int:
    """``--d-steps`` when given, else the loss's own (5 for the Wasserstein losses, else 1)."""
    return d_steps if d_steps is not None else loss_spec(loss).d_steps
