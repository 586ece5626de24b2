"""Which runs a live process is training: one lock file per run, held while it trains.

A run whose status says ``running`` may have lost its process to ``kill -9``, a power cut or
a closed laptop, none of which can record anything. The process that trains a run holds an
exclusive ``flock`` on ``runs/<id>/.lock``; the OS drops it when the process dies, however it
dies. So "running and locked" means a process is training it, "running and not locked" means
none is: the run was interrupted. ``resume`` takes the same lock, so two processes never
train one run.
"""

from __future__ import annotations

import os
from pathlib import Path

try:  # POSIX; elsewhere runs are not locked and a dead run stays "running"
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"


class RunBusyError(OSError):
    """Another live process is training this run."""


def hold_pid_lock(path: Path) -> int:
    """Open ``path``, take its exclusive ``flock`` (where the OS has one) and write this
    process's pid into it; the open descriptor, which holds the lock until closed. Another
    process holding it: ``BlockingIOError`` (nothing left open). Runs and sweeps both lock
    this way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


class RunLock:
    """The lock of one run folder, held from ``acquire`` to ``release``."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self.fd: int | None = None

    def acquire(self, run_id: int) -> RunLock:
        """Hold the lock; a run another process holds is a :class:`RunBusyError`."""
        if fcntl is None:
            return self
        try:
            self.fd = hold_pid_lock(self.path)
        except BlockingIOError:
            raise RunBusyError(
                f"run {run_id} is being trained by another process right now "
                f"({self.path} is locked); wait for it, or stop it first"
            ) from None
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def is_trained(run_dir: Path) -> bool:
    """Whether a live process holds the run's lock (False on systems without flock)."""
    path = Path(run_dir) / LOCK_NAME
    if fcntl is None or not path.is_file():
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
