"""``ganwatch validate``: build or re-judge the corpus, tune the thresholds, report the accuracy."""

from __future__ import annotations

import sys
from pathlib import Path

from ganwatch.validation.corpus import RECIPES, SEEDS, recipe


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def validate(
    action: str,
    out: str,
    *,
    jobs: int = 1,
    recipes: str | None = None,
    seeds: str | None = None,
    data_dir: str | None = None,
    write_docs: str | None = None,
    record: str | None = None,
) -> int:
    """Run one ``ganwatch validate`` action on the corpus in ``out``; the exit code."""
    if action == "build":
        from ganwatch.validation.runner import build_corpus

        chosen = [recipe(name) for name in _names(recipes) or [r.name for r in RECIPES]]
        try:
            seed_list = [int(s) for s in _names(seeds) or SEEDS]
        except ValueError:
            raise ValueError(f"--seeds: expected comma-separated integers, got {seeds!r}") from None
        runs = build_corpus(out, chosen, seed_list, jobs=jobs, data_dir=data_dir)
        print(f"corpus: {len(runs)} runs in {Path(out)}")
        return 0
    if action == "rejudge":
        from ganwatch.validation.rejudge import rejudge_corpus

        done = rejudge_corpus(out, data_dir=data_dir)
        print(
            f"corpus: {done.judged} runs judged again ({done.changed_labels} evaluations "
            f"changed label), {done.kept} labelled again from their numbers (built before "
            "generators were kept)"
        )
        return 0
    if action == "tune":
        from ganwatch.validation.corpus import CALIBRATION
        from ganwatch.validation.report import half, score_runs
        from ganwatch.validation.runner import read_corpus
        from ganwatch.validation.score import summarise
        from ganwatch.validation.tune import changed, tune

        calibration = half(read_corpus(Path(out)), CALIBRATION)
        if not calibration:
            raise ValueError(f"{out}: no calibration runs; build the corpus first")
        best, _ = tune(lambda t: summarise(score_runs(out, calibration, t)))
        print("tuned thresholds (put them into src/ganwatch/diagnose/thresholds.py):")
        for name, value in changed(best).items():
            print(f"  {name} = {value:g}")
        return 0
    if action == "calibrate":
        return _calibrate(out, record)
    from ganwatch.validation.report import report, write_into

    command = "ganwatch validate report --out " + str(out)
    section = report(out, command=command + (f" --write-docs {write_docs}" if write_docs else ""))
    if write_docs:
        write_into(Path(write_docs), section)
        print(f"wrote the validation section of {write_docs}", file=sys.stderr)
    else:
        print(section)
    return 0


def _calibrate(out: str, record: str | None) -> int:
    """Measure the track record on the calibration half and write it where ``diagnose``
    reads it (or into ``record``)."""
    from ganwatch.diagnose.confidence import TRACK_RECORD
    from ganwatch.diagnose.thresholds import DEFAULT
    from ganwatch.validation.corpus import CALIBRATION
    from ganwatch.validation.report import half, replay_runs
    from ganwatch.validation.runner import read_corpus
    from ganwatch.validation.track_record import measure, track_record_table, write_track_record

    calibration = half(read_corpus(Path(out)), CALIBRATION)
    if not calibration:
        raise ValueError(f"{out}: no calibration runs; build the corpus first")
    measured = measure(out, replay_runs(out, calibration, DEFAULT))
    path = Path(record) if record else TRACK_RECORD
    # The corpus's folder is this machine's; what made the record is the command and corpus.
    made_by = f"ganwatch validate calibrate --out CORPUS ({len(calibration)} calibration runs)"
    write_track_record(path, measured, made_by)
    print(track_record_table(measured))
    print(f"wrote the track record to {path}", file=sys.stderr)
    return 0
