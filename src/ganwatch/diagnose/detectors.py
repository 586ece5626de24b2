"""Detectors: pure functions from a History to a Finding, or None when nothing was found.

They read recorded numbers only, never models, so they work on any run in the store and on
the series a user's own training loop reports. Each detector is a set of signals written in
the language of :mod:`ganwatch.diagnose.signals`: a per-epoch condition on one or more series
plus a weight. Metrics whose value depends on how many samples are compared (coverage, FID,
NDB/K) are judged against what held-out real data scores at the same count (the History's
bands); without bands, absolute fallbacks apply (``thresholds.py`` says which is which).

Realism decides first. Samples that are not data-like (``metric/realism`` or ``metric/detail``
low, or on the toy data few samples on a mode) make a convergence failure, and collapse
metrics are not read while they are: a blank image covers one class, but that is not a mode
collapse.
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
#: The signals that say the samples are far from the data (they outrank collapse).
FAR_FROM_DATA = frozenset({"unrealistic", "blurry", "low_quality", "fid_far"})
#: The signals that make a convergence failure whatever the collapse metrics say: samples far
#: from the data, and D winning outright while G's loss is high or rising (the article's
#: Fig. 12 and 14). On the verdict corpus's calibration half D won outright only on epochs
#: the judge called a convergence failure (43 of 43 MNIST evaluations, none on 2-D data),
#: some of them one repeated, digit-like image that realism passes.
OUTRANK_COLLAPSE = FAR_FROM_DATA | {"d_wins"}


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
            ev = Evidence(key, float(h.steps[i]), 0.0, ">", note)
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
        _toy_collapse(h, t),
    ]
    return combine("mode_collapse", hits)


def _toy_collapse(h: History, t: Thresholds) -> Hit | None:
    """Toy 2-D data: too few modes captured while the samples sit on modes."""
    modes = run_constant(h, "metric/modes", None)
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
    """Per epoch: FID far above real data's and not better than the recent evaluations' best."""
    fid = h.get("metric/fid")
    thr = relative(h, "metric/fid", t.fid_ratio, t.fid_fallback)
    cond = np.full(len(h), np.nan)
    measured = np.flatnonzero(np.isfinite(fid))
    for j, i in enumerate(measured[1:], start=1):
        earlier = fid[measured[max(0, j - t.fid_window + 1) : j]]
        improving = fid[i] < (1.0 - t.fid_min_improvement) * earlier.min()
        cond[i] = float(fid[i] > thr and not improving)
    # A high FID of data-like samples is missing modes, which the collapse detector judges.
    return all_of(cond, unless(at_least(h.get("metric/realism"), t.realism_healthy)))


def _rising(values: np.ndarray, window: int, rise: float) -> np.ndarray:
    """Per epoch: whether ``values`` grew by more than ``rise`` x over the last ``window``."""
    out = np.full(len(values), np.nan)
    for i in range(window - 1, len(values)):
        first, last = values[i - window + 1], values[i]
        if np.isfinite(first) and np.isfinite(last):
            out[i] = float(last > first + rise * abs(first))
    return out


def _d_wins(h: History, t: Thresholds) -> Hit | None:
    """The discriminator separates real from fake perfectly while G's loss is high or rising
    (the article's Fig. 12 and 14 signature)."""
    d_real, d_fake, g = h.get("loss/d_real"), h.get("loss/d_fake"), h.get("loss/g")
    cond = all_of(
        compare(d_real, "<", t.d_loss_low),
        compare(d_fake, "<", t.d_loss_low),
        any_of(
            compare(g, ">", t.g_loss_high),
            _rising(g, t.settle_window, t.g_rising),
            all_of(
                compare(h.get("d/real"), ">", t.d_real_high),
                compare(h.get("d/fake"), "<", t.d_fake_low),
            ),
        ),
    )

    def evidence(i: int) -> list[Evidence]:
        note = "The discriminator separates real from generated perfectly"
        out = [
            evidence_at(h, "loss/d_real", i, t.d_loss_low, "<", f"{note} (real loss near 0)."),
            evidence_at(h, "loss/d_fake", i, t.d_loss_low, "<", f"{note} (fake loss near 0)."),
        ]
        if np.isfinite(g[i]):
            out.append(
                evidence_at(
                    h,
                    "loss/g",
                    i,
                    t.g_loss_high,
                    ">",
                    "The generator loss is high or rising: G gets no signal.",
                )
            )
        return out

    return signal(cond, "d_wins", t.weight_strong, evidence, min_count=t.sustain_epochs)


def detect_convergence_failure(h: History, t: Thresholds = DEFAULT) -> Finding | None:
    """Samples far from the data, or a discriminator that has won outright."""
    g, d_sum = h.get("loss/g"), h.get("loss/d_real") + h.get("loss/d_fake")
    degenerate = all_of(compare(g, "<", t.zero_loss), compare(d_sum, "<", t.zero_loss))
    fid_thr = relative(h, "metric/fid", t.fid_ratio, t.fid_fallback)
    far_thr = relative(h, "metric/fid", t.fid_far_ratio, t.fid_far_fallback)
    hits = [
        crossing(
            h,
            "metric/realism",
            "<",
            t.realism_low,
            "unrealistic",
            t.weight_strong,
            "Few samples are as close to real data as real data is: they are not data-like.",
        ),
        crossing(
            h,
            "metric/detail",
            "<",
            t.detail_low,
            "blurry",
            t.weight_strong,
            "The samples have far less fine detail than real images of their class: blurred.",
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
        crossing(
            h,
            "metric/fid",
            ">",
            far_thr,
            "fid_far",
            t.weight_strong,
            "FID is many times real data's at this sample count: far from the data.",
            # data-like samples with a far FID are missing modes (the collapse detector's)
            unless(at_least(h.get("metric/realism"), t.realism_healthy)),
        ),
        crossing(
            h,
            "metric/fid",
            ">",
            fid_thr,
            "fid_stuck",
            t.weight_medium,
            "FID is far above real data's and has stopped improving.",
            _fid_stuck(h, t),
        ),
        _d_wins(h, t),
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
                )
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
