"""Tests of the digit classifier: accuracy on real MNIST, the checksum-keyed cache, input
conversion and batched inference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch

from ganwatch.data import load_dataset
from ganwatch.metrics import classifier_training as clf
from ganwatch.metrics.classifier import (
    ARCH_VERSION,
    FEATURE_DIM,
    DigitClassifier,
    as_model_input,
    classifier_features,
    classifier_probs,
    probs_from_features,
)
from ganwatch.metrics.classifier_training import (
    classifier_path,
    dataset_checksum,
    load_classifier,
    train_and_cache_classifier,
    train_classifier,
)

if TYPE_CHECKING:  # fixtures' types only; conftest modules are not imported by name
    from tests.metrics.conftest import MnistSplit, TrainedClassifier

# ------------------------------------------------------------------ real MNIST


def test_classifier_reaches_target_accuracy_on_real_test_split(
    trained_classifier: TrainedClassifier, mnist_test: MnistSplit, mnist_test_probs: np.ndarray
) -> None:
    accuracy = float((mnist_test_probs.argmax(axis=1) == mnist_test.labels).mean())
    assert len(mnist_test.labels) == 10_000
    assert accuracy >= 0.985
    # The accuracy stored in the cache file is the one measured on this split.
    assert trained_classifier.accuracy == pytest.approx(accuracy, abs=1e-9)


def test_cache_file_is_named_by_dataset_and_checksum(
    trained_classifier: TrainedClassifier, real_mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(trained_classifier.cache_root))
    checksum = dataset_checksum("mnist", data_dir=real_mnist_dir)
    expected = trained_classifier.cache_root / "classifiers" / f"mnist-{checksum[:12]}.pt"
    assert trained_classifier.path == expected
    payload = torch.load(expected, weights_only=True)
    assert payload["arch_version"] == ARCH_VERSION
    assert payload["checksum"] == checksum
    assert payload["test_accuracy"] == trained_classifier.accuracy


def test_second_load_reads_the_cache_without_training(
    trained_classifier: TrainedClassifier, real_mnist_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(trained_classifier.cache_root))

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("load_classifier retrained although the cache file exists")

    monkeypatch.setattr(clf, "train_classifier", no_training)
    mtime = trained_classifier.path.stat().st_mtime_ns
    model = load_classifier("mnist", data_dir=real_mnist_dir)
    assert trained_classifier.path.stat().st_mtime_ns == mtime
    assert not model.training
    expected = trained_classifier.model.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_uint8_and_float_images_give_identical_features(
    trained_classifier: TrainedClassifier, mnist_test: MnistSplit, real_mnist_dir: Path
) -> None:
    as_float = load_dataset("mnist", split="test", data_dir=real_mnist_dir, size=500).data
    as_uint8 = mnist_test.images[:500]
    model = trained_classifier.model
    from_uint8 = classifier_features(model, as_uint8)
    from_float = classifier_features(model, as_float)
    assert from_uint8.shape == (500, FEATURE_DIM)
    assert torch.equal(from_uint8, from_float)
    # A torch uint8 tensor with a channel axis is the same input again.
    from_tensor = classifier_features(model, torch.from_numpy(as_uint8).unsqueeze(1))
    assert torch.equal(from_uint8, from_tensor)


# ------------------------------------------------------------------ cache, on small fake data


class TrainingSpy:
    """Stands in for ``train_classifier``: returns a fixed untrained model and counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, dataset: str = "mnist", **kwargs: object) -> tuple[DigitClassifier, float]:
        self.calls += 1
        torch.manual_seed(self.calls)
        return DigitClassifier(), 0.5


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> TrainingSpy:
    training = TrainingSpy()
    monkeypatch.setattr(clf, "train_classifier", training)
    return training


def test_missing_classifier_trains_once_then_loads_from_cache(
    spy: TrainingSpy, make_mnist_folder: Callable[..., Path], capsys
) -> None:
    data = make_mnist_folder("data")
    first = load_classifier("mnist", data_dir=data)
    said = capsys.readouterr().err  # the wait is announced, quiet or not
    assert "training the mnist digit classifier" in said and "cached as" in said
    second = load_classifier("mnist", data_dir=data)
    assert capsys.readouterr().err == ""  # a cached classifier says nothing
    assert spy.calls == 1
    assert second.test_accuracy == 0.5
    for key, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[key]), key
    path = classifier_path("mnist", dataset_checksum("mnist", data_dir=data))
    assert path.is_file()
    # Written atomically: no temp file is left beside it.
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_changed_data_gets_its_own_cache_file(
    spy: TrainingSpy, make_mnist_folder: Callable[..., Path]
) -> None:
    data_a = make_mnist_folder("a", seed=1)
    data_b = make_mnist_folder("b", seed=2)
    path_a, _ = train_and_cache_classifier("mnist", data_dir=data_a)
    path_b, _ = train_and_cache_classifier("mnist", data_dir=data_b)
    assert path_a != path_b
    assert path_a.is_file() and path_b.is_file()
    assert path_a.name.startswith("mnist-") and len(path_a.stem) == len("mnist-") + 12
    # Same bytes in another folder: same checksum, so the classifier is shared.
    data_c = make_mnist_folder("c", seed=1)
    assert load_classifier("mnist", data_dir=data_c, train_if_missing=False) is not None
    assert spy.calls == 2


