"""What stopping on a verdict would have done to the verdict corpus's runs. A check for the
stop rule (``--stop-on``, ``--stop-confidence``, ``--stop-min-epochs``; ``StopRule``).

Each run of one half of a built corpus (``ganwatch validate build``) is replayed with the
current detectors, and every rule of a grid (grace period x minimum confidence) is applied
to its reported verdicts: a run that the judge calls healthy at its end but that the rule
stops earlier is a good run lost; a run that ends in a failure and is stopped saves the
evaluations after the stop. Prints a markdown table.

    python scripts/stop_rules.py --out CORPUS \\
        [--split held-out] [--verdicts mode_collapse,convergence_failure,divergence] \\
        [--min-epochs 1,5,10] [--min-confidence 0,0.5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ganwatch.catalog.verdicts import FAILURE_KINDS
from ganwatch.diagnose.stopping import StopRule
from ganwatch.diagnose.thresholds import DEFAULT
from ganwatch.validation.report import half, replay_runs
from ganwatch.validation.runner import read_corpus
from ganwatch.validation.score import FAILURE_TRUTHS


def stop_table(
    out: Path, split: str, verdicts: tuple[str, ...], grid: list[tuple[int, float]]
) -> str:
    """One markdown row per rule of ``grid`` ((min_epochs, min_confidence) pairs). A failing
    run counts as stopped only before its last evaluation: a stop there saves nothing."""
    replayed = replay_runs(out, half(read_corpus(out), split), DEFAULT)
    ends = [(run.truths.get(vs[-1].epoch), vs) for run, vs in replayed]
    label = [(truth.label if truth is not None else "undecided", vs) for truth, vs in ends]
    good = [vs for end, vs in label if end == "healthy"]
    failed = [vs for end, vs in label if end in FAILURE_TRUTHS]
    undecided = len(label) - len(good) - len(failed)
    rows = [
        f"{split} half: {len(good)} runs end healthy, {len(failed)} in a failure, "
        f"{undecided} undecided (left out); --stop-on {','.join(verdicts)}",
        "",
        "| --stop-min-epochs | --stop-confidence | runs ending healthy, stopped | "
        "runs ending failed, stopped before their end | their evaluations saved |",
        "|---:|---:|---:|---:|---:|",
    ]
    for min_epochs, min_confidence in grid:
        rule = StopRule(verdicts=verdicts, min_epochs=min_epochs, min_confidence=min_confidence)
        lost = sum(_stopped_at(rule, vs) is not None for vs in good)
        early = [(vs, _stopped_at(rule, vs)) for vs in failed]
        early = [(vs, i) for vs, i in early if i is not None and i < len(vs) - 1]
        saved = sum(len(vs) - 1 - i for vs, i in early)
        total = sum(len(vs) for vs in failed)
        rows.append(
            f"| {min_epochs} | {min_confidence:g} | {lost} of {len(good)} | "
            f"{len(early)} of {len(failed)} | {saved} of {total} |"
        )
    return "\n".join(rows)


def _stopped_at(rule: StopRule, verdicts: list) -> int | None:
    """The index of the evaluation whose reported verdict stops the run (None: never)."""
    return next((i for i, v in enumerate(verdicts) if rule.stops(v)), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a built verdict corpus")
    parser.add_argument("--split", default="held-out", choices=("calibration", "held-out"))
    parser.add_argument("--verdicts", default=",".join(FAILURE_KINDS))
    parser.add_argument("--min-epochs", default="1,5,10")
    parser.add_argument("--min-confidence", default="0,0.5")
    args = parser.parse_args()
    verdicts = tuple(args.verdicts.split(","))
    grid = [
        (int(n), float(c))
        for n in args.min_epochs.split(",")
        for c in args.min_confidence.split(",")
    ]
    print(stop_table(args.out, args.split, verdicts, grid))


if __name__ == "__main__":
    main()
