"""What other rules for *when the reported verdict may change* would have given on the verdict
corpus. A check for the hysteresis of ``ganwatch.diagnose.steady`` (``verdict_hold``).

Each run of a built corpus (``ganwatch validate build``) is replayed with the current
detectors; the kinds they found at each evaluation are then steadied by each rule below, and
the result is scored against the judge as the report scores it (``validation.score``), with
two more columns: how often the reported kind changed, and how often it went back to the kind
it had two evaluations before (a flap: A, B, A). The hold exists to keep that column at 0.

    python scripts/hold_rules.py --out CORPUS [--split calibration|held-out|all]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from ganwatch.diagnose.steady import CLEARING_KINDS, OPEN_KINDS, reported_kind, reported_kinds
from ganwatch.diagnose.thresholds import DEFAULT
from ganwatch.validation.report import half, paired, replay_runs
from ganwatch.validation.runner import read_corpus
from ganwatch.validation.score import Scored, summarise

Rule = Callable[[Sequence[str], Sequence[bool]], list[str]]
#: Failures one can move between at once under the "no wait between failures" rule.
BETWEEN = ("mode_collapse", "convergence_failure")


#: The kinds never held before the morning of 2026-12-01, when a collapse was held too.
OPEN_BEFORE = ("warming_up",)


def _steadied(
    found: Sequence[str],
    firm: Sequence[bool],
    skip_wait: Callable[[str | None, str], bool],
    open_kinds: Sequence[str] = OPEN_KINDS,
    clearing_kinds: Sequence[str] = CLEARING_KINDS,
) -> list[str]:
    """``found`` steadied by ganwatch's rule (with ``open_kinds`` never held, the
    ``clearing_kinds`` never held off and the ``firm`` findings reported at once), except that
    a change for which ``skip_wait`` (previous reported kind, newly found kind) holds is
    reported at once too."""
    out: list[str] = []
    hold = DEFAULT.verdict_hold
    for i, new in enumerate(found):
        previous = out[-1] if out else None
        if skip_wait(previous, new):
            out.append(new)
        else:
            steadied = reported_kind(
                previous, found[: i + 1], hold, open_kinds, firm[i], clearing_kinds
            )
            out.append(steadied)
    return out


def _divergence_only(found: Sequence[str]) -> list[bool]:
    """The firm flags of the rule before 2026-12-01's afternoon: divergence alone."""
    return [kind == "divergence" for kind in found]


#: ganwatch's rule, named in the table; the test of this script finds its row by the name.
GANWATCH = (
    f"ganwatch (wait {DEFAULT.verdict_hold}; a collapse gives way at once; "
    "a collapse on the modes is firm; healthy neither held nor held off)"
)
#: The kinds never held before the evening of 2026-12-01, when a healthy verdict was held too.
OPEN_BEFORE_HEALTHY = ("warming_up", "mode_collapse")
RULES: dict[str, Rule] = {
    GANWATCH: lambda found, firm: reported_kinds(found, firm=firm),
    "the same, healthy held and held off (before 2026-12-01's evening)": (
        lambda found, firm: reported_kinds(
            found, open_kinds=OPEN_BEFORE_HEALTHY, firm=firm, clearing_kinds=()
        )
    ),
    "the same, healthy held but never held off": (
        lambda found, firm: reported_kinds(found, open_kinds=OPEN_BEFORE_HEALTHY, firm=firm)
    ),
    f"wait {DEFAULT.verdict_hold}; a collapse gives way at once (before: only divergence firm)": (
        lambda found, firm: reported_kinds(
            found,
            open_kinds=OPEN_BEFORE_HEALTHY,
            firm=_divergence_only(found),
            clearing_kinds=(),
        )
    ),
    f"wait {DEFAULT.verdict_hold}, collapse -> convergence failure at once (older)": (
        lambda found, firm: _steadied(
            found,
            _divergence_only(found),
            lambda previous, new: (previous, new) == ("mode_collapse", "convergence_failure"),
            OPEN_BEFORE,
            (),
        )
    ),
    f"wait {DEFAULT.verdict_hold} for every change": lambda found, firm: reported_kinds(
        found, open_kinds=OPEN_BEFORE, firm=_divergence_only(found), clearing_kinds=()
    ),
    "no wait between failures": lambda found, firm: _steadied(
        found, firm, lambda previous, new: previous in BETWEEN and new in BETWEEN
    ),
    "any failure -> warming up at once": lambda found, firm: _steadied(
        found, firm, lambda previous, new: previous in BETWEEN and new == "warming_up"
    ),
    "no wait at all": lambda found, firm: list(found),
}


def changes(kinds: Sequence[str]) -> tuple[int, int]:
    """(changes of kind, flaps: a kind back two evaluations after it was left)."""
    changed = sum(a != b for a, b in zip(kinds, kinds[1:], strict=False))
    flaps = sum(a == c != b for a, b, c in zip(kinds, kinds[1:], kinds[2:], strict=False))
    return changed, flaps


def hold_table(out: Path, split: str) -> str:
    """One markdown row per rule of ``RULES`` on one half of the corpus in ``out`` (``all``:
    both, for a corpus built only to check, such as other seeds)."""
    runs = read_corpus(out)
    replayed = replay_runs(out, runs if split == "all" else half(runs, split), DEFAULT)
    scored = paired(replayed)
    found = {run.name: [v.found_kind for v in verdicts] for run, verdicts in replayed}
    # A firm finding is never held, and a held verdict is never firm, so the reported verdict
    # says whether the evaluation's finding was firm.
    firm = {run.name: [v.firm for v in verdicts] for run, verdicts in replayed}
    rows = [
        f"{split} ({len(scored)} runs)",
        "",
        "| rule | evaluations agree | runs right at the end | false alarms | "
        "median (max) delay | changes of kind | flaps (A, B, A) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rule in RULES.items():
        steadied = [
            Scored(s.name, s.recipe, s.truths, rule(found[s.name], firm[s.name])) for s in scored
        ]
        summary = summarise(steadied)
        changed = [changes(run.reported) for run in steadied]
        worst = str(max(summary.delays)) if summary.delays else "-"
        rows.append(
            f"| {name} | {summary.agree} of {summary.decisive} | {summary.runs_agree} of "
            f"{summary.runs_scored} | {summary.false_alarms} | {summary.median_delay:g} "
            f"({worst}) | {sum(c for c, _ in changed)} | {sum(f for _, f in changed)} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a built verdict corpus")
    splits = ("calibration", "held-out", "all")
    parser.add_argument("--split", default="calibration", choices=splits)
    args = parser.parse_args()
    print(hold_table(args.out, args.split))


if __name__ == "__main__":
    main()
