"""When a run stops on its verdict: one rule for the Monitor, the trainer, torchrun's other
ranks and a Ray sweep's trials, checked once.

A reported verdict (never an unconfirmed one, see ``diagnose.steady_verdict``) stops a run
when its kind is named, it is said with at least ``min_confidence`` (a confidence is capped
by the verdict's track record), and the run has trained at least ``min_epochs`` epochs: a
healthy GAN's first epochs are far from the data too, so a grace period lets it learn
before its verdict can end it (Ray Tune's schedulers call this a grace period).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ganwatch.catalog import FAILURE_KINDS
from ganwatch.diagnose.verdict import Verdict

#: What each value of a stop rule must be, in the words every error about it uses.
STOP_RULE_EXPECTS = {
    "verdicts": f"verdicts among {', '.join(FAILURE_KINDS)}",
    "min_epochs": "an integer >= 1",
    "min_confidence": "a confidence in [0, 1]",
}
#: The config key of each value (its ``ganwatch train`` flag is ``--`` and the key with
#: dashes; a Monitor's errors name the flag too).
STOP_RULE_KEYS = {
    "verdicts": "stop_on",
    "min_epochs": "stop_min_epochs",
    "min_confidence": "stop_confidence",
}


def stop_rule_problems(verdicts: Iterable[Any], min_epochs: Any, min_confidence: Any) -> list[str]:
    """The values of a stop rule that are bad (keys of ``STOP_RULE_EXPECTS``): one check for
    the train flags, a Monitor's arguments and a sweep file's ``stop:``, each of which names
    the value its own way. ``min_epochs`` may be any integer (numpy's too), not a bool or a
    float; ``min_confidence`` any real number in [0, 1], not a bool."""
    bad = []
    if not all(kind in FAILURE_KINDS for kind in verdicts):
        bad.append("verdicts")
    try:
        epochs = operator.index(min_epochs)
    except TypeError:
        epochs = None
    if epochs is None or isinstance(min_epochs, bool) or epochs < 1:
        bad.append("min_epochs")
    number = isinstance(min_confidence, int | float) and not isinstance(min_confidence, bool)
    if not number or not 0 <= min_confidence <= 1:
        bad.append("min_confidence")
    return bad


@dataclass(frozen=True, kw_only=True)
class StopRule:
    """Stop on a reported verdict of ``verdicts``, said with at least ``min_confidence``,
    from epoch ``min_epochs`` on. Bad values raise ValueError naming the train flag."""

    verdicts: tuple[str, ...] = ()
    min_epochs: int = 1
    min_confidence: float = 0.0

    def __post_init__(self) -> None:
        problems = stop_rule_problems(self.verdicts, self.min_epochs, self.min_confidence)
        if problems:
            name = problems[0]
            flag = STOP_RULE_KEYS[name].replace("_", "-")
            raise ValueError(
                f"--{flag}: expected {STOP_RULE_EXPECTS[name]}, got {getattr(self, name)!r}"
            )
        object.__setattr__(self, "min_epochs", operator.index(self.min_epochs))

    def stops(self, verdict: Verdict | None) -> bool:
        """Whether a run stops on this reported verdict (None: no verdict yet)."""
        return verdict is not None and self.stops_at(
            verdict.kind, verdict.confidence, verdict.epoch
        )

    def stops_at(self, kind: str, confidence: float, epoch: int) -> bool:
        """The rule on a verdict's kind, confidence and epoch (as a Ray trial reports them)."""
        return (
            kind in self.verdicts and confidence >= self.min_confidence and epoch >= self.min_epochs
        )


def stop_rule(
    stop_on: Iterable[str] = (),
    stop_confidence: float = 0.0,
    stop_min_epochs: int = 1,
    **_monitor_options: Any,
) -> StopRule:
    """The rule from a Monitor's keyword arguments (``ganwatch train``'s ``--stop-on``,
    ``--stop-confidence`` and ``--stop-min-epochs``); its other options are not the rule's."""
    return StopRule(
        verdicts=tuple(stop_on), min_epochs=stop_min_epochs, min_confidence=stop_confidence
    )
