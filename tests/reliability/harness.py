"""The reliability checks, measured: kills, concurrent writers, corrupt inputs, dashboard load.

The tests in this folder run each check at a size CI can afford and assert on its figures;
``python tests/reliability/harness.py --write-docs`` runs the same checks larger and writes
their figures to docs/reliability.md, so every number there comes from this file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gzip
import io
import multiprocessing
import os
import platform
import random
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from dashboard_load import dashboard_load

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
RING = [
    "--dataset",
    "ring",
    "--latent-dim",
    "2",
    "--train-size",
    "1024",
    "--batch-size",
    "64",
    "--device",
    "cpu",
    "--quiet",
    "--checkpoint-every",
    "1",
]


# -- kill -9 at random moments, then resume -------------------------------------------------
@dataclass
class KillFigures:
    kills: int
    resumes: int
    epochs: int
    steps_recorded: int
    steps_expected: int
    duplicate_verdicts: int
    lost_epochs: int
    status: str


def _ganwatch(*args: str) -> list[str]:
    return [sys.executable, "-m", "ganwatch", *args]


def kill_and_resume(store: Path, kills: int, epochs: int, seed: int = 0) -> KillFigures:
    """Train a ring run, ``kill -9`` it at ``kills`` seeded random moments (each time after
    it has made progress), resume it each time, then let it finish; count what was lost."""
    from ganwatch.store import RunStore

    rng = random.Random(seed)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = _ganwatch(
        "train", *RING, "--epochs", str(epochs), "--store", str(store), "--name", "killed"
    )
    done_kills = resumes = 0
    while True:
        before = _epochs_recorded(store)
        child = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        if done_kills < kills and _progressed(store, before, child):
            time.sleep(rng.uniform(0.0, 0.5))  # somewhere inside the next epoch or two
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                done_kills += 1
        child.wait()
        with RunStore(store) as opened:
            run = opened.list_runs()[0]
            status = opened.live_status(run) if run.status == "running" else run.status
        if status == "finished":
            break  # every kill that landed hit a training process; report how many did
        command = _ganwatch("resume", "killed", "--store", str(store), "--quiet")
        resumes += 1
    with RunStore(store) as opened:
        run = opened.list_runs()[0]
        steps = opened.step_metrics(run.id)["loss/g"][0].tolist()
        recorded = [int(e["epoch"]) for e in opened.epoch_metrics(run.id)]
        verdict_epochs = [e["payload"]["epoch"] for e in opened.events(run.id, "verdict")]
    per_epoch = len(steps) // epochs if epochs else 0
    return KillFigures(
        kills=done_kills,
        resumes=resumes,
        epochs=epochs,
        steps_recorded=len(steps),
        steps_expected=epochs * per_epoch,
        duplicate_verdicts=len(verdict_epochs) - len(set(verdict_epochs)),
        lost_epochs=len(set(range(1, epochs + 1)) - set(recorded)),
        status=run.status,
    )


def _epochs_recorded(store: Path) -> int:
    from ganwatch.store import RunStore
    from ganwatch.store.database import DB_NAME

    if not (store / DB_NAME).is_file():
        return 0
    try:
        opened = RunStore(store, read_only=True)
    except FileNotFoundError:  # the child has created the file but not yet its tables
        return 0
    with opened:
        runs = opened.list_runs()
        return len(opened.epoch_metrics(runs[0].id)) if runs else 0


def _progressed(store: Path, before: int, child: subprocess.Popen, limit: float = 60.0) -> bool:
    """Wait until the child has recorded an epoch beyond ``before`` (True) or has exited."""
    deadline = time.monotonic() + limit
    while child.poll() is None and time.monotonic() < deadline:
        if _epochs_recorded(store) > before:
            return True
        time.sleep(0.05)
    return False


# -- concurrent writers ------------------------------------------------------------------
def _writer(root: str, worker: int, rows: int, barrier) -> None:
    from ganwatch.store import RunStore

    with RunStore(root) as store:
        barrier.wait()
        run = store.create_run(f"writer-{worker}", {})
        for start in range(0, rows, 20):
            store.log_steps(run, [(s, {"loss/g": float(s)}) for s in range(start, start + 20)])
            store.log_event(run, "tick", {"at": start}, step=start)
        store.set_status(run, "finished")


@dataclass
class WriterFigures:
    writers: int
    rows_written: int
    rows_read: int
    events_written: int
    events_read: int


def concurrent_writers(root: Path, writers: int, rows: int) -> WriterFigures:
    """``writers`` processes write ``rows`` steps each (and an event per 20) at once."""
    from ganwatch.store import RunStore

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(writers)
    procs = [
        context.Process(target=_writer, args=(str(root), w, rows, barrier)) for w in range(writers)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=300)
    with RunStore(root) as store:
        runs = store.list_runs()
        rows_read = sum(store.step_count(run.id) for run in runs)
        events_read = sum(len(store.events(run.id, "tick")) for run in runs)
    return WriterFigures(writers, writers * rows, rows_read, writers * (rows // 20), events_read)


# -- corrupt inputs ----------------------------------------------------------------------
def _idx(dims: list[int], code: int = 0x08, payload: bytes | None = None) -> bytes:
    header = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    size = 1
    for d in dims:
        size *= d
    return header + (payload if payload is not None else bytes(size))


def corrupt_inputs(count: int, seed: int = 0) -> Iterator[tuple[str, str, bytes]]:
    """(kind, file name, bytes) of ``count`` broken IDX, gzip and config files, seeded."""
    rng = random.Random(seed)
    good = _idx([16, 28, 28])
    makers = [
        lambda: ("idx", good[: rng.randrange(0, 16)]),  # truncated header
        lambda: ("idx", bytes(rng.randrange(256) for _ in range(rng.randrange(4, 64)))),
        lambda: ("idx", bytes([0, 0, rng.choice([1, 2, 7, 0x10, 0xFF]), 3]) + good[4:]),
        lambda: ("idx", good[: rng.randrange(17, len(good) - 1)]),  # truncated values
        lambda: ("idx", good + bytes(rng.randrange(1, 50))),  # trailing bytes
        lambda: ("idx", _idx([16, 28, 28], code=0x0D, payload=bytes(16 * 28 * 28 * 4))),
        lambda: ("idx", _idx([16, rng.randrange(1, 60), rng.randrange(1, 60)])),  # size
        lambda: ("idx", _idx([rng.randrange(1, 40)])),  # one dimension: labels as images
        lambda: ("gzip", gzip.compress(good)[: rng.randrange(10, 60)]),  # truncated gzip
        lambda: ("gzip", b"\x1f\x8b" + bytes(rng.randrange(256) for _ in range(40))),
        lambda: ("gzip", gzip.compress(bytes(1 << 16))),  # zeros: no IDX magic
        lambda: ("config", rng.choice([b"lr: [", b"{{", b"\x00\x01", b"- a\n- b\n", b"7"])),
        lambda: (
            "config",
            f"{rng.choice(['lr', 'epochs', 'beta1', 'seed'])}: "
            f"{rng.choice(['fast', '[1, 2]', '-3', 'nan', '1e999'])}\n".encode(),
        ),
        lambda: ("config", f"{rng.choice(['learning_rate', 'epoch', 'gpu'])}: 1\n".encode()),
    ]
    for i in range(count):
        kind, data = makers[i % len(makers)]()
        name = {
            "idx": f"case{i}-idx3-ubyte",
            "gzip": f"case{i}-idx3-ubyte.gz",
            "config": f"case{i}.yaml",
        }[kind]
        yield kind, name, data


@dataclass
class FuzzFigures:
    files: int
    exit_2: int
    named_the_file: int
    tracebacks: int
    runs_created: int


def fuzz(folder: Path, count: int, seed: int = 0) -> FuzzFigures:
    """Feed every corrupt file to ``ganwatch train`` (as the MNIST training images, or as
    its config file) in this process; count clean refusals."""
    from ganwatch.cli import main

    store = folder / "store"
    exit_2 = named = tracebacks = 0
    files = list(corrupt_inputs(count, seed))
    for i, (kind, name, data) in enumerate(files):
        case = folder / f"case{i}"
        case.mkdir(parents=True)
        path = case / name
        path.write_bytes(data)
        if kind == "config":
            # no flag may override what the file gets wrong
            args = ["train", "--config", str(path), "--device", "cpu"]
        else:
            for real in (
                "train-images-idx3-ubyte",
                "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte",
            ):
                (case / real).write_bytes(_idx([16]) if "labels" in real else _idx([16, 28, 28]))
            path = case / "train-images-idx3-ubyte"
            path.write_bytes(data)
            args = ["train", "--data-dir", str(case), "--epochs", "1", "--device", "cpu"]
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main([*args, "--quiet", "--store", str(store)])
            except SystemExit as exc:
                code = exc.code
            except Exception:  # noqa: BLE001 - this is what is being counted
                code = None
        text = err.getvalue()
        exit_2 += code == 2
        named += str(path) in text
        tracebacks += "Traceback" in text or code is None
    from ganwatch.store import RunStore

    runs = len(RunStore(store).list_runs()) if (store / "runs.sqlite").exists() else 0
    return FuzzFigures(len(files), exit_2, named, tracebacks, runs)


# -- the document ------------------------------------------------------------------------
def write_docs(scratch: Path) -> None:
    started = time.perf_counter()
    kills = kill_and_resume(scratch / "kills", kills=16, epochs=120, seed=1)
    writers = concurrent_writers(scratch / "writers", writers=8, rows=2000)
    fuzzed = fuzz(scratch / "fuzz", count=280, seed=1)
    from ganwatch.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(["train", *RING, "--epochs", "1", "--store", str(scratch / "dash")])
    load = dashboard_load(scratch / "dash", requests=600, concurrency=200)
    lines = [
        "# Reliability: what was measured",
        "",
        f"Written by `python tests/reliability/harness.py --write-docs` on "
        f"{datetime.date.today().isoformat()} ({platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{time.perf_counter() - started:.0f} s). The tests in `tests/reliability/` run the "
        "same checks smaller in CI.",
        "",
        "| check | figures |",
        "|---|---|",
        *(
            f"| {title} | "
            + ", ".join(
                f"{k.replace('_', ' ')} {v:.3g}"
                if isinstance(v, float)
                else f"{k.replace('_', ' ')} {v}"
                for k, v in asdict(figures).items()
            )
            + " |"
            for title, figures in (
                ("`kill -9` at random moments, then `ganwatch resume`", kills),
                ("concurrent writers on one store", writers),
                ("corrupt IDX, gzip and config files given to `ganwatch train`", fuzzed),
                (
                    "dashboard under concurrent requests (127.0.0.1), then a POST carrying a "
                    "second request in its body",
                    load,
                ),
            )
        ),
        "",
        "What the figures mean: no committed epoch or step is lost and none recorded twice "
        "across the kills; every row the writers committed is read back; every corrupt file is "
        "refused with exit code 2 and a message naming it, with no traceback and no run "
        "created; no dashboard request fails, and the request hidden in a POST body is never "
        "answered (the connection closes after the 405).",
    ]
    DOC.write_text("\n".join(lines) + "\n")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write-docs", action="store_true")
    if parser.parse_args().write_docs:
        with tempfile.TemporaryDirectory() as tmp:
            write_docs(Path(tmp))
