"""The two time-scale update rule (Heusel et al. 2017): D learns faster than G.

With ``ratio`` = lr_D / lr_G, the two rates are placed around ``--lr`` so that their geometric
mean stays ``--lr``: the article's 2e-4 with the default ratio 4 gives G 1e-4 and D 4e-4, the
setting SAGAN and BigGAN use. Two time scales let the discriminator track the generator, which
is what the convergence proof of TTUR needs.
"""

from __future__ import annotations

import math

from ganwatch.stabilizers.base import Stabilizer


def learning_rates(lr: float, ratio: float | None) -> tuple[float, float]:
    """(generator lr, discriminator lr); both ``lr`` when TTUR is off (``ratio`` None)."""
    if ratio is None:
        return lr, lr
    root = math.sqrt(ratio)
    return lr / root, lr * root


class TwoTimeScales(Stabilizer):
    """``--stabilize ttur:r``: D's learning rate r times G's, their geometric mean kept."""

    def learning_rates(self, lr_g: float, lr_d: float) -> tuple[float, float]:
        return learning_rates(lr_g, self.knob)
