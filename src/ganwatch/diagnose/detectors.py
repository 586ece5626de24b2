"""Detectors: pure functions from a History to a Finding, or None when nothing was found.

They read recorded numbers only, never models, so they work on any run in the store and on
the series a user's own training loop reports. Each detector is a set of signals written in
the language of :mod:`ganwatch.diagnose.signals`: a per-epoch condition on one or more series
plus a weight.
"""

from __future__ import annotations

import numpy as np

from ganwatch.diagnose.signals import (
    Finding,
    Hit,
    all_of,
    any_of,
    at_least,
    combine,
    compare,
    crossing,
    evidence_at,
    signal,
    unless,
)
from ganwatch.diagnose.thresholds import DEFAULT, Thresholds
from ganwatch.diagnose.verdict import Evidence, History

# Keys whose infinite values mean the run diverged (NaN in a series means "not measured").
TRAINING_KEYS = ("loss/g", "loss/d_real", "loss/d_fake", "grad/g", "grad/d")
# Assumed number of classes when "metric/classes" was not recorded (MNIST-like data).
DEFAULT_CLASSES = 10.0


# ---- shared quantities ----------------------------------------------------------------------


def _constant(h: History, key: str, default: float | None) -> float | None:
    """A per-run constant recorded as a series (e.g. the number of classes)."""
    values = h.get(key)
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else default


def _precision_gate(h: History, t: Thresholds) -> np.ndarray:
    """Coverage-type collapse signs only mean collapse when the samples look like data."""
    return unless(compare(h.get("metric/precision"), "<", t.collapse_min_precision))


def _ndb_threshold(h: History, t: Thresholds, base: float) -> float:
    """NDB/K threshold, raised when real held-out data already scores high vs the reference."""
    ref = h.reference.get("metric/ndb_k")
    return base if ref is None else max(base, ref + t.ndb_k_margin)


def _fid_threshold(h: History, t: Thresholds) -> float:
    ref = h.reference.get("metric/fid")
    return t.fid_high if ref is None else max(t.fid_high, t.fid_ref_factor * ref)


# ---- detectors ------------------------------------------------------------------------------


def detect_divergence(h: History, t: Thresholds = DEFAULT) -> Finding | None:
    """A NaN/inf loss or gradient: training cannot recover, so this is certain (confidence 1)."""
    if h.nonfinite_step is not None:
        index = int(np.clip(np.searchsorted(h.steps, h.nonfinite_step), 0, len(h) - 1))
        note = f"A loss or gradient became NaN or infinite at step {h.nonfinite_step}."
        ev = Evidence("nonfinite_step", float(h.nonfinite_step), 0.0, ">", note)
        return Finding("divergence", index, 1.0, [ev], frozenset({"nonfinite"}))
    for key in TRAINING_KEYS:
        inf = np.flatnonzero(np.isinf(h.get(key)))
        if inf.size:
            i = int(inf[0])
            note = f"{key} was infinite in epoch {int(h.epochs[i])}."
            ev = Evidence(key, float(h.steps[i]), 0.0, ">", note)
            return Finding("divergence", i, 1.0, [ev], frozenset({"nonfinite"}))
    return None


def detect_mode_collapse(h: History, t: Thresholds = DEFAULT) -> Finding | None:
    """Samples that look like data but cover only part of it (few classes, bins or modes)."""
    gate = _precision_gate(h, t)
    total = _constant(h, "metric/classes", DEFAULT_CLASSES) or DEFAULT_CLASSES
    classes_thr = t.collapse_classes_frac * total
    ndb_thr = _ndb_threshold(h, t, t.ndb_k_high)
    support_thr = _ndb_threshold(h, t, t.ndb_k_support)
    ndb = h.get("metric/ndb_k")
    g = h.get("loss/g")

    hits = [
        crossing(
            h,
            "metric/classes_covered",
            "<",
            classes_thr,
            "few_classes",
            t.weight_strong,
            f"Only {{value:g}} of {total:g} classes appear among the samples.",
            gate,
        ),
        crossing(
            h,
            "metric/coverage",
            "<",
            t.collapse_coverage,
            "low_coverage",
            t.weight_medium,
            "Few real samples have a generated one near them, though samples look like data.",
            gate,
        ),
        crossing(
            h,
            "metric/ndb_k",
            ">",
            ndb_thr,
            "ndb_high",
            t.weight_medium,
            "Most NDB bins hold a significantly different share of samples than of real data.",
            gate,
        ),
        crossing(
            h,
            "metric/ndb_k",
            ">",
            support_thr,
            "ndb_raised",
            t.weight_support,
            "NDB/K is above what real held-out data scores.",
            all_of(gate, unless(compare(ndb, ">", ndb_thr))),
            supporting=True,
        ),
        crossing(
            h,
            "metric/diversity",
            "<",
            t.diversity_low,
            "low_diversity",
            t.weight_medium,
            "The fixed-noise samples look alike.",
        ),
        crossing(
            h,
            "loss/g_std",
            ">",
            t.g_std_rel * np.abs(g),
            "g_oscillation",
            t.weight_support,
            "The generator loss swings widely within the epoch, as when G hops between modes.",
            supporting=True,
        ),
        _toy_collapse(h, t),
    ]
    return combine("mode_collapse", hits)


def _toy_collapse(h: History, t: Thresholds) -> Hit | None:
    """Toy 2-D data: too few modes captured while the samples sit on modes."""
    modes = _constant(h, "metric/modes", None)
    if modes is None:
        return None
    quality_gate = unless(compare(h.get("metric/high_quality"), "<", t.toy_min_quality))
    return crossing(
        h,
        "metric/modes_captured",
        "<",
        t.toy_modes_frac * modes,
        "few_modes",
        t.weight_strong,
        f"Only {{value:g}} of {modes:g} modes are captured.",
        quality_gate,
    )


