"""What real data itself scores: the band a metric's value is judged against.

Coverage, recall, density, NDB/K, FID and diversity all depend on how many samples are
compared (measured on MNIST: real data's coverage is 0.12 at 256 samples, 0.22 at 512, 0.38
at 1,000 and 0.87 at 5,000). A fixed threshold tuned at one sample count is wrong at another.
So the reference side measures the same metrics on held-out real samples, not in the
reference, at the evaluation's own sample count, over several draws; a detector then calls a
value bad only when it falls outside that band by a stated margin (``diagnose.thresholds``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

#: Draws of held-out real samples per band: 5 pin a band's spread to about a third.
DRAWS = 5


@dataclass(frozen=True)
class Band:
    """One metric's values on held-out real data: mean, spread and range over the draws."""

    mean: float
    std: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Band:
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return cls(math.nan, math.nan, math.nan, math.nan)
        mean = sum(finite) / len(finite)
        var = sum((v - mean) ** 2 for v in finite) / max(1, len(finite) - 1)
        return cls(mean, math.sqrt(var), min(finite), max(finite))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Bands:
    """The bands of every metric at one sample count ``n``, from ``draws`` held-out draws."""

    n: int
    draws: int
    bands: Mapping[str, Band]

    def get(self, key: str) -> Band | None:
        return self.bands.get(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "draws": self.draws,
            "bands": {k: b.to_dict() for k, b in self.bands.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Bands:
        bands = {k: Band(**v) for k, v in data.get("bands", {}).items()}
        return cls(int(data["n"]), int(data["draws"]), bands)


def measure_bands(
    measure: Callable[[Sequence[int]], dict[str, float]],
    pool: int,
    n: int,
    draws: int = DRAWS,
    seed: int = 0,
) -> Bands:
    """Bands from ``draws`` calls of ``measure(rows)``, each on ``n`` random rows of a held-out
    pool of ``pool`` rows (without replacement within a draw)."""
    import torch

    if n > pool:
        raise ValueError(f"a band at {n} samples needs a held-out pool of as many; got {pool}")
    generator = torch.Generator().manual_seed(seed)
    results = [
        measure(torch.randperm(pool, generator=generator)[:n].tolist()) for _ in range(draws)
    ]
    keys = sorted({k for r in results for k in r})
    return Bands(n, draws, {k: Band.of([r.get(k, math.nan) for r in results]) for k in keys})
