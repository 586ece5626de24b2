"""Every number the detectors compare against, in one place.

Each field carries a one-line explanation in its metadata, so that the table in
docs/diagnosis.md is generated from this file (`thresholds_table`) rather than copied by hand;
a test checks that the two agree.

Two kinds of threshold live here. *Relative* ones (``..._ratio``, ``..._margin`` on a band)
compare a metric with what held-out real data scores on it at the same sample count (the
bands, ``ganwatch.metrics.bands``): coverage, recall, FID and NDB/K depend on how many samples
are compared, so only a comparison at the same count means anything. *Absolute* ones apply
where no band exists: the losses (which real data does not have), realism and class counts
(which do not depend on the count), and runs whose reference had no held-out real data
(``..._fallback`` fields). The tuned values come from the calibration half of the labelled
corpus (``ganwatch validate``; docs/diagnosis.md reports them on the held-out half).
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
    decisive_confidence: float = _t(
        0.8, "before min_epochs: a failure needs this confidence and a decisive signal"
    )
    sustain_epochs: int = _t(2, "consecutive epochs a loss-only failure signal must hold")
    verdict_hold: int = _t(
        2,
        "reported verdict: evaluations in a row a new kind must be found before it replaces "
        "the reported one (at once: a firm finding, the first verdict after warming_up, and "
        "any change from a mode collapse, from healthy or to healthy)",
    )

    # Realism decides first: samples that are not data-like are a convergence failure.
    realism_low: float = _t(
        0.6, "convergence failure: realism < this (real data scores ~0.99 at any count)"
    )
    realism_healthy: float = _t(0.7, "healthy: realism >= this")
    pixel_realism_low: float = _t(
        0.85, "convergence failure: pixel realism < this (real ~0.99, healthy GANs >= 0.9)"
    )
    detail_low: float = _t(
        0.6, "convergence failure: detail < this (real data ~1.0, 3x3-blurred photos 0.55)"
    )
    toy_quality_low: float = _t(0.2, "convergence failure (toy): high_quality < this")
    healthy_toy_quality: float = _t(
        0.3, "healthy (toy): high_quality >= this; a collapse found at or above it is firm"
    )

    # Mode collapse, judged only while the samples are data-like.
    collapse_classes_frac: float = _t(0.7, "collapse: classes covered < this x classes")
    collapse_coverage_ratio: float = _t(
        0.05, "collapse: coverage < this x real data's coverage at the same count"
    )
    collapse_coverage_fallback: float = _t(
        0.05, "collapse, without real-data bands: coverage < this"
    )
    collapse_class_kl: float = _t(0.8, "collapse: class KL > this (real data: < 0.02)")
    ndb_k_margin: float = _t(0.2, "collapse: NDB/K > real data's highest NDB/K + this")
    ndb_k_fallback: float = _t(0.6, "collapse, without real-data bands: NDB/K > this")
    ndb_k_support: float = _t(0.15, "collapse, supporting only: NDB/K > real's highest + this")
    diversity_low: float = _t(0.4, "collapse: fixed-noise diversity < this (real: ~1)")
    g_std_rel: float = _t(0.5, "collapse, supporting only: loss/g_std > this x |loss/g|")
    toy_modes_frac: float = _t(0.75, "collapse (toy): modes captured < this x modes")
    toy_min_quality: float = _t(0.2, "collapse (toy): ... while high_quality >= this")
    toy_mode_kl: float = _t(
        0.6, "collapse (toy): mode KL > this, while high_quality >= toy_min_quality (even: 0)"
    )

    # Convergence failure.
    fid_far_ratio: float = _t(
        40.0, "convergence failure: FID > this x real data's FID (far from the data)"
    )
    fid_far_fallback: float = _t(500.0, "... without real-data bands: FID > this")
    fid_ratio: float = _t(3.0, "convergence failure: FID > this x real data's FID, not falling")
    fid_fallback: float = _t(50.0, "... without real-data bands: FID > this")
    fid_window: int = _t(3, "FID evaluations compared to decide 'not improving'")
    fid_min_improvement: float = _t(0.05, "FID improving = latest < (1 - this) x earlier best")
    d_loss_low: float = _t(0.05, "D winning: loss/d_real and loss/d_fake both < this")
    g_loss_high: float = _t(4.0, "D winning: ... with loss/g > this")
    g_rising: float = _t(0.5, "D winning: ... or loss/g risen by > this x over settle_window")
    d_real_high: float = _t(0.95, "D winning: ... or with d/real > this")
    d_fake_low: float = _t(0.05, "D winning: ... and d/fake < this")
    lr_d_fake_high: float = _t(1.0, "high-lr signature: loss/d_real < d_loss_low, d_fake > this")
    zero_loss: float = _t(0.05, "degenerate: loss/g and loss/d_real + loss/d_fake all < this")

    # Healthy.
    healthy_classes_frac: float = _t(0.9, "healthy: classes covered >= this x classes")
    healthy_coverage_ratio: float = _t(
        0.1, "healthy: coverage >= this x real data's coverage at the same count"
    )
    healthy_coverage_fallback: float = _t(0.1, "healthy, without real-data bands: coverage >= this")
    healthy_class_kl: float = _t(0.3, "healthy: class KL <= this")
    healthy_diversity: float = _t(0.6, "healthy: diversity >= this")
    healthy_toy_modes_frac: float = _t(0.9, "healthy (toy): modes captured >= this x modes")
    healthy_toy_mode_kl: float = _t(0.3, "healthy (toy): mode KL <= this")
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
