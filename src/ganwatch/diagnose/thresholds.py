"""Every number the detectors compare against, in one place.

Each field carries a one-line explanation in its metadata, so that the table in
docs/diagnosis.md is generated from this file (`thresholds_table`) rather than copied by hand;
a test checks that the two agree. Values are calibrated on the acceptance cases described in
docs/diagnosis.md (real MNIST vs itself, two-class digits, uniform noise, NaN losses).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _t(default: float, doc: str) -> Any:
    """A threshold field whose explanation travels with it (read by `thresholds_table`)."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Thresholds:
    """The detectors' thresholds; pass a modified copy to `diagnose` to recalibrate."""

    # When a verdict may be given at all.
    min_epochs: int = _t(2, "epochs needed before healthy, or any failure short of decisive")
    decisive_confidence: float = _t(0.9, "confidence that lets a failure be called earlier")
    sustain_epochs: int = _t(2, "consecutive epochs a loss-only failure signal must hold")
    verdict_hold: int = _t(
        2,
        "reported verdict: evaluations in a row a new kind must be found before it replaces "
        "the reported one (divergence, and the first verdict after warming_up: at once)",
    )

    # Mode collapse.
    collapse_classes_frac: float = _t(0.7, "collapse: classes covered < this x classes")
    collapse_min_precision: float = _t(
        0.3, "collapse: coverage-type signals count only while precision >= this (or unknown)"
    )
    collapse_coverage: float = _t(0.3, "collapse: coverage < this")
    ndb_k_high: float = _t(0.6, "collapse: NDB/K > this (real test vs train gives 0.28)")
    ndb_k_margin: float = _t(0.3, "collapse: NDB/K must also exceed the reference's + this")
    ndb_k_support: float = _t(0.45, "collapse, supporting only: NDB/K > this")
    diversity_low: float = _t(0.4, "collapse: fixed-noise diversity < this")
    g_std_rel: float = _t(0.5, "collapse, supporting only: loss/g_std > this x |loss/g|")
    toy_modes_frac: float = _t(0.75, "collapse (toy): modes captured < this x modes")
    toy_min_quality: float = _t(0.5, "collapse (toy): ... while high_quality >= this")

    # Convergence failure.
    precision_low: float = _t(0.1, "convergence failure: precision < this")
    fid_high: float = _t(50.0, "convergence failure: FID > this (classifier features)")
    fid_ref_factor: float = _t(10.0, "... or > this x the reference's FID, whichever is larger")
    fid_window: int = _t(3, "FID evaluations compared to decide 'not improving'")
    fid_min_improvement: float = _t(0.05, "FID improving = latest < (1 - this) x earlier best")
    toy_quality_low: float = _t(0.2, "convergence failure (toy): high_quality < this")
    d_loss_low: float = _t(0.05, "D winning: loss/d_real and loss/d_fake both < this")
    g_loss_high: float = _t(4.0, "D winning: ... with loss/g > this")
    d_real_high: float = _t(0.95, "D winning: ... or with d/real > this")
    d_fake_low: float = _t(0.05, "D winning: ... and d/fake < this")
    lr_d_fake_high: float = _t(1.0, "high-lr signature: loss/d_real < d_loss_low, d_fake > this")
    zero_loss: float = _t(0.05, "degenerate: loss/g and loss/d_real + loss/d_fake all < this")

    # Healthy.
    healthy_classes_frac: float = _t(0.9, "healthy: classes covered >= this x classes")
    healthy_precision: float = _t(0.5, "healthy: precision >= this")
    healthy_recall: float = _t(0.3, "healthy: recall >= this")
    healthy_coverage: float = _t(0.4, "healthy: coverage >= this")
    healthy_diversity: float = _t(0.6, "healthy: diversity >= this")
    healthy_toy_modes_frac: float = _t(0.9, "healthy (toy): modes captured >= this x modes")
    healthy_toy_quality: float = _t(0.5, "healthy (toy): high_quality >= this")
    settle_window: int = _t(3, "healthy: epochs of loss/g that must lie in a band")
    settle_band: float = _t(0.5, "healthy: (max - min) of those <= this x |mean|")

    # How much one signal counts (combined as 1 - prod(1 - weight)).
    weight_strong: float = _t(0.8, "confidence of a decisive signal")
    weight_medium: float = _t(0.5, "confidence of a clear but not decisive signal")
    weight_support: float = _t(0.2, "confidence of supporting evidence (never enough alone)")
    weight_losses_settled: float = _t(0.4, "confidence that settled losses alone give healthy")
    weight_metrics_good: float = _t(0.7, "confidence that good metrics give healthy")


DEFAULT = Thresholds()


def thresholds_table(thresholds: Thresholds = DEFAULT) -> str:
    """The Markdown table of every threshold with its value, for docs/diagnosis.md."""
    lines = ["| field | value | meaning |", "|---|---|---|"]
    for f in fields(thresholds):
        value = getattr(thresholds, f.name)
        doc = f.metadata["doc"].replace("|", "\\|")  # keep |x| from splitting the cell
        lines.append(f"| `{f.name}` | {value:g} | {doc} |")
    return "\n".join(lines)
