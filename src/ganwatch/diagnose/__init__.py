"""Diagnose GAN failure modes from the recorded series (never from models).

`diagnose(history)` returns one Verdict per evaluation; the detectors it combines are pure
functions that can be called on their own. `steady_verdict` (steady.py) is the hysteresis
that turns those per-evaluation verdicts into the reported one, so it flaps less.
Thresholds live in `thresholds.py`, remedies in `remedies.py`; docs/diagnosis.md explains
the rules.
"""

from ganwatch.diagnose.combine import diagnose, merge_findings
from ganwatch.diagnose.convergence import (
    detect_convergence_failure,
    detect_high_lr_signature,
)
from ganwatch.diagnose.detectors import detect_divergence, detect_mode_collapse
from ganwatch.diagnose.health import detect_healthy
from ganwatch.diagnose.remedies import IMPLEMENTED_FLAGS, flag_available, remedies_for
from ganwatch.diagnose.signals import Finding
from ganwatch.diagnose.steady import found_kinds, reported_kind, reported_kinds, steady_verdict
from ganwatch.diagnose.thresholds import DEFAULT, Thresholds, thresholds_table
from ganwatch.diagnose.verdict import VERDICT_KINDS, Evidence, History, Remedy, Verdict

__all__ = [
    "DEFAULT",
    "IMPLEMENTED_FLAGS",
    "VERDICT_KINDS",
    "Evidence",
    "Finding",
    "History",
    "Remedy",
    "Thresholds",
    "Verdict",
    "detect_convergence_failure",
    "detect_divergence",
    "detect_healthy",
    "detect_high_lr_signature",
    "detect_mode_collapse",
    "diagnose",
    "flag_available",
    "found_kinds",
    "merge_findings",
    "remedies_for",
    "reported_kind",
    "reported_kinds",
    "steady_verdict",
    "thresholds_table",
]
