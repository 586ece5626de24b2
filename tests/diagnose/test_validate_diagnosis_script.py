"""The validation script's ground truth and bookkeeping (scripts/validate_diagnosis.py).

Its numbers go into docs/diagnosis.md, so the rules that produce them are tested like code:
in particular that the ground truth is not the detectors' rule.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from ganwatch.diagnose import DEFAULT

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "validate_diagnosis.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("validate_diagnosis", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_truth_labels(script) -> None:
    label = lambda hist, n: script.truth_label(hist, n).label  # noqa: E731
    assert label([100] * 8, 1000) == "covered"
    assert label([400, 400, 0, 0, 0, 0, 0, 0], 1000) == "collapsed"
    assert label([100] * 5 + [0] * 3, 1000) == "partial"
    assert label([20] * 8, 1000) == "off_modes"  # 16% of the samples on modes
    assert label([0] * 8, 1000) == "off_modes"
    # A mode needs a quarter of its fair share: 8 modes, 800 on-mode samples -> 25 each.
    truth = script.truth_label([24] + [776 // 7] * 7, 1000)
    assert (truth.held, truth.modes) == (7, 8)


def test_ground_truth_is_not_the_detectors_rule(script) -> None:
    # Three of eight modes on 40% of the samples: collapsed for the truth, while the
    # detectors' toy rule stays silent (it needs 50% on modes).
    truth = script.truth_label([134, 133, 133, 0, 0, 0, 0, 0], 1000)
    assert truth.label == "collapsed" and truth.on_modes < DEFAULT.toy_min_quality
    # Seven of eight modes with one sample each on the eighth: the detectors count it as
    # captured (>= 1 sample), the truth does not hold it.
    assert script.truth_label([140] * 7 + [1], 1000).held == 7
    assert DEFAULT.toy_modes_frac > script.COLLAPSED_BELOW  # a stricter collapse than theirs


def test_verdicts_by_epoch_rebuilds_reported_and_found_kinds(script) -> None:
    payloads = [
        {"kind": "warming_up", "epoch": 1, "step": 10, "since_step": None, "confidence": 0},
        {"kind": "mode_collapse", "epoch": 3, "step": 30, "since_step": 30, "confidence": 0.8},
        {
            "kind": "mode_collapse",
            "epoch": 5,
            "step": 50,
            "since_step": 30,
            "confidence": 0.8,
            "raw_kind": "healthy",
        },
    ]
    verdicts = script.verdicts_by_epoch(payloads, [1, 2, 3, 4, 5, 6])
    assert [v.kind for v in verdicts] == ["warming_up"] * 2 + ["mode_collapse"] * 4
    assert [v.found_kind for v in verdicts][-2:] == ["healthy", "healthy"]


def test_delay_from_onset_to_the_first_collapse_verdict(script) -> None:
    t = {label: script.Truth(label, 0.5, 1, 8) for label in script.TRUTH_LABELS}
    run = script.RunResult(script.CASES[0], 0, epochs=[1, 2, 3, 4, 5])
    run.truth = [t["off_modes"], t["partial"], t["collapsed"], t["collapsed"], t["collapsed"]]
    run.reported = ["warming_up", "mode_collapse", "warming_up", "warming_up", "mode_collapse"]
    assert (run.onset, run.delay) == (3, 2)  # an alarm before the onset does not count
    run.reported = ["warming_up"] * 5
    assert run.delay is None  # missed
    table = script.confusion([(x.label, k) for x, k in zip(run.truth, run.reported, strict=True)])
    assert script.agreement(table) == (0, 4)