def _fid_stuck(h: History, t: Thresholds) -> np.ndarray:
    """Per epoch: FID high and not better than the best of the previous evaluations."""
    fid = h.get("metric/fid")
    thr = _fid_threshold(h, t)
    cond = np.full(len(h), np.nan)
    measured = np.flatnonzero(np.isfinite(fid))
    for j, i in enumerate(measured[1:], start=1):
        earlier = fid[measured[max(0, j - t.fid_window + 1) : j]]
        improving = fid[i] < (1.0 - t.fid_min_improvement) * earlier.min()
        cond[i] = float(fid[i] > thr and not improving)
    # High FID with data-like samples is missing modes, which the collapse detector judges.
    return all_of(cond, unless(at_least(h.get("metric/precision"), t.healthy_precision)))


def detect_convergence_failure(h: History, t: Thresholds = DEFAULT) -> Finding | None:
    """Samples far from the data, or a discriminator that has won outright."""
    d_real, d_fake, g = h.get("loss/d_real"), h.get("loss/d_fake"), h.get("loss/g")
    fid_thr = _fid_threshold(h, t)
    d_wins = all_of(
        compare(d_real, "<", t.d_loss_low),
        compare(d_fake, "<", t.d_loss_low),
        any_of(
            compare(g, ">", t.g_loss_high),
            all_of(
                compare(h.get("d/real"), ">", t.d_real_high),
                compare(h.get("d/fake"), "<", t.d_fake_low),
            ),
        ),
    )
    degenerate = all_of(compare(g, "<", t.zero_loss), compare(d_real + d_fake, "<", t.zero_loss))

    def d_wins_evidence(i: int) -> list[Evidence]:
        note = "The discriminator separates real from generated perfectly"
        out = [
            evidence_at(h, "loss/d_real", i, t.d_loss_low, "<", f"{note} (real loss near 0)."),
            evidence_at(h, "loss/d_fake", i, t.d_loss_low, "<", f"{note} (fake loss near 0)."),
        ]
        if np.isfinite(g[i]):
            out.append(
                evidence_at(h, "loss/g", i, t.g_loss_high, ">", "The generator gets no signal.")
            )
        return out

    hits = [
        crossing(
            h,
            "metric/precision",
            "<",
            t.precision_low,
            "low_precision",
            t.weight_strong,
            "Almost no generated sample lies near real data.",
        ),
        crossing(
            h,
            "metric/fid",
            ">",
            fid_thr,
            "fid_stuck",
            t.weight_medium,
            "FID is high and has stopped improving over the last evaluations.",
            _fid_stuck(h, t),
        ),
        crossing(
            h,
            "metric/high_quality",
            "<",
            t.toy_quality_low,
            "low_quality",
            t.weight_strong,
            "Few samples lie within 3 sigma of any mode.",
        ),
        signal(d_wins, "d_wins", t.weight_strong, d_wins_evidence, min_count=t.sustain_epochs),
        signal(
            degenerate,
            "zero_losses",
            t.weight_strong,
            lambda i: [
                evidence_at(
                    h,
                    "loss/g",
                    i,
                    t.zero_loss,
                    "<",
                    "Generator and discriminator losses are both near 0, so neither learns.",
                ),
            ],
            min_count=t.sustain_epochs,
        ),
    ]
    return combine("convergence_failure", hits)


def detect_high_lr_signature(h: History, t: Thresholds = DEFAULT) -> Finding | None:
    """The article's high-learning-rate failure: D's real loss near 0, its fake loss high."""
    d_real, d_fake = h.get("loss/d_real"), h.get("loss/d_fake")
    cond = all_of(compare(d_real, "<", t.d_loss_low), compare(d_fake, ">", t.lr_d_fake_high))
    hit = signal(
        cond,
        "high_lr",
        t.weight_strong,
        lambda i: [
            evidence_at(
                h,
                "loss/d_real",
                i,
                t.d_loss_low,
                "<",
                "The discriminator's loss on real data is near 0.",
            ),
            evidence_at(
                h,
                "loss/d_fake",
                i,
                t.lr_d_fake_high,
                ">",
                "Its loss on generated data stays high: the article's too-high learning rate.",
            ),
        ],
        min_count=t.sustain_epochs,
    )
    return combine("convergence_failure", [hit])


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
    total = _constant(h, "metric/classes", DEFAULT_CLASSES) or DEFAULT_CLASSES
    checks = [
        ("metric/classes_covered", ">", t.healthy_classes_frac * total, "Most classes appear."),
        ("metric/precision", ">", t.healthy_precision, "Samples lie near real data."),
        ("metric/recall", ">", t.healthy_recall, "Real data is well represented."),
        ("metric/coverage", ">", t.healthy_coverage, "Samples cover the real data."),
        ("metric/diversity", ">", t.healthy_diversity, "The fixed-noise samples differ."),
        ("metric/ndb_k", "<", _ndb_threshold(h, t, t.ndb_k_high), "NDB bins mostly match."),
        ("metric/fid", "<", _fid_threshold(h, t), "FID is low."),
        ("metric/high_quality", ">", t.healthy_toy_quality, "Samples sit on modes."),
    ]
    modes = _constant(h, "metric/modes", None)
    if modes is not None:
        checks.append(
            ("metric/modes_captured", ">", t.healthy_toy_modes_frac * modes, "Most modes appear.")
        )
    return [c for c in checks if np.isfinite(h.get(c[0])).any()]


def detect_healthy(h: History, t: Thresholds = DEFAULT) -> Finding | None:
    """Good, stable metrics (when measured) and/or losses settled in a band.

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
    return combine("healthy", [metrics, settled])
