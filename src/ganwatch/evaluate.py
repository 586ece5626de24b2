"""``ganwatch metrics``: compare a set of samples with a reference, from files or dataset names.

This module turns what a user has on disk (a ``.npy`` array, or a dataset name such as
``mnist`` or ``mnist:test``) into what each metric needs: raw pixels for NDB (as the article
and the NDB paper use it), classifier features for FID, KID and PRDC on images, class
predictions for mode counts, and the data as given for (N, D) feature arrays and 2-D points.
The metrics themselves live in ``ganwatch.metrics``; nothing here computes a statistic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganwatch.data import DATASETS, load_dataset

METRICS = ("ndb", "prdc", "fid", "kid", "modes")
TOY = ("ring", "grid")


@dataclass
class Samples:
    """An array to evaluate, and the dataset it came from when it was named (for toy modes)."""

    array: np.ndarray
    dataset: str | None = None


def load_samples(
    source: str,
    *,
    data_dir: str | None = None,
    default_split: str = "train",
    size: int | None = None,
) -> Samples:
    """Read ``source``: a ``.npy`` file, or ``NAME`` / ``NAME:SPLIT`` of a ganwatch dataset."""
    name, _, split = source.partition(":")
    if name in DATASETS and not Path(source).exists():
        dataset = load_dataset(name, split=split or default_split, data_dir=data_dir, size=size)
        return Samples(dataset.data.cpu().numpy(), name)
    path = Path(source)
    if path.suffix != ".npy":
        raise ValueError(
            f"{source}: expected a .npy file or a dataset name "
            f"({', '.join(DATASETS)}, optionally NAME:train or NAME:test)"
        )
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from exc
    if array.ndim not in (2, 3, 4) or len(array) == 0:
        raise ValueError(
            f"{path}: expected images (N, 28, 28) or (N, C, 28, 28), or features "
            f"(N, D); got shape {array.shape}"
        )
    if size is not None:
        array = array[:size]
    return Samples(array)


def is_images(array: np.ndarray) -> bool:
    return array.ndim in (3, 4) and array.shape[-2:] == (28, 28)


def channels(array: np.ndarray) -> int:
    return 1 if array.ndim == 3 else array.shape[1]


def as_float_images(array: np.ndarray) -> np.ndarray:
    """Images as float32 in [-1, 1]: uint8 are pixel values, floats a generator's tanh output."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 127.5 - 1.0
    return array.astype(np.float32)


def _check_pair(reference: np.ndarray, samples: np.ndarray) -> None:
    if reference.shape[1:] != samples.shape[1:] and not (
        is_images(reference) and is_images(samples)
    ):
        raise ValueError(
            f"reference samples have shape {reference.shape[1:]} but the samples "
            f"{samples.shape[1:]}: they must describe the same kind of data"
        )


def _features(array: np.ndarray, classifier_source: dict[str, Any]) -> torch.Tensor:
    """Classifier features for 1-channel images, the array itself for (N, D) features."""
    if not is_images(array):
        return torch.as_tensor(array, dtype=torch.float32).flatten(1)
    if channels(array) != 1:
        raise ValueError(
            "feature metrics on images need 1-channel 28x28 images; "
            f"got {array.shape[1:]} (pass (N, D) features instead)"
        )
    from ganwatch.metrics.classifier import classifier_features

    return classifier_features(_classifier(classifier_source), array)


def _classifier(source: dict[str, Any]):
    from ganwatch.metrics.classifier import load_classifier

    if "model" not in source:
        source["model"] = load_classifier(
            source.get("dataset", "mnist"), data_dir=source.get("data_dir")
        )
    return source["model"]


def compute(
    metric: str,
    reference: Samples,
    samples: Samples,
    *,
    bins: int = 100,
    k: int | None = None,
    seed: int = 0,
    data_dir: str | None = None,
    chart: str | None = None,
) -> dict[str, Any]:
    """Compute one metric of ``samples`` against ``reference``; a JSON-ready dict.

    ``chart`` (NDB only) also writes the bins chart as a PNG there.
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    ref, gen = reference.array, samples.array
    _check_pair(ref, gen)
    classifier = {"dataset": _classifier_dataset(reference), "data_dir": data_dir}
    if metric == "ndb":
        from ganwatch.metrics.ndb import NDBBins

        pixels = (as_float_images(ref), as_float_images(gen)) if is_images(ref) else (ref, gen)
        result = NDBBins.fit(pixels[0], bins=bins, seed=seed).evaluate(pixels[1])
        if chart:
            from ganwatch.metrics.ndb_plot import ndb_chart

            ndb_chart(result, chart)
        return _jsonable(result.to_dict())
    if metric == "prdc":
        from ganwatch.metrics.prdc import improved_precision_recall, prdc

        real, fake = _features(ref, classifier), _features(gen, classifier)
        out = prdc(real, fake, k=k or 5)
        improved = improved_precision_recall(real, fake, k=3)
        out.update(
            {"improved_precision": improved["precision"], "improved_recall": improved["recall"]}
        )
        return out
    if metric == "fid":
        from ganwatch.metrics.fid import fid

        return {"fid": fid(_features(ref, classifier), _features(gen, classifier))}
    if metric == "kid":
        from ganwatch.metrics.fid import kid

        result = kid(_features(ref, classifier), _features(gen, classifier), seed=seed)
        return {"kid": result["kid_mean"], "kid_std": result["kid_std"]}
    return _modes(reference, samples, classifier)


def _classifier_dataset(reference: Samples) -> str:
    if reference.dataset in ("fashion-mnist", "kmnist"):
        return reference.dataset
    return "mnist"


def _modes(reference: Samples, samples: Samples, classifier: dict[str, Any]) -> dict[str, Any]:
    """Classes covered (1-channel images), Stacked MNIST modes (3 channels), toy modes (2-D)."""
    ref, gen = reference.array, samples.array
    if is_images(gen) and channels(gen) == 1:
        from ganwatch.metrics.classes import class_metrics
        from ganwatch.metrics.classifier import classifier_probs

        model = _classifier(classifier)
        ref_classes = classifier_probs(model, ref).argmax(dim=1).cpu().numpy()
        return _jsonable(class_metrics(classifier_probs(model, gen), ref_classes))
    if is_images(gen) and channels(gen) == 3:
        from ganwatch.metrics.classes import stacked_mnist_modes

        result = stacked_mnist_modes(_classifier(classifier), gen)
        result["modes_captured"] = result["modes_covered"]  # one key for every kind of data
        return _jsonable(result)
    if gen.ndim == 2 and gen.shape[1] == 2:
        if reference.dataset not in TOY:
            raise ValueError(
                "modes of 2-D samples need the toy dataset as reference: "
                "--reference ring or --reference grid"
            )
        from ganwatch.data.toy import mode_centres, mode_sigma
        from ganwatch.metrics.toy import toy_mode_metrics

        return _jsonable(
            toy_mode_metrics(gen, mode_centres(reference.dataset), mode_sigma(reference.dataset))
        )
    raise ValueError(
        f"'modes' needs images (N, 28, 28), (N, 1|3, 28, 28) or 2-D points; "
        f"got samples of shape {gen.shape}"
    )


def _jsonable(value: Any) -> Any:
    """numpy and torch values to plain Python, recursively, for --json."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        return _jsonable(value.detach().cpu().numpy())
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None  # JSON has no NaN or inf
    return value
