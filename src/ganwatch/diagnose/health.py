"""The healthy detector: every measured quality metric good, or (without metrics) losses
settled in a band. Kept apart from the failure detectors in ``detectors.py``: it is the one
verdict that needs *all* checks to pass rather than any signal to fire."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ganwatch.diagnose.detectors import DEFAULT_CLASSES, ndb_threshold, relative, run_constant
from ganwatch.diagnose.signals import (
    Finding,
    all_of,
    at_least,
    combine,
    compare,
    evidence_at,
    signal,
)
from ganwatch.diagnose.thresholds import DEFAULT, Thresholds
from ganwatch.diagnose.verdict import Evidence, History


def _relative_spread(h: History, t: Thresholds) -> np.ndarray:
    """Per epoch: (max - min) / |mean| of loss/g over the last `settle_window` epochs."""
    g = h.get("loss/g")
    w = t.settle_window
    spread = np.full(len(h), np.nan)
    for i in range(w - 1, len(h)):
        window = g[i - w + 1 : i + 1]
        if np.isfinite(window).all():
            spread[i] = (window.max() - window.min()) / max(abs(window.mean()), 1e-8)
    return spread


def _health_checks(h: History, t: Thresholds) -> list[tuple[str, str, float, str]]:
    """(key, op, threshold, note) for every quality metric a healthy run must pass."""
    total = run_constant(h, "metric/classes", DEFAULT_CLASSES) or DEFAULT_CLASSES
    coverage = relative(h, "metric/coverage", t.healthy_coverage_ratio, t.healthy_coverage_fallback)
    checks = [
        ("metric/realism", ">", t.realism_healthy, "The samples are data-like."),
        ("metric/detail", ">", t.detail_low, "The samples are as detailed as real images."),
        ("metric/classes_covered", ">", t.healthy_classes_frac * total, "Most classes appear."),
        ("metric/coverage", ">", coverage, "Samples cover as much as healthy GANs do."),
        ("metric/class_kl", "<", t.healthy_class_kl, "Classes appear in the data's proportions."),
        ("metric/diversity", ">", t.healthy_diversity, "The fixed-noise samples differ."),
        (
            "metric/ndb_k",
            "<",
            ndb_threshold(h, t.ndb_k_margin, t.ndb_k_fallback),
            "NDB bins mostly match.",
        ),
        ("metric/high_quality", ">", t.healthy_toy_quality, "Samples sit on modes."),
        ("metric/mode_kl", "<", t.healthy_toy_mode_kl, "Samples spread evenly over the modes."),
    ]
    modes = run_constant(h, "metric/modes", None)
    if modes is not None:
        checks.append(
            ("metric/modes_captured", ">", t.healthy_toy_modes_frac * modes, "Most modes appear.")
        )
    return [c for c in checks if np.isfinite(h.get(c[0])).any()]


def detect_healthy(h: History, t: Thresholds = DEFAULT) -> Finding | None:
    """Good metrics (when measured) and/or losses settled in a band.

    When quality metrics were measured they decide: losses alone cannot tell a collapsed
    generator from a good one. Without metrics, settled losses give a low-confidence healthy.
    """
    if len(h) < t.min_epochs:
        return None
    checks = _health_checks(h, t)
    spread = _relative_spread(h, t)
    settled = signal(
        compare(spread, "<", t.settle_band),
        "losses_settled",
        t.weight_losses_settled,
        lambda i: [
            Evidence(
                "loss/g_spread",
                float(spread[i]),
                t.settle_band,
                "<",
                f"The generator loss stayed within a band over {t.settle_window} epochs "
                "(its range relative to its mean).",
                int(h.epochs[i]),
            )
        ],
    )
    if not checks:
        return combine("healthy", [settled])

    def good(key: str, op: str, thr: float) -> np.ndarray:
        values = h.get(key)
        return at_least(values, thr) if op == ">" else at_least(-values, -thr)

    def evidence(i: int) -> list[Evidence]:
        return [
            evidence_at(h, key, i, thr, op, note)
            for key, op, thr, note in checks
            if np.isfinite(h.get(key)[i])
        ]

    cond = all_of(*(good(key, op, thr) for key, op, thr, _ in checks))
    metrics = signal(cond, "metrics_good", t.weight_metrics_good, evidence)
    if metrics is None:
        return None
    found = combine("healthy", [metrics, settled])
    # Healthy since the metrics became good, not since the losses settled: settled losses
    # also hold through a collapse, so they cannot date the recovery.
    return replace(found, since_index=metrics.since) if found else None
