"""Shared fixtures: real MNIST when $GANWATCH_DATA_DIR names it, else a small synthetic folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ganwatch.data import write_idx

REAL_MNIST = os.environ.get("GANWATCH_DATA_DIR")


@pytest.fixture(autouse=True)
def no_store_or_cache_leaks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep tests away from the user's store and download cache."""
    monkeypatch.delenv("GANWATCH_STORE", raising=False)
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of MNIST-format files: the real ones when available, else 256 random digits."""
    if REAL_MNIST and Path(REAL_MNIST, "train-images-idx3-ubyte.gz").exists():
        return Path(REAL_MNIST)
    folder = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 256), ("t10k", 128)):
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte.gz",
            rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            gzip=True,
        )
        write_idx(
            folder / f"{prefix}-labels-idx1-ubyte.gz",
            (np.arange(n) % 10).astype(np.uint8),
            gzip=True,
        )
    return folder
