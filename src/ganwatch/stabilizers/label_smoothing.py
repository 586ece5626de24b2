"""One-sided label smoothing (Salimans et al. 2016): train D towards 0.9 on real data, not 1.

An overconfident discriminator saturates and stops giving the generator useful gradients.
Lowering only the real target (the fake target stays 0, which would otherwise reward the
generator for staying where it is) keeps D's output off the flat end of the sigmoid. Only
losses with a real label can be smoothed (``LossSpec.smoothable``; the configuration check
refuses the others).
"""

from __future__ import annotations

from ganwatch.stabilizers.base import Stabilizer


class LabelSmoothing(Stabilizer):
    """``--stabilize label-smoothing:target``: D's real label becomes ``target``."""

    def real_target(self, target: float) -> float:
        return self.knob
