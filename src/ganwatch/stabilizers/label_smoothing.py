"""One-sided label smoothing (Salimans et al. 2016): train D towards 0.9 on real data, not 1.

An overconfident discriminator saturates and stops giving the generator useful gradients.
Lowering only the real target (the fake target stays 0, which would otherwise reward the
generator for staying where it is) keeps D's output off the flat end of the sigmoid.
"""

from __future__ import annotations

from ganwatch.config import ConfigError

SMOOTHABLE_LOSSES = ("bce", "minimax", "lsgan", "dragan")


def real_target(loss: str, value: float | None) -> float:
    """The real label for ``loss``: ``value`` with smoothing on, else 1; refused where the loss
    has no real label (Wasserstein, hinge and energy losses)."""
    if value is None:
        return 1.0
    if loss not in SMOOTHABLE_LOSSES:
        raise ConfigError(
            f"--stabilize label-smoothing: --loss {loss} has no real label to smooth; "
            f"use it with {', '.join(SMOOTHABLE_LOSSES)}"
        )
    return value
