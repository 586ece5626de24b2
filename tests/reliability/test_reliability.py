"""The reliability checks at CI size (their full-size figures are in docs/reliability.md)."""

from __future__ import annotations

import pytest
from dashboard_load import dashboard_load
from harness import RING, concurrent_writers, fuzz, kill_and_resume

from ganwatch.cli import main


@pytest.mark.slow
def test_kill_minus_9_at_random_moments_loses_no_committed_epoch(tmp_path) -> None:
    figures = kill_and_resume(tmp_path, kills=3, epochs=40, seed=0)
    assert figures.kills == 3 and figures.status == "finished"
    assert figures.lost_epochs == 0 and figures.duplicate_verdicts == 0
    assert figures.steps_recorded == figures.steps_expected


def test_eight_concurrent_writers_lose_no_row(tmp_path) -> None:
    figures = concurrent_writers(tmp_path, writers=8, rows=400)
    assert figures.rows_read == figures.rows_written == 8 * 400
    assert figures.events_read == figures.events_written


def test_two_hundred_corrupt_files_are_refused_cleanly(tmp_path) -> None:
    figures = fuzz(tmp_path, count=210)
    assert figures.files == 210
    assert figures.exit_2 == figures.files
    assert figures.named_the_file == figures.files
    assert figures.tracebacks == 0 and figures.runs_created == 0


def test_the_dashboard_answers_a_burst_and_never_a_smuggled_request(tmp_path, capsys) -> None:
    assert main(["train", *RING, "--epochs", "1", "--store", str(tmp_path)]) == 0
    figures = dashboard_load(tmp_path, requests=200, concurrency=100)
    assert figures.failures == 0
    assert figures.smuggled_answered == 0
