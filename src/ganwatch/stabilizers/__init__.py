"""Stabilisers chosen with ``--stabilize a,b:value,...``: one module each, plain functions.

Each stabiliser has one knob, given after a colon (``pacgan:4``); :data:`DEFAULTS` holds the
value used when none is given, and :func:`settings` merges the two. The training step
(:mod:`ganwatch.step`) calls the functions here; nothing in this package knows the loop.
"""

from __future__ import annotations

import math

from ganwatch.config import ConfigError, parse_stabilizers

#: The one knob of each stabiliser and its default (see docs/remedies.md for what each means).
DEFAULTS: dict[str, float] = {
    "feature-matching": 0.0,  # no knob: G's loss becomes the feature distance
    "historical-averaging": 1e-3,  # weight of the squared distance to the parameters' mean
    "minibatch-discrimination": 32,  # number of minibatch kernels (Salimans et al.'s B)
    "label-smoothing": 0.9,  # the real label D is trained towards
    "instance-noise": 0.1,  # noise std at step 0, annealed linearly to 0 at the last step
    "spectral-norm": 0.0,  # no knob
    "ttur": 4.0,  # D's learning rate / G's learning rate (their geometric mean stays --lr)
    "ema": 0.999,  # decay of the generator's exponential moving average
    "pacgan": 2,  # samples per pack (PacGAN2); PacGAN's tables also use 3 and 4
    "unrolled": 5,  # discriminator steps the generator looks ahead
}


def settings(text: str) -> dict[str, float]:
    """``"pacgan:4,ema"`` -> ``{"pacgan": 4.0, "ema": 0.999}`` with knobs checked."""
    chosen = parse_stabilizers(text)
    out = {name: DEFAULTS[name] if value is None else value for name, value in chosen.items()}
    for name in ("minibatch-discrimination", "pacgan", "unrolled"):
        if name in out and (out[name] < 1 or not float(out[name]).is_integer()):
            raise ConfigError(f"--stabilize: {name} needs a whole number >= 1, got {out[name]}")
    if "pacgan" in out and out["pacgan"] < 2:
        raise ConfigError(f"--stabilize: pacgan packs >= 2 samples, got {out['pacgan']:g}")
    if "label-smoothing" in out and not 0.5 <= out["label-smoothing"] <= 1:
        raise ConfigError(
            f"--stabilize: label-smoothing's real label must be in [0.5, 1], "
            f"got {out['label-smoothing']}"
        )
    if "ema" in out and not 0 < out["ema"] < 1:
        raise ConfigError(f"--stabilize: ema's decay must be in (0, 1), got {out['ema']}")
    for name in ("historical-averaging", "instance-noise", "ttur"):
        if name in out and not 0 < out[name] < math.inf:  # also refuses nan
            raise ConfigError(f"--stabilize: {name} needs a finite value > 0, got {out[name]}")
    return out
