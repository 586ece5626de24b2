"""Training the digit classifier, and caching it by the checksum of its dataset's files.

Trained weights are cached under ``<cache root>/classifiers/<dataset>-<checksum12>.pt``. The
checksum is the SHA-256 of the dataset's IDX files as they are on disk, so a classifier is
never reused for different data (a subset, another dataset under the same name): metrics are
only comparable between runs measured with the same classifier, and the file name says which.

MNIST is the exception that makes a first evaluation fast: a package can carry the classifier
trained on the official training images (``SHIPPED``, written by :func:`ship_classifier`;
``scripts/setup.sh`` does it when MNIST is at hand, a release before building the wheel). It
is used for any folder whose test split is the official one (its published MD5s), when no
classifier of the folder's own is cached. Everyone measuring official MNIST then reads the
same network, as FID's reference implementations all read the same Inception weights, and
nobody waits the half minute of training; a folder with other digits still gets its own.
The weights are built, not committed: they derive from the dataset.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganwatch.catalog import DATASETS
from ganwatch.data import load_dataset
from ganwatch.data.download import PathLike, cache_root, ensure_files, find_file
from ganwatch.data.sources import SPLIT_FILES
from ganwatch.metrics.classifier import (
    ARCH_VERSION,
    BACKGROUND,
    BATCH_SIZE,
    EPOCHS,
    LEARNING_RATE,
    MAX_SHIFT,
    TRAIN_COMMAND,
    TRAIN_IMAGES,
    DigitClassifier,
    classifier_probs,
)
from ganwatch.training.checkpoint import save_checkpoint

#: Where a package carries the MNIST classifier (see the module docstring; not in git).
SHIPPED = Path(__file__).parent / "weights" / "mnist-classifier.pt"

__all__ = [
    "classifier_path",
    "dataset_checksum",
    "load_classifier",
    "train_and_cache_classifier",
    "train_classifier",
]


# --------------------------------------------------------------------------- training


def _shifted(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Translate each image by its own random offset of up to ``MAX_SHIFT`` pixels.

    Done as one gather from a padded copy, which costs far less than a conv layer, so the
    augmentation does not slow training down noticeably.
    """
    n, _, h, w = x.shape
    pad = MAX_SHIFT
    padded = F.pad(x, (pad, pad, pad, pad), value=BACKGROUND)
    offsets = torch.randint(0, 2 * pad + 1, (2, n), generator=generator, device=x.device)
    rows = offsets[0].view(n, 1, 1) + torch.arange(h, device=x.device).view(1, h, 1)
    cols = offsets[1].view(n, 1, 1) + torch.arange(w, device=x.device).view(1, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded[batch, 0, rows, cols].unsqueeze(1)


def _train_epoch(
    model: DigitClassifier,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    data: torch.Tensor,
    labels: torch.Tensor,
    generator: torch.Generator,
) -> float:
    """One pass over the data in a seeded random order; returns the mean training loss."""
    model.train()
    order = torch.randperm(len(data), generator=generator, device=data.device)
    total = torch.zeros((), device=data.device)
    steps = 0
    for start in range(0, len(data), BATCH_SIZE):
        index = order[start : start + BATCH_SIZE]
        loss = F.cross_entropy(model(_shifted(data[index], generator)), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += loss.detach()  # summed on the device: no host sync per step on a GPU
        steps += 1
    return float(total) / max(steps, 1)


def _accuracy(model: DigitClassifier, data: torch.Tensor, labels: torch.Tensor) -> float:
    predicted = classifier_probs(model, data).argmax(dim=1)
    return float((predicted == labels.cpu()).double().mean())


def _fork_devices(device: torch.device) -> list[int]:
    """CUDA devices whose RNG state :func:`train_classifier` must save and restore."""
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def train_classifier(
    dataset: str = "mnist",
    *,
    data_dir: PathLike | None = None,
    device: torch.device | str = "cpu",
    epochs: int = EPOCHS,
    seed: int = 0,
    quiet: bool = True,
) -> tuple[DigitClassifier, float]:
    """Train a :class:`DigitClassifier` on the first ``TRAIN_IMAGES`` images of ``dataset``'s
    train split; return (model, test accuracy).

    Adam with a one-cycle learning rate schedule and random shifts of up to two pixels: on
    the 23,797-image MNIST subset five epochs give ~99% test accuracy (seeds 0, 1, 2:
    98.97, 98.98, 99.09%) in ~20 s on two idle CPU cores (epochs of 3.5-4 s); on cores shared
    with other jobs it has taken from under a minute to several. Everything random
    (initialisation, order, shifts, dropout) comes from ``seed``, and the caller's global RNG
    state is restored afterwards, so training is reproducible on the CPU and has no side
    effect on e.g. a GAN run seeded before it.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    dev = torch.device(device)
    name = _classifier_dataset(dataset)
    train = load_dataset(name, split="train", data_dir=data_dir, device=dev)
    images, labels = train.data[:TRAIN_IMAGES], train.labels[:TRAIN_IMAGES]
    test = load_dataset(name, split="test", data_dir=data_dir, device=dev)
    with torch.random.fork_rng(devices=_fork_devices(dev)):
        torch.manual_seed(seed)
        model = DigitClassifier().to(dev)
        generator = torch.Generator(device=dev).manual_seed(seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
        steps_per_epoch = -(-len(images) // BATCH_SIZE)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=LEARNING_RATE, epochs=epochs, steps_per_epoch=steps_per_epoch
        )
        for epoch in range(1, epochs + 1):
            started = time.perf_counter()
            loss = _train_epoch(model, optimizer, scheduler, images, labels, generator)
            if not quiet:
                seconds = time.perf_counter() - started
                print(
                    f"classifier epoch {epoch}/{epochs}: loss {loss:.4f}, {seconds:.1f} s",
                    file=sys.stderr,
                )
    model.eval()
    accuracy = _accuracy(model, test.data, test.labels)
    model.test_accuracy = accuracy
    if not quiet:
        print(f"classifier test accuracy: {accuracy:.4f}", file=sys.stderr)
    return model, accuracy


# --------------------------------------------------------------------------- caching


def _classifier_dataset(dataset: str) -> str:
    """The dataset a classifier is trained on: Stacked MNIST is classified per channel by the
    MNIST classifier, so it has no classifier of its own. Toy point sets have none at all."""
    spec = DATASETS.get(dataset)
    if spec is None or spec.classifier is None:
        known = ", ".join(name for name, s in DATASETS.items() if s.classifier)
        raise ValueError(f"no digit classifier for dataset {dataset!r}; image datasets: {known}")
    return spec.classifier


def _idx_files() -> list[str]:
    return [name for split in ("train", "test") for name in SPLIT_FILES[split]]


def dataset_checksum(dataset: str = "mnist", *, data_dir: PathLike | None = None) -> str:
    """SHA-256 (hex) over the dataset's train and test IDX files, as found on disk.

    Each file contributes its name and its bytes (compressed or not, as stored), in a fixed
    order. Hashing the files rather than trusting the dataset's name is what keeps a
    classifier trained on a 24k-image subset from being reused for the full 60k, or for a
    folder that was replaced. Files missing from the cache are downloaded first.
    """
    name = _classifier_dataset(dataset)
    files = _idx_files()
    folder = ensure_files(name, data_dir, files=files)
    digest = hashlib.sha256()
    for file_name in files:
        path = find_file(folder, file_name)
        if path is None:  # ensure_files just checked; only a concurrent delete gets here
            raise FileNotFoundError(f"{file_name} disappeared from {folder}")
        digest.update(file_name.encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def classifier_path(dataset: str, checksum: str) -> Path:
    """Cache file of the classifier for ``dataset`` with data ``checksum``."""
    return cache_root() / "classifiers" / f"{_classifier_dataset(dataset)}-{checksum[:12]}.pt"


def _save(model: DigitClassifier, accuracy: float, checksum: str, path: Path) -> None:
    """Write the checkpoint atomically: a crash mid-write must not leave a truncated file
    that the next metrics run would load (or fail to load) as the classifier."""
    payload = {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "test_accuracy": float(accuracy),
        "arch_version": ARCH_VERSION,
        "checksum": checksum,
    }
    save_checkpoint(path, payload)


def _load(path: Path, checksum: str | None, device: torch.device | str) -> DigitClassifier | None:
    """Load a cached classifier, or None when the file is from another architecture version,
    other data (``checksum``; None for the shipped file, which is for any official MNIST), or
    unreadable: a cache file can always be rebuilt, so it is retrained rather than trusted or
    reported as a crash."""
    model = DigitClassifier()
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("arch_version") != ARCH_VERSION:
            return None
        if checksum is not None and payload.get("checksum") != checksum:
            return None
        model.load_state_dict(payload["state_dict"])
        model.test_accuracy = float(payload["test_accuracy"])
    except (OSError, EOFError, RuntimeError, pickle.UnpicklingError, KeyError, AttributeError):
        return None
    return model.to(device).eval()


def _official_test_split(dataset: str, data_dir: PathLike | None) -> bool:
    """Whether the folder's test files are the dataset's official ones, byte for byte."""
    name = _classifier_dataset(dataset)
    files = SPLIT_FILES["test"]
    folder = ensure_files(name, data_dir, files=files)
    official = DATASETS[name].md5s
    for file_name in files:
        path = find_file(folder, file_name)
        if path is None or file_name not in official:
            return False
        if hashlib.md5(path.read_bytes()).hexdigest() != official[file_name]:
            return False
    return True


def shipped_classifier(
    dataset: str = "mnist",
    *,
    data_dir: PathLike | None = None,
    device: torch.device | str = "cpu",
) -> DigitClassifier | None:
    """The classifier shipped with ganwatch, when it applies to this data (else None)."""
    if _classifier_dataset(dataset) != "mnist" or not SHIPPED.is_file():
        return None
    if not _official_test_split(dataset, data_dir):
        return None
    return _load(SHIPPED, None, device)


def ship_classifier(data_dir: PathLike | None = None, quiet: bool = True) -> Path:
    """Write ``SHIPPED`` from this MNIST's cached classifier (trained first when missing).

    Refuses data whose test split is not the official one: the shipped classifier is read for
    every official MNIST folder, so it must have been measured on that split.
    """
    if not _official_test_split("mnist", data_dir):
        raise ValueError(f"{data_dir or 'the MNIST cache'}: the test split is not official MNIST")
    checksum = dataset_checksum("mnist", data_dir=data_dir)
    path = classifier_path("mnist", checksum)
    model = _load(path, checksum, "cpu") if path.is_file() else None
    if model is None:
        path, _ = train_and_cache_classifier("mnist", data_dir=data_dir, quiet=quiet)
        model = _load(path, checksum, "cpu")
    _save(model, model.test_accuracy, checksum, SHIPPED)
    return SHIPPED


def train_and_cache_classifier(
    dataset: str = "mnist",
    data_dir: PathLike | None = None,
    device: torch.device | str = "cpu",
    quiet: bool = True,
) -> tuple[Path, float]:
    """Train the classifier for ``dataset`` and write it to the cache; return (path, accuracy).

    This is what ``ganwatch classifier train`` runs. It always trains, replacing any cached
    file for the same data.
    """
    checksum = dataset_checksum(dataset, data_dir=data_dir)
    model, accuracy = train_classifier(dataset, data_dir=data_dir, device=device, quiet=quiet)
    path = classifier_path(dataset, checksum)
    _save(model, accuracy, checksum, path)
    if not quiet:
        print(f"classifier saved to {path}", file=sys.stderr)
    return path, accuracy


def load_classifier(
    dataset: str = "mnist",
    *,
    data_dir: PathLike | None = None,
    device: torch.device | str = "cpu",
    train_if_missing: bool = True,
    quiet: bool = True,
) -> DigitClassifier:
    """Return the cached classifier for ``dataset``'s data (eval mode, on ``device``).

    Without a usable cache file, official MNIST gets the shipped classifier (the module
    docstring says why). Otherwise, train one and cache it if ``train_if_missing``
    (about a minute on a CPU), else raise FileNotFoundError naming the command that trains
    it: a metrics command should not silently spend that minute when the user said not to.
    """
    checksum = dataset_checksum(dataset, data_dir=data_dir)
    path = classifier_path(dataset, checksum)
    model = _load(path, checksum, device) if path.is_file() else None
    if model is None:
        model = shipped_classifier(dataset, data_dir=data_dir, device=device)
    if model is not None:
        return model
    if not train_if_missing:
        state = "is outdated or unreadable" if path.is_file() else "does not exist"
        raise FileNotFoundError(
            f"no classifier for {dataset!r} with this data: {path} {state}. "
            f"Train it with `{TRAIN_COMMAND}` (about a minute on a CPU)."
        )
    # Always said, even when quiet: the first evaluation of a run otherwise sits silent for
    # the half minute or more this takes.
    print(
        f"ganwatch: training the {_classifier_dataset(dataset)} digit classifier the metrics "
        f"read (once for this data; about 30 s on two CPU cores), cached as {path} ...",
        file=sys.stderr,
        flush=True,
    )
    train_and_cache_classifier(dataset, data_dir=data_dir, device=device, quiet=quiet)
    model = _load(path, checksum, device)
    if model is None:  # pragma: no cover - the file was just written with these values
        raise RuntimeError(f"classifier written to {path} could not be read back")
    return model
