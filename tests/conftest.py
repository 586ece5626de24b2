"""Shared fixtures: real MNIST when $GANWATCH_DATA_DIR names it (else a small synthetic folder,
or a skip where only real digits make sense), and a digit classifier trained once per session.

Training the classifier takes ~20 s on two idle cores, so it happens once, in a session-wide
temp cache, and every test that needs it shares the model. Set
``GANWATCH_TEST_CLASSIFIER_CACHE`` to a folder to keep that cache between sessions while
developing (the classifier is then trained only when the data or architecture changes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from ganwatch.data import read_idx, write_idx
from ganwatch.data.download import find_file
from ganwatch.data.sources import SPLIT_FILES
from ganwatch.metrics.classifier import DigitClassifier, classifier_probs
from ganwatch.metrics.classifier_training import load_classifier, train_and_cache_classifier

REAL_MNIST = os.environ.get("GANWATCH_DATA_DIR")
PERSISTENT_CACHE = os.environ.get("GANWATCH_TEST_CLASSIFIER_CACHE")


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


@dataclass(frozen=True)
class TrainedClassifier:
    """The session's classifier, its reported accuracy, its cache file and the cache root."""

    model: DigitClassifier
    accuracy: float
    path: Path
    cache_root: Path


@dataclass(frozen=True)
class MnistSplit:
    """One real MNIST split as stored: uint8 images (N, 28, 28) and int64 labels (N,)."""

    images: np.ndarray
    labels: np.ndarray


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run a module on one torch thread: its inputs are tiny, and on a shared 2-core machine
    the thread pool then costs far more in waiting than it saves."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def real_mnist_dir() -> Path:
    """The real MNIST folder from $GANWATCH_DATA_DIR, or skip the test that needs it."""
    if not REAL_MNIST:
        pytest.skip("GANWATCH_DATA_DIR is not set: real-MNIST classifier tests need the data")
    folder = Path(REAL_MNIST)
    names = [name for split in SPLIT_FILES.values() for name in split]
    missing = [name for name in names if find_file(folder, name) is None]
    if missing:
        pytest.skip(f"GANWATCH_DATA_DIR={folder} lacks the MNIST files {missing}")
    return folder


@pytest.fixture(scope="session")
def mnist_test(real_mnist_dir: Path) -> MnistSplit:
    """The real test split, read straight from the IDX files (uint8, as stored)."""
    image_file, label_file = SPLIT_FILES["test"]
    images = read_idx(find_file(real_mnist_dir, image_file))
    labels = read_idx(find_file(real_mnist_dir, label_file)).astype(np.int64)
    return MnistSplit(np.asarray(images), labels)


@pytest.fixture(scope="session")
def trained_classifier(
    real_mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> TrainedClassifier:
    """Train the MNIST classifier once per session into a temp cache (or reuse the
    persistent developer cache), then load it back the way the metrics commands do."""
    cache = Path(PERSISTENT_CACHE) if PERSISTENT_CACHE else tmp_path_factory.mktemp("clf-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANWATCH_CACHE_DIR", str(cache))
        if PERSISTENT_CACHE:
            model = load_classifier("mnist", data_dir=real_mnist_dir, train_if_missing=True)
            path = next((cache / "classifiers").glob("mnist-*.pt"))
        else:
            path, _ = train_and_cache_classifier("mnist", data_dir=real_mnist_dir)
            model = load_classifier("mnist", data_dir=real_mnist_dir, train_if_missing=False)
    assert model.test_accuracy is not None
    return TrainedClassifier(model, model.test_accuracy, path, cache)


@pytest.fixture
def classifier_cache(monkeypatch: pytest.MonkeyPatch, trained_classifier: TrainedClassifier):
    """Point the Monitor's classifier lookup at the session's trained classifier."""
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(trained_classifier.cache_root))


@pytest.fixture(scope="session")
def mnist_test_probs(trained_classifier: TrainedClassifier, mnist_test: MnistSplit) -> np.ndarray:
    """Class probabilities (10000, 10) of the real test split, computed once."""
    return classifier_probs(trained_classifier.model, mnist_test.images).numpy()


def _write_mnist_folder(folder: Path, seed: int, n_train: int, n_test: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        image_file, label_file = SPLIT_FILES[split]
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        write_idx(folder / image_file, images, gzip=True)
        write_idx(folder / label_file, (np.arange(n) % 10).astype(np.uint8), gzip=True)
    return folder


@pytest.fixture
def make_mnist_folder(tmp_path: Path) -> Callable[..., Path]:
    """Factory for small MNIST-layout folders of random digits under ``tmp_path``: data for
    the cache and determinism tests, which need files to hash and train on, not real digits.
    ``make_mnist_folder(name, seed)``; different seeds give different bytes."""

    def make(name: str, seed: int = 0, n_train: int = 64, n_test: int = 32) -> Path:
        return _write_mnist_folder(tmp_path / name, seed, n_train, n_test)

    return make
