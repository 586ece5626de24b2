"""One check of a stop rule's values, named each entry point's way: the train flags (a
config), a Monitor's arguments (StopRule) and a sweep file's ``stop:``."""

from __future__ import annotations

import numpy as np
import pytest

from ganwatch.config import ConfigError, build_config
from ganwatch.diagnose.stopping import StopRule, stop_rule_problems
from ganwatch.sweep.spec import load_sweep

BAD = [
    ("verdicts", ["nan"], 1, 0.0),
    ("min_epochs", ["divergence"], 0, 0.0),
    ("min_epochs", ["divergence"], True, 0.0),
    ("min_epochs", ["divergence"], 1.5, 0.0),
    ("min_confidence", ["divergence"], 1, 1.5),
    ("min_confidence", ["divergence"], 1, "sure"),
    ("min_confidence", ["divergence"], 1, True),
]


def test_good_values_have_no_problem() -> None:
    assert stop_rule_problems([], 1, 0) == []
    assert stop_rule_problems(["mode_collapse", "divergence"], np.int64(3), 0.5) == []
    assert StopRule(verdicts=("divergence",), min_epochs=np.int64(3)).min_epochs == 3


@pytest.mark.parametrize(("name", "verdicts", "min_epochs", "min_confidence"), BAD)
def test_each_entry_point_refuses_the_same_values(
    tmp_path, name, verdicts, min_epochs, min_confidence
) -> None:
    assert stop_rule_problems(verdicts, min_epochs, min_confidence) == [name]
    flag = {
        "verdicts": "--stop-on",
        "min_epochs": "--stop-min-epochs",
        "min_confidence": "--stop-confidence",
    }
    with pytest.raises(ValueError, match=f"^{flag[name]}: expected "):
        StopRule(verdicts=tuple(verdicts), min_epochs=min_epochs, min_confidence=min_confidence)
    values = {
        "stop_on": ",".join(verdicts),
        "stop_min_epochs": min_epochs,
        "stop_confidence": min_confidence,
    }
    with pytest.raises(ConfigError, match=f"^{flag[name]}: expected "):
        build_config(values)  # a bool is refused by the config's own type check
    sweep = tmp_path / "sweep.yaml"
    stop = f"{{verdicts: [{', '.join(verdicts)}], min_epochs: {min_epochs!r}, "
    stop += f"min_confidence: {min_confidence!r}}}"
    sweep.write_text(f"name: s\nbase: {{dataset: ring}}\ngrid: {{lr: [0.001]}}\nstop: {stop}\n")
    with pytest.raises(ConfigError, match=f"stop.{name}: expected "):
        load_sweep(sweep)
