"""The corpus builder, the replay of its runs, the scoring and the report, on a tiny corpus."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import numpy as np
import pytest

from ganwatch.diagnose import DEFAULT, Verdict
from ganwatch.diagnose.confidence import CALIBRATED_KINDS, HELD, parse_track_record
from ganwatch.diagnose.replay import replay_run
from ganwatch.store import RunStore
from ganwatch.validation.command import validate
from ganwatch.validation.corpus import (
    CALIBRATION,
    HELD_OUT,
    RECIPES,
    SEEDS,
    Recipe,
    split_of,
)
from ganwatch.validation.judge import RIGHT_VERDICTS, Truth
from ganwatch.validation.rejudge import rejudge_corpus
from ganwatch.validation.report import brier_score, replay_runs, report, score_runs, write_into
from ganwatch.validation.runner import (
    CORPUS_FILE,
    CorpusRun,
    build_corpus,
    read_corpus,
    snapshot_path,
)
from ganwatch.validation.score import Scored, summarise
from ganwatch.validation.track_record import measure, tally_verdicts
from ganwatch.validation.tune import changed, tune

TINY = (
    Recipe(
        "ring-tiny",
        "healthy",
        {
            "dataset": "ring",
            "latent_dim": 2,
            "batch_size": 128,
            "train_size": 2048,
            "epochs": 3,
            "lr": 1e-3,
        },
    ),
    Recipe(
        "ring-tiny-nan",
        "divergence",
        {
            "dataset": "ring",
            "latent_dim": 2,
            "batch_size": 128,
            "train_size": 2048,
            "epochs": 3,
            "loss": "lsgan",
            "lr": 1.0,
        },
    ),
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    import torch

    out = tmp_path_factory.mktemp("corpus")
    threads = torch.get_num_threads()
    runs = build_corpus(out, TINY, (0, 14))
    # Each run trains on one thread; in-process (jobs=1) the caller's setting comes back, or
    # every later computation would round differently.
    assert torch.get_num_threads() == threads
    return out, runs


def test_every_recipe_builds_and_seeds_split_in_halves() -> None:
    from ganwatch.config import build_config

    for recipe in RECIPES:
        build_config(recipe.config(0))  # every recipe is a valid configuration
    halves = [split_of(s) for s in SEEDS]
    assert halves.count(CALIBRATION) == 12 and halves.count(HELD_OUT) == 4
    assert [s for s in SEEDS if split_of(s) == HELD_OUT] == [14, 15, 16, 17]
    # Seeds read while a rule was chosen calibrate: 6 and 7 (a fresh check), 1 and 3 (held
    # out until the morning of 2026-12-01), 4, 5, 8 and 9 (held out until that afternoon),
    # 10-13 (held out until that evening).
    assert {split_of(s) for s in (1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)} == {CALIBRATION}
    assert len(RECIPES) * 4 >= 60  # the held-out half alone has at least 60 runs


def test_the_build_judges_every_epoch_and_resumes(corpus) -> None:
    out, runs = corpus
    assert sorted((r.recipe, r.seed, r.split) for r in runs) == [
        ("ring-tiny", 0, CALIBRATION),
        ("ring-tiny", 14, HELD_OUT),
        ("ring-tiny-nan", 0, CALIBRATION),
        ("ring-tiny-nan", 14, HELD_OUT),
    ]
    healthy = next(r for r in runs if r.recipe == "ring-tiny")
    assert healthy.status == "finished" and sorted(healthy.truths) == [1, 2, 3]
    nan = next(r for r in runs if r.recipe == "ring-tiny-nan")
    assert nan.status == "diverged" and nan.truths[max(nan.truths)].label == "divergence"
    lines = (out / CORPUS_FILE).read_text().splitlines()
    assert build_corpus(out, TINY, (0, 14))
    assert (out / CORPUS_FILE).read_text().splitlines() == lines
    assert read_corpus(out)[0].truths == runs[0].truths  # what was written reads back


def test_the_build_keeps_each_judged_generator_and_a_rejudge_reads_them(
    corpus, tmp_path, monkeypatch
) -> None:
    import shutil

    from ganwatch.validation import judge

    source, runs = corpus
    healthy = next(r for r in runs if r.recipe == "ring-tiny" and r.seed == 0)
    for run in runs:  # every judged epoch; a divergence is the loss's, not a generator's
        judged = [e for e, t in run.truths.items() if t.label != "divergence"]
        assert all(snapshot_path(source, run.recipe, run.seed, e).is_file() for e in judged)
    assert len(healthy.truths) == 3
    out = tmp_path / "corpus"
    shutil.copytree(source, out)
    # The same judge on the same generators: the same truths, byte for byte.
    before = (out / CORPUS_FILE).read_text()
    done = rejudge_corpus(out)
    assert (done.judged, done.kept, done.changed_labels) == (4, 0, 0)
    assert (out / CORPUS_FILE).read_text() == before
    # With changed rules, a run whose generators are kept is measured again; one built
    # before generators were kept keeps its numbers and is only labelled again from them.
    shutil.rmtree(snapshot_path(out, healthy.recipe, 14, 1).parent)
    assert {t.label for t in healthy.truths.values()} == {"convergence_failure"}
    monkeypatch.setattr(judge, "FAILED_BELOW", -1.0)  # no bar to pass: none fails it
    measured = []

    def counted_point_truth(samples, dataset):
        measured.append(len(samples))
        return judge.truth_of_counts(np.full(8, 10), 80, 100)  # 80% on modes, all held

    monkeypatch.setattr(judge, "point_truth", counted_point_truth)
    done = rejudge_corpus(out)
    assert (done.judged, done.kept) == (3, 1) and done.changed_labels > 0
    assert measured == [judge.JUDGE_SAMPLES] * 3  # ring-tiny seed 0's three epochs
    again = {(r.recipe, r.seed): r for r in read_corpus(out)}
    old = {(r.recipe, r.seed): r for r in runs}
    kept, kept_before = again[(healthy.recipe, 14)].truths, old[(healthy.recipe, 14)].truths
    assert [t.quality for t in kept.values()] == [t.quality for t in kept_before.values()]
    assert "convergence_failure" not in {t.label for t in kept.values()}
    remeasured = again[(healthy.recipe, 0)].truths
    assert {(t.label, t.quality) for t in remeasured.values()} == {("healthy", 0.8)}
    nan = again[("ring-tiny-nan", 0)]  # its last truth (the divergence) has no generator
    assert nan.truths[max(nan.truths)].label == "divergence"


def test_a_replay_gives_the_verdicts_the_monitor_recorded(corpus) -> None:
    out, runs = corpus
    with RunStore(out / "store", read_only=True) as store:
        for run in runs:
            replayed = replay_run(store, run.run_id)
            stored = [Verdict.from_dict(e["payload"]) for e in store.events(run.run_id, "verdict")]
            by_epoch = {v.epoch: v for v in stored}
            last = None
            for verdict in replayed:
                last = by_epoch.get(verdict.epoch, last)  # events are stored on changes only
                assert (verdict.kind, verdict.found_kind) == (last.kind, last.found_kind)


def test_scoring_by_hand() -> None:
    runs = [
        Scored(
            "a",
            "r",
            ["healthy", "healthy", "mode_collapse", "mode_collapse"],
            ["warming_up", "healthy", "healthy", "mode_collapse"],
        ),
        Scored(
            "b",
            "r",
            ["healthy", "undecided", "convergence_failure"],
            ["mode_collapse", "convergence_failure", "convergence_failure"],
        ),
    ]
    summary = summarise(runs)
    assert (summary.decisive, summary.agree) == (6, 3)
    assert (summary.false_alarms, summary.healthy_evaluations) == (1, 3)
    assert (summary.runs_scored, summary.runs_agree) == (2, 2)
    assert summary.delays == [1, 0] and summary.missed == 0  # collapse from 3rd, seen at 4th
    assert summary.confusion[("healthy", "mode_collapse")] == 1


def test_a_mixed_failure_accepts_either_failure_verdict_and_no_other() -> None:
    run = Scored(
        "m",
        "r",
        ["mixed_failure", "mixed_failure", "mixed_failure", "mixed_failure"],
        ["warming_up", "convergence_failure", "mode_collapse", "healthy"],
    )
    summary = summarise([run])
    assert (summary.decisive, summary.agree) == (4, 2)
    assert summary.delays == [1] and summary.runs_agree == 0  # healthy at the end is wrong
    assert summary.false_alarms == 0  # a failure verdict on a failure is no false alarm


def test_report_and_tuning_read_the_corpus(corpus, tmp_path) -> None:
    out, runs = corpus
    text = report(out, command="ganwatch validate report --out X")
    assert "ganwatch validate report --out X" in text
    assert "| verdict at the end agrees with the truth |" in text
    assert "| ring-tiny-nan | divergence | 1 |" in text
    assert "No held-out run" not in text
    held = summarise(score_runs(out, [r for r in runs if r.split == HELD_OUT], DEFAULT))
    assert f"| 14 | {held.runs_agree} of {held.runs_scored} | {held.agree} of " in text
    # A corpus of calibration runs alone says that no figure is held out.
    alone = tmp_path / "calibration-only"
    shutil.copytree(out, alone)
    kept = [line for line in (alone / CORPUS_FILE).read_text().splitlines() if '"seed": 0' in line]
    (alone / CORPUS_FILE).write_text("\n".join(kept) + "\n")
    assert "No held-out run" in report(alone) and "--seeds 14,15,16,17" in report(alone)
    doc = tmp_path / "doc.md"
    doc.write_text("before\n<!-- validation:start -->\nold\n<!-- validation:end -->\nafter\n")
    write_into(doc, "new")
    assert (
        doc.read_text()
        == "before\n<!-- validation:start -->\nnew\n<!-- validation:end -->\nafter\n"
    )
    assert "#### Confidence: each verdict's track record" in text
    calibration = [r for r in runs if r.split == CALIBRATION]
    seen = Counter()

    def score(thresholds):
        seen["calls"] += 1
        return summarise(score_runs(out, calibration, thresholds))

    # The start is scored once and its own value is not tried again: two calls.
    search = {"realism_low": (DEFAULT.realism_low, 0.3)}
    best, summary = tune(score, search=search, passes=1, say=lambda _: None)
    assert seen["calls"] == 2 and summary.runs == 2
    assert set(changed(best)) <= {"realism_low"}


def test_a_rejudge_of_digits_draws_the_samples_the_build_judged(
    real_mnist_dir, tmp_path, monkeypatch
) -> None:
    from ganwatch.validation import judge

    # The MLP generator has batch norm: sampled in another mode than the trainer's, or from
    # other noise, the samples differ (measured: the truths' quality moved by up to 0.5%).
    # A stand-in truth that any changed sample moves makes that visible on a tiny run.
    def mean_pixel(samples, _judge):
        return judge.Truth("undecided", float(samples.double().mean()), 0, 10, 0.0)

    monkeypatch.setattr(judge, "image_truth", mean_pixel)
    digits = Recipe(
        "mnist-tiny",
        "healthy",
        {
            "dataset": "mnist",
            "model": "mlp",
            "latent_dim": 16,
            "batch_size": 64,
            "train_size": 256,
            "epochs": 2,
            "lr": 1e-3,
            "metrics": False,
        },
    )
    runs = build_corpus(tmp_path, (digits,), (0,), data_dir=str(real_mnist_dir))
    assert sorted(runs[0].truths) == [1, 2]
    before = (tmp_path / CORPUS_FILE).read_text()
    done = rejudge_corpus(tmp_path, data_dir=str(real_mnist_dir))
    assert (done.judged, done.changed_labels) == (1, 0)
    assert (tmp_path / CORPUS_FILE).read_text() == before


def test_the_track_record_counts_each_verdict_against_its_truth(corpus, tmp_path) -> None:
    out, runs = corpus
    expected: Counter = Counter()
    with RunStore(out / "store", read_only=True) as store:
        for run in runs:
            for family, metrics in (("points", True), ("losses", False)):
                for verdict in replay_run(store, run.run_id, metrics=metrics):
                    truth = run.truths.get(verdict.epoch)
                    if verdict.kind in CALIBRATED_KINDS and truth and truth.label != "undecided":
                        right = verdict.kind in RIGHT_VERDICTS[truth.label]
                        group = family if verdict.raw_kind is None else HELD
                        expected[(group, verdict.kind)] += 1
                        expected[(group, verdict.kind, "right")] += right
    measured = measure(out, replay_runs(out, runs, DEFAULT))
    assert measured, "the tiny corpus gave no scored verdict"
    assert {key: (r.right, r.total) for key, r in measured.items()} == {
        key: (expected[(*key, "right")], expected[key]) for key in expected if len(key) == 2
    }
    # the command writes what diagnose reads, for the calibration half only
    record = tmp_path / "record.json"
    assert validate("calibrate", str(out), record=str(record)) == 0
    calibration = [r for r in runs if r.split == CALIBRATION]
    assert parse_track_record(json.loads(record.read_text())) == measure(
        out, replay_runs(out, calibration, DEFAULT)
    )


def test_the_stop_rule_table_replays_each_rule_on_the_corpus(corpus) -> None:
    """scripts/stop_rules.py on the tiny corpus, each half: the ring run ends in a failure
    reported from its first epoch, so from epoch 1 it is stopped there and its 2 later
    evaluations are saved; the NaN run has one evaluation, so no stop comes before its end;
    a grace longer than every run stops nothing."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "stop_rules.py"
    spec = importlib.util.spec_from_file_location("stop_rules", path)
    stop_rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stop_rules)
    out, _ = corpus
    kinds = ("mode_collapse", "convergence_failure", "divergence")
    for split in (CALIBRATION, HELD_OUT):
        table = stop_rules.stop_table(out, split, kinds, [(1, 0.0), (99, 0.0)])
        assert table.splitlines()[-2:] == [
            "| 1 | 0 | 0 of 0 | 1 of 2 | 2 of 4 |",
            "| 99 | 0 | 0 of 0 | 0 of 2 | 0 of 4 |",
        ]


