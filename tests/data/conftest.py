"""Fixtures for the ganwatch.data tests: an isolated environment, synthetic IDX folders and a
local HTTP server, so that nothing here touches the network or the user's real cache."""

from __future__ import annotations

import functools
import http.server
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from ganwatch.data import write_idx

# Read before the autouse fixture clears it: the real-data test uses it when it is set.
REAL_DATA_DIR = os.environ.get("GANWATCH_DATA_DIR")

IDX_NAMES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Clear the data env vars and point the cache at a temp folder; return the cache root."""
    for var in ("GANWATCH_DATA_DIR", "GANWATCH_MIRRORS"):
        monkeypatch.delenv(var, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="session")
def real_data_dir() -> str | None:
    """The folder named by $GANWATCH_DATA_DIR when the session started, or None."""
    return REAL_DATA_DIR


def _write_split(folder: Path, split: str, n: int, rng: np.random.Generator, gz: bool):
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    image_name, label_name = IDX_NAMES[split]
    if not gz:
        image_name, label_name = image_name[:-3], label_name[:-3]
    write_idx(folder / image_name, images, gzip=gz)
    write_idx(folder / label_name, labels, gzip=gz)
    return images, labels


@pytest.fixture
def make_idx_folder() -> Callable[..., dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Factory writing a synthetic MNIST-layout folder; returns {split: (images, labels)}."""

    def make(folder: Path, n_train: int = 50, n_test: int = 20, gz: bool = True, seed: int = 0):
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(seed)
        return {
            "train": _write_split(folder, "train", n_train, rng, gz),
            "test": _write_split(folder, "test", n_test, rng, gz),
        }

    return make


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve a temp folder on 127.0.0.1; yield (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
