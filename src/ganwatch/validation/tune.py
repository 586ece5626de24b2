"""Tuning the detectors' thresholds on the calibration half of the corpus.

Coordinate search: starting from the current thresholds, each tuned field in turn takes the
candidate value that scores best with the others held, for a few passes. "Best" is, in this
order: no false alarm on a healthy evaluation, the most decisive evaluations agreeing with
the truth, the most runs agreeing at their end, the shortest median detection delay. Only
calibration runs are read; the held-out half is reported, never tuned on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from ganwatch.diagnose.thresholds import DEFAULT, Thresholds
from ganwatch.validation.score import Summary

#: The fields tuned, and the values each may take.
SEARCH: Mapping[str, Sequence[float]] = {
    "realism_low": (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    "realism_healthy": (0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    "pixel_realism_low": (0.0, 0.75, 0.8, 0.85, 0.88, 0.9),
    "collapse_coverage_ratio": (0.05, 0.1, 0.15, 0.2, 0.3, 0.5),
    "healthy_coverage_ratio": (0.1, 0.15, 0.2, 0.3, 0.4, 0.6),
    "fid_far_ratio": (15.0, 20.0, 30.0, 40.0, 60.0, 100.0),
    "collapse_class_kl": (0.2, 0.3, 0.5, 0.8, 1.2),
    "healthy_class_kl": (0.05, 0.1, 0.15, 0.2, 0.3),
    "fid_ratio": (3.0, 5.0, 10.0, 20.0, 40.0),
    "toy_quality_low": (0.1, 0.2, 0.3, 0.4),
    "healthy_toy_quality": (0.3, 0.4, 0.5, 0.6),
    "toy_modes_frac": (0.5, 0.75, 0.9),
    "diversity_low": (0.2, 0.3, 0.4, 0.5),
    "ndb_k_margin": (0.1, 0.2, 0.3, 0.4, 0.5),
    "healthy_toy_modes_frac": (0.75, 0.875, 1.0),
    "toy_min_quality": (0.2, 0.3, 0.4, 0.5),
    "toy_mode_kl": (0.5, 0.6, 0.8, 1.0),
    "healthy_toy_mode_kl": (0.2, 0.3, 0.4),
}
PASSES = 2


def objective(summary: Summary) -> tuple[float, ...]:
    """Larger is better (see the module docstring)."""
    delay = summary.median_delay
    return (
        -summary.false_alarms,
        summary.agreement,
        summary.run_agreement,
        -(delay if math.isfinite(delay) else 1e9),
    )


def tune(
    score: Callable[[Thresholds], Summary],
    start: Thresholds = DEFAULT,
    search: Mapping[str, Sequence[float]] = SEARCH,
    passes: int = PASSES,
    say: Callable[[str], None] = print,
) -> tuple[Thresholds, Summary]:
    """The best thresholds found and their calibration summary."""
    best, best_summary = start, score(start)
    for _ in range(passes):
        for name, values in search.items():
            for value in values:
                if getattr(best, name) == value:
                    continue
                candidate = replace(best, **{name: value})
                summary = score(candidate)
                if objective(summary) > objective(best_summary):
                    best, best_summary = candidate, summary
                    say(f"  {name} = {value:g}: {_line(summary)}")
    return best, best_summary


def _line(summary: Summary) -> str:
    return (
        f"agreement {summary.agreement:.1%} of {summary.decisive}, runs "
        f"{summary.run_agreement:.1%}, false alarms {summary.false_alarms}, "
        f"median delay {summary.median_delay:g}"
    )


def changed(thresholds: Thresholds, start: Thresholds = DEFAULT) -> dict[str, float]:
    """The fields that differ from ``start`` (what to write into thresholds.py)."""
    return {
        name: getattr(thresholds, name)
        for name in SEARCH
        if getattr(thresholds, name) != getattr(start, name)
    }
