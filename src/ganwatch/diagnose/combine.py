"""`diagnose`: run every detector and pick one verdict, by a fixed, documented priority.

Priority: divergence (certain, and nothing else matters once the numbers are NaN) >
convergence failure when the samples are far from the data or D wins outright (whatever the
collapse metrics say: they describe data-like samples only, and a G that gets no signal is
a convergence failure by the article's Fig. 12 and 14) > convergence failure / mode
collapse (the one with the higher confidence; on a tie, convergence failure; the other's
evidence is kept, marked as secondary) > healthy > warming_up (nothing decisive yet).
Before `min_epochs` epochs only a failure of at least `decisive_confidence` is reported, so
one noisy early epoch does not raise an alarm. Divergence, and a collapse on 2-D data whose
samples sit on the modes (``detectors.on_modes``), are *firm*: ``steady`` reports them
without waiting for confirmation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ganwatch.catalog import LOSSES
from ganwatch.catalog.losses import DEFAULT_LOSS
from ganwatch.catalog.verdicts import also_note
from ganwatch.diagnose.confidence import calibrate, family_of
from ganwatch.diagnose.convergence import (
    OUTRANK_COLLAPSE,
    detect_convergence_failure,
    detect_high_lr_signature,
)
from ganwatch.diagnose.detectors import detect_divergence, detect_mode_collapse, on_modes
from ganwatch.diagnose.health import detect_healthy
from ganwatch.diagnose.remedies import remedies_for
from ganwatch.diagnose.signals import Finding
from ganwatch.diagnose.thresholds import DEFAULT, Thresholds
from ganwatch.diagnose.verdict import Evidence, History, Verdict


def merge_findings(a: Finding | None, b: Finding | None) -> Finding | None:
    """Two findings of one kind as one: earliest onset, confidences combined, all evidence."""
    if a is None or b is None:
        return a or b
    confidence = 1.0 - (1.0 - a.confidence) * (1.0 - b.confidence)
    since = min(a.since_index, b.since_index)
    strongest = max(a.strongest, b.strongest)
    return Finding(a.kind, since, confidence, a.evidence + b.evidence, a.tags | b.tags, strongest)


def decisive(finding: Finding, t: Thresholds) -> bool:
    """Whether a failure may be reported before ``min_epochs`` epochs: one of its signals is
    decisive (``weight_strong``) and together they reach ``decisive_confidence``. Clear signs
    alone (a skewed class histogram, a high NDB/K, low diversity: three views of one noisy
    early epoch) add up past 0.8 without one, and wait. Rounded as the confidence is
    reported, so 1 - (1 - 0.8) passes 0.8 whatever the floats do."""
    strong = round(finding.strongest, 4) >= round(t.weight_strong, 4)
    return strong and round(finding.confidence, 4) >= round(t.decisive_confidence, 4)


def _failures(h: History, t: Thresholds) -> list[Finding]:
    """Convergence failure and mode collapse findings, strongest first.

    Samples far from the data, or D winning outright (``OUTRANK_COLLAPSE``), make a
    convergence failure whatever the collapse metrics say.
    """
    convergence = merge_findings(detect_convergence_failure(h, t), detect_high_lr_signature(h, t))
    found = [f for f in (convergence, detect_mode_collapse(h, t)) if f is not None]
    if len(h) < t.min_epochs:
        found = [f for f in found if decisive(f, t)]
    return sorted(
        found,
        key=lambda f: (
            bool(f.tags & OUTRANK_COLLAPSE),
            f.confidence,
            f.kind == "convergence_failure",
        ),
        reverse=True,
    )


def _secondary(f: Finding) -> list[Evidence]:
    """The weaker finding's evidence, kept so people see both problems, marked as such."""
    return [replace(e, note=also_note(f.kind, e.note)) for e in f.evidence]


def _calibrated(finding: Finding, h: History) -> tuple[float, list[Evidence]]:
    """The finding's confidence capped by its track record, and the note that says so when
    it was (``confidence.py``)."""
    confidence, note = calibrate(round(finding.confidence, 4), finding.kind, family_of(h))
    return confidence, [] if note is None else [note]


def for_loss(thresholds: Thresholds, loss: str | None) -> Thresholds:
    """The thresholds for a run trained with ``loss`` (None: the article's BCE).

    A Wasserstein critic's loss is negative when it does well, and EBGAN's and BEGAN's
    energies are small by construction, so rules that compare loss values with BCE-scale
    constants would fire for the wrong reason; for those losses they are switched off and
    the metrics and scale-free rules (relative spreads) decide.
    """
    # Losses on logits have BCE's scale, which the absolute loss thresholds (D loss near 0,
    # both losses near 0, the high-lr signature) are written for.
    spec = LOSSES.get(loss or DEFAULT_LOSS)
    if spec is not None and spec.output == "logit":
        return thresholds
    return replace(thresholds, d_loss_low=-math.inf, zero_loss=-math.inf)


def diagnose(
    history: History,
    thresholds: Thresholds = DEFAULT,
    config: Mapping[str, Any] | None = None,
) -> Verdict:
    """The verdict for the run so far; `config` (lr, beta1, latent_dim, ...) tailors remedies.

    This judges one evaluation on its own; what a run reports is this steadied over
    evaluations by `steady_verdict` (the Monitor does that), so it does not flap. Its
    confidence is the detectors' capped by the kind's track record (``confidence.py``).
    """
    h, t = history, for_loss(thresholds, (config or {}).get("loss"))
    if len(h) == 0:
        return Verdict("warming_up", 0, 0, None, 0.0)
    epoch, step = int(h.epochs[-1]), int(h.steps[-1])

    divergence = detect_divergence(h, t)
    if divergence is not None:
        since = h.nonfinite_step
        if since is None:
            since = int(h.steps[divergence.since_index])
        remedies = remedies_for("divergence", divergence.tags, config)
        return Verdict("divergence", epoch, step, int(since), 1.0, divergence.evidence, remedies)

    failures = _failures(h, t)
    if failures:
        best, others = failures[0], failures[1:]
        confidence, note = _calibrated(best, h)
        sits = on_modes(h, t) if best.kind == "mode_collapse" else None
        firm = [] if sits is None else [sits]  # the evidence that makes the collapse firm
        evidence = best.evidence + firm + [e for f in others for e in _secondary(f)] + note
        return Verdict(
            best.kind,
            epoch,
            step,
            int(h.steps[best.since_index]),
            confidence,
            evidence,
            remedies_for(best.kind, best.tags, config),
            firm=bool(firm),
        )

    healthy = detect_healthy(h, t)
    if healthy is not None:
        since = int(h.steps[healthy.since_index])
        confidence, note = _calibrated(healthy, h)
        return Verdict("healthy", epoch, step, since, confidence, healthy.evidence + note)

    return Verdict("warming_up", epoch, step, None, 0.0)
