"""The stabilisers ``--stabilize`` chooses from: each one's knob, what it needs, its remedy text.

A stabiliser is written as ``name`` or ``name:value``; the value is its one knob (pack size,
decay, noise...). The code of each lives in its own module of :mod:`ganwatch.stabilizers`,
named by ``implementation``. Adding a stabiliser means that module and one spec here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ganwatch.catalog._table import by_name, lookup
from ganwatch.catalog.losses import LossSpec
from ganwatch.catalog.models import ModelSpec


@dataclass(frozen=True)
class Knob:
    """A stabiliser's one number: its default and the range it must lie in.

    ``whole``: a count (a whole number). ``low``/``high`` bound it, inclusive unless
    ``open_low``/``open_high``. ``meaning`` says what it is, for error messages and docs.
    """

    default: float
    meaning: str
    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    open_high: bool = False
    whole: bool = False

    def problem(self, value: float) -> str | None:
        """Why ``value`` is not usable (None when it is); NaN and infinities never are."""
        if not math.isfinite(value):
            return f"needs a finite {self._range()}, got {value}"
        if self.whole and not float(value).is_integer():
            return f"needs a whole number {self._range()}, got {value:g}"
        too_low = value <= self.low if self.open_low else value < self.low
        too_high = value >= self.high if self.open_high else value > self.high
        if too_low or too_high:
            return f"needs {self.meaning} {self._range()}, got {value:g}"
        return None

    def _range(self) -> str:
        if self.high == math.inf:
            return f"{'>' if self.open_low else '>='} {self.low:g}"
        left, right = "(" if self.open_low else "[", ")" if self.open_high else "]"
        return f"in {left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class StabilizerSpec:
    """One stabiliser: its knob (None: it has none), what it refuses, and its remedy text."""

    name: str
    summary: str
    implementation: str
    knob: Knob | None = None
    remedy: str | None = None
    needs_real_label: bool = False  # label smoothing: the loss must have a real label
    needs_classifier_head: bool = False  # it rewrites D's last Linear, absent in autoencoders
    unconditional_only: bool = False  # it changes D's input in a way labels cannot follow
    refused_losses: tuple[tuple[str, str], ...] = ()  # (loss, why) pairs with no meaning

    @property
    def default(self) -> float:
        """The knob's value when none is given (0 for stabilisers without one)."""
        return self.knob.default if self.knob else 0.0

    def problem_with(self, loss: LossSpec, model: ModelSpec) -> str | None:
        """Why this stabiliser cannot train with ``loss`` and ``model`` (None when it can)."""
        if self.needs_real_label and not loss.smoothable:
            return f"--loss {loss.name} has no real label to smooth"
        if self.needs_classifier_head and loss.output == "energy":
            return (
                "needs a discriminator with a final Linear classifier; the energy losses use "
                "an autoencoder"
            )
        if self.unconditional_only and model.conditional:
            return f"cannot be combined with --model {model.name}"
        for refused, why in self.refused_losses:
            if refused == loss.name:
                return why
        return None


_S = "ganwatch.stabilizers"

STABILIZERS: dict[str, StabilizerSpec] = by_name(
    (
        StabilizerSpec(
            "feature-matching",
            "G matches the mean of D's last hidden features on real and fake batches",
            f"{_S}.feature_matching:FeatureMatching",
            remedy="Train G to match D's intermediate features (feature matching)",
            refused_losses=(("began", "BEGAN's generator loss is its energy"),),
        ),
        StabilizerSpec(
            "historical-averaging",
            "both losses add w * |theta - mean of past theta|^2",
            f"{_S}.historical_averaging:HistoricalAveraging",
            Knob(1e-3, "a weight", low=0.0, open_low=True),
            remedy="Penalise parameters far from their running average (historical averaging)",
        ),
        StabilizerSpec(
            "minibatch-discrimination",
            "D's last layer also sees how alike the batch's samples are",
            f"{_S}.minibatch_discrimination:DiscriminateMinibatches",
            Knob(32, "a number of kernels", low=1, whole=True),
            remedy="Let D compare samples within a batch (minibatch discrimination)",
            needs_classifier_head=True,
        ),
        StabilizerSpec(
            "label-smoothing",
            "one-sided: D's real target lowered",
            f"{_S}.label_smoothing:LabelSmoothing",
            Knob(0.9, "a real label", low=0.5, high=1.0),
            remedy="Smooth D's real labels to 0.9 (one-sided label smoothing)",
            needs_real_label=True,
        ),
        StabilizerSpec(
            "instance-noise",
            "Gaussian noise on everything D sees, annealed linearly to 0 over the run",
            f"{_S}.instance_noise:InstanceNoise",
            Knob(0.1, "a starting noise std", low=0.0, open_low=True),
            remedy="Add decaying noise to D's inputs (instance noise)",
        ),
        StabilizerSpec(
            "spectral-norm",
            "spectral normalisation of every D layer",
            f"{_S}.spectral_norm:SpectralNorm",
            remedy="Constrain D's Lipschitz constant with spectral normalisation",
        ),
        StabilizerSpec(
            "ttur",
            "D's learning rate r times G's, around --lr (2e-4 -> G 1e-4, D 4e-4)",
            f"{_S}.ttur:TwoTimeScales",
            Knob(4.0, "a ratio of learning rates", low=0.0, open_low=True),
            remedy="Use two time-scale updates: a faster discriminator learning rate (TTUR)",
        ),
        StabilizerSpec(
            "ema",
            "an exponential moving average of G, used for grids, metrics and diagnosis",
            f"{_S}.ema:GeneratorEMA",
            Knob(0.999, "a decay", low=0.0, high=1.0, open_low=True, open_high=True),
        ),
        StabilizerSpec(
            "pacgan",
            "D judges packs of m samples",
            f"{_S}.pacgan:PacGAN",
            Knob(2, "a pack of samples", low=2, whole=True),
            remedy="Let D judge packs of samples together (PacGAN)",
            unconditional_only=True,
        ),
        StabilizerSpec(
            "unrolled",
            "G steps against a copy of D k steps ahead, first-order",
            f"{_S}.unrolled:Unrolled",
            Knob(5, "a number of look-ahead steps", low=1, whole=True),
            remedy="Let G see how D would answer a few steps ahead (unrolled GAN)",
        ),
    )
)


def stabilizer_spec(name: str) -> StabilizerSpec:
    """The spec of stabiliser ``name``; an unknown name lists the valid ones."""
    return lookup(STABILIZERS, name, "--stabilize")
