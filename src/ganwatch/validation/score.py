"""How well the reported verdicts agree with the judge's truth: per evaluation, per run, and
how long after a failure began it was reported.

Scored evaluations are the *decisive* ones (the truth is not ``undecided``); a verdict agrees
with a truth when the judge accepts it (``judge.RIGHT_VERDICTS``: either failure for a
``mixed_failure``). A false alarm is a failure verdict (mode collapse, convergence failure,
divergence) on an evaluation whose truth is healthy. A failure's onset is the first
evaluation of a stretch of at least two with the same failure truth; its delay is the number
of evaluations until a verdict it accepts is first reported (a stretch it never reaches
counts as missed).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ganwatch.catalog import FAILURE_KINDS, VERDICT_KINDS
from ganwatch.validation.judge import LABELS, RIGHT_VERDICTS

if TYPE_CHECKING:
    from ganwatch.diagnose.verdict import Verdict
    from ganwatch.validation.runner import CorpusRun

FAILURE_TRUTHS = (*FAILURE_KINDS, "mixed_failure")
#: A failure must hold this many evaluations in a row to have an onset (one is noise).
ONSET_RUN = 2


def decisive_verdicts(
    run: CorpusRun, verdicts: Iterable[Verdict]
) -> Iterator[tuple[Verdict, bool]]:
    """Each of ``run``'s verdicts at an evaluation the judge decided, and whether the judge
    accepts it: the one rule the track record, the Brier score and the count of confident
    mistakes score by (``summarise`` applies the same ``RIGHT_VERDICTS`` to kinds)."""
    for verdict in verdicts:
        truth = run.truths.get(verdict.epoch)
        if truth is not None and truth.label != "undecided":
            yield verdict, verdict.kind in RIGHT_VERDICTS[truth.label]


@dataclass
class Scored:
    """One run's truth and reported kind per evaluation, oldest first."""

    name: str
    recipe: str
    truths: list[str]
    reported: list[str]

    @property
    def end(self) -> tuple[str, str]:
        """(truth, reported) at the run's last evaluation."""
        return self.truths[-1], self.reported[-1]

    def delays(self) -> tuple[list[int], int]:
        """(delays of the failures reported, failures never reported)."""
        delays, missed = [], 0
        i = 0
        while i < len(self.truths):
            kind = self.truths[i]
            j = i
            while j < len(self.truths) and self.truths[j] == kind:
                j += 1
            if kind in FAILURE_TRUTHS and j - i >= min(ONSET_RUN, len(self.truths) - i):
                right = RIGHT_VERDICTS[kind]
                hit = next(
                    (k for k in range(i, len(self.truths)) if self.reported[k] in right), None
                )
                if hit is None:
                    missed += 1
                else:
                    delays.append(hit - i)
            i = j
        return delays, missed


@dataclass
class Summary:
    """What the report shows of a set of scored runs."""

    runs: int = 0
    evaluations: int = 0
    decisive: int = 0
    agree: int = 0
    false_alarms: int = 0
    healthy_evaluations: int = 0
    runs_scored: int = 0
    runs_agree: int = 0
    delays: list[int] = field(default_factory=list)
    missed: int = 0
    confusion: Counter = field(default_factory=Counter)  # (truth, reported) -> evaluations
    run_confusion: Counter = field(default_factory=Counter)  # (truth, reported) at the end

    @property
    def agreement(self) -> float:
        return self.agree / self.decisive if self.decisive else float("nan")

    @property
    def run_agreement(self) -> float:
        return self.runs_agree / self.runs_scored if self.runs_scored else float("nan")

    @property
    def median_delay(self) -> float:
        return float(statistics.median(self.delays)) if self.delays else float("nan")


def summarise(runs: Iterable[Scored]) -> Summary:
    out = Summary()
    for run in runs:
        out.runs += 1
        for truth, reported in zip(run.truths, run.reported, strict=True):
            out.evaluations += 1
            out.confusion[(truth, reported)] += 1
            if truth == "healthy":
                out.healthy_evaluations += 1
                out.false_alarms += reported in FAILURE_KINDS
            if truth != "undecided":
                out.decisive += 1
                out.agree += reported in RIGHT_VERDICTS[truth]
        truth, reported = run.end
        out.run_confusion[(truth, reported)] += 1
        if truth != "undecided":
            out.runs_scored += 1
            out.runs_agree += reported in RIGHT_VERDICTS[truth]
        delays, missed = run.delays()
        out.delays += delays
        out.missed += missed
    return out


def confusion_table(confusion: Counter, unit: str) -> str:
    """A Markdown confusion matrix: truth in rows, reported verdict in columns."""
    header = f"| truth \\ reported ({unit}) | " + " | ".join(VERDICT_KINDS) + " | total |"
    lines = [header, "|---" * (len(VERDICT_KINDS) + 2) + "|"]
    for truth in LABELS:
        row = [confusion.get((truth, kind), 0) for kind in VERDICT_KINDS]
        if sum(row):
            cells = " | ".join(
                f"**{n}**" if kind in RIGHT_VERDICTS[truth] else str(n)
                for n, kind in zip(row, VERDICT_KINDS, strict=True)
            )
            lines.append(f"| {truth} | {cells} | {sum(row)} |")
    return "\n".join(lines)


def per_recipe(runs: Sequence[Scored]) -> list[tuple[str, int, str, str]]:
    """(recipe, runs, truths at the end, verdicts at the end) for each recipe."""
    out = []
    for recipe in dict.fromkeys(run.recipe for run in runs):
        mine = [run for run in runs if run.recipe == recipe]
        ends = Counter(run.end[0] for run in mine)
        said = Counter(run.end[1] for run in mine)
        fmt = lambda c: ", ".join(f"{k} {n}" for k, n in c.most_common())  # noqa: E731
        out.append((recipe, len(mine), fmt(ends), fmt(said)))
    return out
