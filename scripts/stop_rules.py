"""What stopping on a verdict would have done to the verdict corpus's runs. A check for the
stop rule (``--stop-on``, ``--stop-confidence``, ``--stop-min-epochs``; ``StopRule``).

Each run of one half of a built corpus (``ganwatch validate build``) is replayed with the
current detectors, and every rule of a grid (grace period x minimum confidence) is applied
to its reported verdicts: a run that the judge calls healthy at its end but that the rule
stops earlier is a good run lost; a run that ends in a failure and is stopped saves the
evaluations after the stop. Prints a markdown table.

    GANWATCH_DATA_DIR=../shared/data/mnist python scripts/stop_rules.py --out CORPUS \\
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
    """One markdown row per rule of ``grid`` ((min_epochs, min_confidence) pairs)."""
    replayed = replay_runs(out, half(read_corpus(out), split), DEFAULT)
    ends = [(run.truths.get(vs[-1].epoch), vs) for run, vs in replayed]
    good = [vs for truth, vs in ends if truth is not None and truth.label == "healthy"]
    failed = [vs for truth, vs in ends if truth is not None and truth.label in FAILURE_TRUTHS]
    rows = [
        f"{split} half: {len(good)} runs end healthy, {len(failed)} end in a failure "
        f"(--stop-on {','.join(verdicts)})",
        "",
        "| --stop-min-epochs | --stop-confidence | runs ending healthy, stopped | "
        "runs ending failed, stopped | their evaluations saved |",
        "|---:|---:|---:|---:|---:|",
    ]
    for min_epochs, min_confidence in grid:
        rule = StopRule(verdicts=verdicts, min_epochs=min_epochs, min_confidence=min_confidence)

        def stopped_at(vs, rule=rule):
            return next((i for i, v in enumerate(vs) if rule.stops(v)), None)

        lost = sum(stopped_at(vs) is not None for vs in good)
        caught = [(vs, stopped_at(vs)) for vs in failed if stopped_at(vs) is not None]
        saved = sum(len(vs) - 1 - i for vs, i in caught)
        total = sum(len(vs) for vs in failed)
        rows.append(
            f"| {min_epochs} | {min_confidence:g} | {lost} of {len(good)} | "
            f"{len(caught)} of {len(failed)} | {saved} of {total} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a built verdict corpus")
    parser.add_argument("--split", default="held-out", choices=("calibration", "held-out"))
    parser.add_argument("--verdicts", default=",".join(k for k in FAILURE_KINDS))
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