def test_a_held_verdict_counts_under_the_held_record_not_its_family() -> None:
    """What the tiny corpus may not show: a verdict kept against a newer finding is tallied
    under ``held``, one the detectors agree with under its family, each against its truth."""

    truths = {1: Truth("healthy", 0.9, 8, 8, 0.01), 2: Truth("mode_collapse", 0.8, 2, 8, 1.4)}
    truths[3] = truths[2]
    run = CorpusRun("ring", "converges", 0, 1, "finished", 1.0, truths)
    verdicts = [
        Verdict("healthy", 1, 100, 100, 0.9),
        Verdict("healthy", 2, 200, 100, 0.9, raw_kind="mode_collapse"),  # held, wrong
        Verdict("mode_collapse", 3, 300, 300, 0.9),
    ]
    counts: Counter = Counter()
    tally_verdicts(counts, run, verdicts, "points")
    assert counts == Counter(
        {
            ("points", "healthy", True): 1,
            (HELD, "healthy", False): 1,
            ("points", "mode_collapse", True): 1,
        }
    )


def test_the_hold_rule_table_scores_each_rule_like_the_report(corpus) -> None:
    """scripts/hold_rules.py on the tiny corpus: ganwatch's own rule scores as the report
    does, and 'no wait at all' reports what the detectors found; flaps are counted A, B, A."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "hold_rules.py"
    spec = importlib.util.spec_from_file_location("hold_rules", path)
    hold_rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hold_rules)
    assert hold_rules.changes(["a", "b", "a", "a", "c"]) == (3, 1)
    assert hold_rules.RULES["no wait at all"](["a", "b"], [False, False]) == ["a", "b"]

    def rule(name: str):  # a rule of the table, with no firm finding unless told
        return lambda found, firm=(): hold_rules.RULES[name](found, firm or [False] * len(found))

    own, before = rule(hold_rules.GANWATCH), rule("wait 2 for every change")
    between = rule("no wait between failures")
    not_firm = rule("wait 2; a collapse gives way at once (before: only divergence firm)")
    to_failure = ["warming_up", "mode_collapse", "convergence_failure"]
    assert between(to_failure)[-1] == own(to_failure)[-1] == "convergence_failure"  # at once
    assert before(to_failure)[-1] == "mode_collapse"  # held
    to_collapse = ["warming_up", "convergence_failure", "mode_collapse"]
    assert between(to_collapse)[-1] == "mode_collapse"
    assert own(to_collapse)[-1] == before(to_collapse)[-1] == "convergence_failure"
    # a firm collapse (on the modes) is reported at once by ganwatch's rule, not the one before
    firm = [False, False, True]
    assert own(to_collapse, firm)[-1] == "mode_collapse"
    assert not_firm(to_collapse, firm)[-1] == "convergence_failure"
    calming = ["warming_up", "mode_collapse", "warming_up"]
    assert own(calming)[-1] == "warming_up" and before(calming)[-1] == "mode_collapse"
    # healthy is neither held nor held off by ganwatch's rule; the rule before held both
    held_healthy = rule("the same, healthy held and held off (before 2026-12-01's evening)")
    for kinds in (["healthy", "convergence_failure"], ["convergence_failure", "healthy"]):
        assert own(["warming_up", *kinds])[-1] == kinds[1]
        assert held_healthy(["warming_up", *kinds])[-1] == kinds[0]
    out, _ = corpus
    summary = summarise(score_runs(out, read_corpus(out), DEFAULT))
    own = next(
        line
        for line in hold_rules.hold_table(out, "all").splitlines()
        if hold_rules.GANWATCH in line
    )
    cells = [cell.strip() for cell in own.strip("|").split("|")]
    assert cells[1:4] == [
        f"{summary.agree} of {summary.decisive}",
        f"{summary.runs_agree} of {summary.runs_scored}",
        str(summary.false_alarms),
    ]


def test_the_brier_score_by_hand() -> None:
    """Right at 0.9 and wrong at 0.6 score ((0.9 - 1)^2 + 0.6^2) / 2 = 0.185; a warming_up
    and an undecided truth are not scored."""

    healthy = Truth("healthy", 0.9, 8, 8, 0.01)
    truths = {1: healthy, 2: healthy, 3: healthy, 4: Truth("undecided", 0.45, 8, 8, 0.2)}
    run = CorpusRun("ring", "converges", 0, 1, "finished", 1.0, truths)
    verdicts = [
        Verdict("healthy", 1, 100, 100, 0.9),
        Verdict("mode_collapse", 2, 200, 200, 0.6),
        Verdict("warming_up", 3, 300, None, 0.0),
        Verdict("healthy", 4, 400, 100, 0.2),
    ]
    score, scored = brier_score([(run, verdicts)])
    assert scored == 2
    assert score == pytest.approx(0.185, abs=1e-12)
