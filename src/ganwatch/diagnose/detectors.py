"""Detectors: pure functions from a History to a Finding, or None when nothing was found.

They read recorded numbers only, never models, so they work on any run in the store and on
the series a user's own training loop reports. Each detector is a set of signals written in
the language of :mod:`ganwatch.diagnose.signals`: a per-epoch condition on one or more series
plus a weight. Metrics whose value depends on how many samples are compared (coverage, FID,
NDB/K) are judged against what held-out real data scores at the same count (the History's
bands); without bands, absolute fallbacks apply (``thresholds.py`` says which is which).

This module holds what the detectors share, divergence and mode collapse; the convergence
failure detectors live in ``convergence.py``. Realism decides first: collapse metrics are not
read while the samples are known not to be data-like (``metric/realism`` or
``metric/detail`` low, or on the toy data few samples on a mode), since a blank image covers
one class, but that is not a mode collapse.
"""

from __future__ import annotations

import numpy as np

from ganwatch.diagnose.signals import (
    Finding,
    Hit,
    all_of,
    at_least,
    combine,
    compare,
    crossing,
    current_run,
    evidence_at,
    unless,
)
from ganwatch.diagnose.thresholds import DEFAULT, Thresholds
from ganwatch.diagnose.verdict import Evidence, History

# Keys whose infinite values mean the run diverged (NaN in a series means "not measured").
TRAINING_KEYS = ("loss/g", "loss/d_real", "loss/d_fake", "grad/g", "grad/d")
# Assumed number of classes when "metric/classes" was not recorded (MNIST-like data).
DEFAULT_CLASSES = 10.0


# ---- shared quantities ----------------------------------------------------------------------


def run_constant(h: History, key: str, default: float | None) -> float | None:
    """A per-run constant recorded as a series (e.g. the number of classes)."""
    values = h.get(key)
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else default


def data_like(h: History, t: Thresholds) -> np.ndarray:
    """Per epoch: 0 where the samples are known not to be data-like, else 1 (unknown passes)."""
    return all_of(
        unless(compare(h.get("metric/realism"), "<", t.realism_low)),
        unless(compare(h.get("metric/detail"), "<", t.detail_low)),
        unless(compare(h.get("metric/high_quality"), "<", t.toy_min_quality)),
    )


def relative(h: History, key: str, ratio: float, fallback: float) -> float:
    """``ratio`` x what real data scores on ``key`` at this count, or ``fallback`` without."""
    band = h.band(key)
    return fallback if band is None or not np.isfinite(band.mean) else ratio * band.mean


def ndb_threshold(h: History, margin: float, fallback: float) -> float:
    """NDB/K above real held-out data's highest by ``margin`` (``fallback`` without bands)."""
    band = h.band("metric/ndb_k")
    return fallback if band is None or not np.isfinite(band.high) else band.high + margin


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
            ev = Evidence(key, float(h.steps[i]), 0.0, ">", note, int(h.epochs[i]))
            return Finding("divergence", i, 1.0, [ev], frozenset({"nonfinite"}))
    return None


def detect_mode_collapse(h: History, t: Thresholds = DEFAULT) -> Finding | None:
    """Samples that look like data but cover only part of it (few classes, bins or modes)."""
    gate = data_like(h, t)
    total = run_constant(h, "metric/classes", DEFAULT_CLASSES) or DEFAULT_CLASSES
    ndb_thr = ndb_threshold(h, t.ndb_k_margin, t.ndb_k_fallback)
    support_thr = ndb_threshold(h, t.ndb_k_support, t.ndb_k_fallback)
    coverage = relative(
        h, "metric/coverage", t.collapse_coverage_ratio, t.collapse_coverage_fallback
    )
    hits = [
        crossing(
            h,
            "metric/classes_covered",
            "<",
            t.collapse_classes_frac * total,
            "few_classes",
            t.weight_strong,
            f"Only {{value:g}} of {total:g} classes appear among the samples.",
            gate,
        ),
        crossing(
            h,
            "metric/coverage",
            "<",
            coverage,
            "low_coverage",
            t.weight_medium,
            "Few real samples have a generated one near them, far fewer than for real data "
            "at this sample count.",
            gate,
        ),
        crossing(
            h,
            "metric/class_kl",
            ">",
            t.collapse_class_kl,
            "class_imbalance",
            t.weight_medium,
            "The samples' classes are far from the data's proportions.",
            gate,
        ),
        crossing(
            h,
            "metric/ndb_k",
            ">",
            ndb_thr,
            "ndb_high",
            t.weight_medium,
            "Many more NDB bins differ than for held-out real data.",
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
            all_of(gate, unless(compare(h.get("metric/ndb_k"), ">", ndb_thr))),
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
            gate,
        ),
        crossing(
            h,
            "loss/g_std",
            ">",
            t.g_std_rel * np.abs(h.get("loss/g")),
            "g_oscillation",
            t.weight_support,
            "The generator loss swings widely within the epoch, as when G hops between modes.",
            supporting=True,
        ),
        *_toy_collapse(h, t),
    ]
    return combine("mode_collapse", hits)


def on_modes(h: History, t: Thresholds) -> Evidence | None:
    """On 2-D mixtures: the evidence that as many samples sit on the data's modes at the
    latest measurement (``--eval-every``) as in a healthy run (``healthy_toy_quality``), else
    None.

    ``metric/high_quality`` is the share of samples within three standard deviations of a
    mode, the quantity the verdict corpus's judge measures on 10,000 other samples, so a
    collapse found while it is this high is firm: it needs no confirmation
    (``steady.reported_kind``). On images realism is a classifier's proxy, and a collapse
    found there waits.
    """
    if run_constant(h, "metric/modes", None) is None:
        return None
    run = current_run(at_least(h.get("metric/high_quality"), t.healthy_toy_quality))
    if run is None:  # below the bar at the latest measurement, or never measured
        return None
    note = (
        "As many samples sit on the data's modes as in a healthy run, so the collapse is "
        "measured on data-like samples and is reported without waiting for confirmation."
    )
    return evidence_at(h, "metric/high_quality", run[1], t.healthy_toy_quality, ">", note)


def _toy_collapse(h: History, t: Thresholds) -> list[Hit | None]:
    """Toy 2-D data: too few modes captured, or the samples on modes spread unevenly over
    them (most on a few), while the samples sit on modes."""
    modes = run_constant(h, "metric/modes", None)
    if modes is None:
        return []
    quality_gate = unless(compare(h.get("metric/high_quality"), "<", t.toy_min_quality))
    return [
        crossing(
            h,
            "metric/modes_captured",
            "<",
            t.toy_modes_frac * modes,
            "few_modes",
            t.weight_strong,
            f"Only {{value:g}} of {modes:g} modes are captured.",
            quality_gate,
        ),
        crossing(
            h,
            "metric/mode_kl",
            ">",
            t.toy_mode_kl,
            "uneven_modes",
            t.weight_strong,
            "The samples on modes crowd onto a few of them (KL from an even spread, in nats).",
            quality_gate,
        ),
    ]