def test_missing_classifier_without_training_names_the_command(
    spy: TrainingSpy, make_mnist_folder: Callable[..., Path]
) -> None:
    data = make_mnist_folder("data")
    with pytest.raises(FileNotFoundError, match="ganwatch classifier train"):
        load_classifier("mnist", data_dir=data, train_if_missing=False)
    assert spy.calls == 0


def test_cache_file_of_another_architecture_version_is_not_loaded(
    spy: TrainingSpy, make_mnist_folder: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_mnist_folder("data")
    path, _ = train_and_cache_classifier("mnist", data_dir=data)
    monkeypatch.setattr(clf, "ARCH_VERSION", ARCH_VERSION + 1)
    with pytest.raises(FileNotFoundError, match="outdated"):
        load_classifier("mnist", data_dir=data, train_if_missing=False)
    load_classifier("mnist", data_dir=data)
    assert spy.calls == 2
    assert torch.load(path, weights_only=True)["arch_version"] == ARCH_VERSION + 1


def test_corrupt_cache_file_is_retrained(
    spy: TrainingSpy, make_mnist_folder: Callable[..., Path]
) -> None:
    data = make_mnist_folder("data")
    path, _ = train_and_cache_classifier("mnist", data_dir=data)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(FileNotFoundError, match="unreadable"):
        load_classifier("mnist", data_dir=data, train_if_missing=False)
    assert load_classifier("mnist", data_dir=data).test_accuracy == 0.5
    assert spy.calls == 2


def test_stacked_mnist_uses_the_mnist_classifier(
    spy: TrainingSpy, make_mnist_folder: Callable[..., Path]
) -> None:
    data = make_mnist_folder("data")
    path, _ = train_and_cache_classifier("stacked-mnist", data_dir=data)
    assert path.name.startswith("mnist-")
    load_classifier("mnist", data_dir=data, train_if_missing=False)


def test_toy_datasets_have_no_classifier() -> None:
    with pytest.raises(ValueError, match="no digit classifier"):
        load_classifier("ring")


def test_training_is_seeded_and_leaves_global_rng_alone(
    make_mnist_folder: Callable[..., Path],
) -> None:
    data = make_mnist_folder("data", n_train=300, n_test=16)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first, accuracy_first = train_classifier("mnist", data_dir=data, epochs=1, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    second, accuracy_second = train_classifier("mnist", data_dir=data, epochs=1, seed=3)
    other, _ = train_classifier("mnist", data_dir=data, epochs=1, seed=4)
    assert accuracy_first == accuracy_second
    assert not first.training
    for key, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[key]), key
    assert not torch.equal(first.fc.weight, other.fc.weight)


def test_training_uses_the_first_train_images_only(
    make_mnist_folder: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long train split (60,000 images) would lengthen every cold first evaluation; the
    classifier learns from its first ``TRAIN_IMAGES`` images, in order."""
    data = make_mnist_folder("data", n_train=300, n_test=16)
    full = load_dataset("mnist", split="train", data_dir=data)
    seen: list[torch.Tensor] = []
    train_epoch = clf._train_epoch

    def recording(model, optimizer, scheduler, images, labels, generator):  # noqa: ANN001, ANN202
        seen.append(labels.clone())
        return train_epoch(model, optimizer, scheduler, images, labels, generator)

    monkeypatch.setattr(clf, "_train_epoch", recording)
    monkeypatch.setattr(clf, "TRAIN_IMAGES", 200)
    train_classifier("mnist", data_dir=data, epochs=2, seed=0)
    assert len(seen) == 2
    assert all(torch.equal(labels, full.labels[:200]) for labels in seen)
    monkeypatch.setattr(clf, "TRAIN_IMAGES", 10_000)  # more than the split holds: all of it
    seen.clear()
    train_classifier("mnist", data_dir=data, epochs=1, seed=0)
    assert torch.equal(seen[0], full.labels)


# ------------------------------------------------------------------ input and batching


def test_as_model_input_scales_uint8_like_the_dataset() -> None:
    pixels = np.array([[0, 255], [51, 204]], dtype=np.uint8)
    images = np.tile(pixels, (3, 14, 14))  # (3, 28, 28)
    x = as_model_input(images)
    assert x.shape == (3, 1, 28, 28) and x.dtype == torch.float32
    assert x[0, 0, 0, 0] == -1.0 and x[0, 0, 0, 1] == 1.0
    assert x[0, 0, 1, 0] == pytest.approx(-0.6) and x[0, 0, 1, 1] == pytest.approx(0.6)


def test_as_model_input_keeps_float_values() -> None:
    images = torch.linspace(-1, 1, 2 * 28 * 28, dtype=torch.float64).view(2, 1, 28, 28)
    x = as_model_input(images)
    assert x.dtype == torch.float32
    assert torch.equal(x, images.float())
    assert torch.equal(as_model_input(images.numpy()[:, 0]), x)


@pytest.mark.parametrize(
    "images",
    [
        np.zeros((2, 28, 28, 1), np.uint8),
        np.zeros((2, 3, 28, 28), np.float32),
        np.zeros((28, 28), np.uint8),
        np.zeros((2, 28, 28), np.int32),
    ],
)
def test_as_model_input_rejects_other_shapes_and_dtypes(images: np.ndarray) -> None:
    with pytest.raises(ValueError, match="expected"):
        as_model_input(images)


def test_batched_inference_matches_one_batch_and_restores_mode() -> None:
    torch.manual_seed(0)
    model = DigitClassifier()
    model.train()
    images = torch.rand(50, 1, 28, 28) * 2 - 1
    small = classifier_probs(model, images, batch_size=7)
    whole = classifier_probs(model, images, batch_size=2048)
    assert model.training  # the caller's mode is restored
    assert small.shape == (50, 10)
    torch.testing.assert_close(small, whole)
    torch.testing.assert_close(small.sum(dim=1), torch.ones(50))
    features = classifier_features(model, images, batch_size=16)
    assert features.shape == (50, FEATURE_DIM) and (features >= 0).all()
    assert classifier_features(model, images[:0]).shape == (0, FEATURE_DIM)


def test_probabilities_from_features_are_the_classifiers_own():
    """The Monitor runs the convolutions once and takes the class probabilities from the
    features through the head; they must be what the whole classifier gives."""
    torch.manual_seed(0)
    model = DigitClassifier().train()  # dropout on: both paths must switch it off
    images = torch.rand(300, 1, 28, 28) * 2 - 1
    whole = classifier_probs(model, images)
    from_features = probs_from_features(model, classifier_features(model, images))
    torch.testing.assert_close(from_features, whole, rtol=1e-5, atol=1e-6)
    assert torch.equal(from_features.argmax(1), whole.argmax(1))
    assert model.training  # left as it was


# ------------------------------------------------------------------ the shipped classifier


def test_official_mnist_without_a_cache_reads_the_shipped_classifier(
    trained_classifier: TrainedClassifier,
    real_mnist_dir: Path,
    mnist_test: MnistSplit,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ship the session's classifier (from its cache: nothing is trained) into a temp package.
    monkeypatch.setattr(clf, "SHIPPED", tmp_path / "weights" / "mnist-classifier.pt")
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(trained_classifier.cache_root))
    assert clf.ship_classifier(real_mnist_dir) == clf.SHIPPED
    training = TrainingSpy()
    monkeypatch.setattr(clf, "train_classifier", training)
    monkeypatch.setenv("GANWATCH_CACHE_DIR", str(tmp_path / "empty-cache"))
    model = load_classifier("mnist", data_dir=real_mnist_dir)
    assert training.calls == 0 and not model.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, trained_classifier.model.state_dict()[key]), key
    probs = classifier_probs(model, mnist_test.images)
    accuracy = float((probs.argmax(dim=1).numpy() == mnist_test.labels).mean())
    # The stored accuracy is the one the shipped weights score on the official test split.
    assert accuracy >= 0.985 and model.test_accuracy == pytest.approx(accuracy, abs=1e-9)
    assert not (tmp_path / "empty-cache" / "classifiers").exists()  # nothing was trained
    # Weights of another architecture version are not read: the data trains its own.
    monkeypatch.setattr(clf, "ARCH_VERSION", ARCH_VERSION + 1)
    load_classifier("mnist", data_dir=real_mnist_dir)
    assert training.calls == 1


def test_other_digits_train_their_own_classifier_not_the_shipped_one(
    spy: TrainingSpy, make_mnist_folder: Callable[..., Path]
) -> None:
    data = make_mnist_folder("data")  # its test files are not the official ones
    assert clf.shipped_classifier("mnist", data_dir=data) is None
    with pytest.raises(ValueError, match="not official MNIST"):
        clf.ship_classifier(data)
    load_classifier("mnist", data_dir=data)
    assert spy.calls == 1
