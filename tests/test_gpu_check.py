"""The prepared GPU check runs end to end on the CPU at toy sizes (``--dry-run``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_dry_run_writes_every_step(tmp_path, mnist_dir, trained_classifier) -> None:
    out = tmp_path / "check"
    env = {
        **os.environ,
        "GANWATCH_CACHE_DIR": str(trained_classifier.cache_root),
        "OMP_NUM_THREADS": "2",
    }
    done = subprocess.run(
        [
            "bash",
            str(ROOT / "benchmarks" / "gpu_check.sh"),
            "--dry-run",
            "--out",
            str(out),
            "--data-dir",
            str(mnist_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = (out / "summary.md").read_text()
    for step in ("speed-fp32", "monitor", "overhead", "reproduce-stable"):
        assert f"| {step} | exit 0," in summary, summary
    assert "RESULT ratio ganwatch/article" in (out / "speed-fp32.txt").read_text()
    assert (out / "reproduce-stable" / "report.md").is_file()
    assert bash_refuses_unknown_options(tmp_path)


def bash_refuses_unknown_options(tmp_path) -> bool:
    done = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "gpu_check.sh"), "--fast"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode == 2 and "unknown option --fast" in done.stderr
