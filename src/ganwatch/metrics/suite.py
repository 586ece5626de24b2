"""One front for every metric: samples measured against a reference prepared once.

Everything that depends only on the real data (the classifier, its features of the reference,
their FID statistics, the NDB bins, the class distribution, the diversity of real batches) is
computed on first need and kept, so each later measurement pays only for its own samples. The
Monitor calls :meth:`MetricSuite.measure` after epochs; ``ganwatch metrics`` calls one metric
(:func:`compute`). Both read the keys, labels and directions of ``ganwatch.catalog.METRICS``.

What is measured, by kind of data (:func:`~ganwatch.metrics.inputs.data_kind`): 1-channel
28x28 images get classes (``classes_covered``, ``classes``, ``class_kl``), precision, recall,
density, coverage and FID in the classifier's feature space, NDB on pixels (every
``ndb_every`` measurements) and diversity; Stacked MNIST (3x28x28) gets its 1,000-mode count
and KL and diversity; 2-D points of a known mixture get the modes captured, the share of
samples on a mode and the mode KL; anything else, as rows, gets precision, recall, density,
coverage, FID and diversity on the rows as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ganwatch.catalog import DATASETS
from ganwatch.catalog.keys import METRIC_FAMILIES
from ganwatch.metrics.inputs import IMAGE, POINTS, STACKED, Samples, as_float, data_kind, jsonable

REFERENCE_LIMIT = 10_000  # real samples the Monitor keeps for features, bins and statistics
DIVERSITY_BATCH = 64  # the fixed-noise grid's size: diversity compares batches of this size
NDB_BINS = 100
PRDC_K = 5
IMPROVED_PR_K = 3
#: What ``ganwatch metrics`` computes, one at a time (declared in the catalog).
METRIC_NAMES = METRIC_FAMILIES


@dataclass
class MetricSuite:
    """Reference-side state for measuring samples of one kind against one reference."""

    kind: str
    reference: torch.Tensor  # (N, ...) float on the CPU
    dataset: str | None = None
    data_dir: str | None = None
    ndb_every: int = 5
    seed: int = 0
    _cache: dict[str, Any] = field(default_factory=dict)
    _measured: int = 0

    @classmethod
    def prepare(
        cls,
        reference: Any,
        *,
        dataset: str | None = None,
        data_dir: str | None = None,
        ndb_every: int = 5,
        seed: int = 0,
        limit: int | None = REFERENCE_LIMIT,
    ) -> MetricSuite:
        """Keep up to ``limit`` reference rows (a seeded random subset when there are more).
        ``dataset`` names the data when known: it picks the classifier and the toy modes."""
        data = as_float(reference)
        if limit is not None and len(data) > limit:
            rows = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
            data = data[rows[:limit]]
        kind = data_kind(tuple(data.shape[1:]), dataset)
        return cls(kind, data, dataset, data_dir, ndb_every, seed)

    # -- reference-side state, computed on first use ------------------------------------
    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def classifier(self):
        """The classifier that measures this data: the dataset's own, else the MNIST one."""
        from ganwatch.metrics.classifier_training import load_classifier

        spec = DATASETS.get(self.dataset or "")
        name = spec.classifier if spec and spec.classifier else "mnist"
        return self._cached("classifier", lambda: load_classifier(name, data_dir=self.data_dir))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Classifier features of 1-channel images; the rows as they are for other data."""
        if self.kind != IMAGE:
            if x.dim() > 2 and x.shape[-2:] == (28, 28):
                raise ValueError(
                    "feature metrics on images need 1-channel 28x28 images; "
                    f"got {tuple(x.shape[1:])} (pass (N, D) features instead)"
                )
            return x.reshape(len(x), -1)
        from ganwatch.metrics.classifier import classifier_features

        return classifier_features(self.classifier(), x.reshape(-1, 1, 28, 28))

    def reference_features(self) -> torch.Tensor:
        return self._cached("features", lambda: self.features(self.reference))

    def bins(self, bins: int = NDB_BINS):
        from ganwatch.metrics.ndb import NDBBins

        flat = self.reference.reshape(len(self.reference), -1)
        return self._cached(f"bins{bins}", lambda: NDBBins.fit(flat, bins=bins, seed=self.seed))

    # -- one metric each --------------------------------------------------------------
    def ndb(self, samples: Any, bins: int = NDB_BINS):
        """NDB and JS over k-means bins fitted on the reference's pixels (an NDBResult)."""
        x = as_float(samples)
        return self.bins(bins).evaluate(x.reshape(len(x), -1))

    def prdc(self, samples: Any, k: int = PRDC_K) -> dict[str, float]:
        from ganwatch.metrics.prdc import prdc

        return prdc(self.reference_features(), self.features(as_float(samples)), k=k)

    def improved_precision_recall(self, samples: Any, k: int = IMPROVED_PR_K) -> dict:
        from ganwatch.metrics.prdc import improved_precision_recall

        return improved_precision_recall(
            self.reference_features(), self.features(as_float(samples)), k=k
        )

    def fid(self, samples: Any) -> float:
        from ganwatch.metrics.fid import feature_statistics, frechet_distance

        mu, sigma = self._cached("stats", lambda: feature_statistics(self.reference_features()))
        return frechet_distance(mu, sigma, *feature_statistics(self.features(as_float(samples))))

    def kid(self, samples: Any, seed: int = 0) -> dict[str, float]:
        from ganwatch.metrics.fid import kid

        return kid(self.reference_features(), self.features(as_float(samples)), seed=seed)

    def classes(self, samples: Any) -> dict[str, Any]:
        """Class histogram, classes covered, class KL and Inception Score through the
        classifier (1-channel images)."""
        from ganwatch.metrics.classes import class_metrics
        from ganwatch.metrics.classifier import classifier_probs

        model = self.classifier()
        ref = self._cached(
            "classes", lambda: classifier_probs(model, self.reference).argmax(dim=1).numpy()
        )
        x = as_float(samples)
        return class_metrics(classifier_probs(model, x.reshape(-1, 1, 28, 28)), ref)

    def stacked_modes(self, samples: Any) -> dict[str, Any]:
        from ganwatch.metrics.classes import stacked_mnist_modes

        return stacked_mnist_modes(self.classifier(), as_float(samples))

    def toy_modes(self, samples: Any) -> dict[str, Any]:
        from ganwatch.data.toy import mode_centres, mode_sigma
        from ganwatch.metrics.toy import toy_mode_metrics

        x = as_float(samples).numpy()
        return toy_mode_metrics(x, mode_centres(self.dataset), mode_sigma(self.dataset))

    def diversity(self, samples: Any) -> float:
        from ganwatch.metrics.diversity import diversity, reference_diversity

        x = as_float(samples)
        n = min(DIVERSITY_BATCH, len(x), len(self.reference))
        flat = self.reference.reshape(len(self.reference), -1)
        ref = self._cached(f"diversity{n}", lambda: reference_diversity(flat, n=n))
        return float(diversity(x[:n].reshape(n, -1), ref))

    # -- what the Monitor measures after an epoch -------------------------------------
    def measure(self, samples: Any) -> tuple[dict[str, float], Any]:
        """The ``metric/...`` values for ``samples`` and the NDB result when NDB ran."""
        x = as_float(samples)
        self._measured += 1
        if self.kind == POINTS:
            toy = self.toy_modes(x)
            return {
                "metric/modes_captured": float(toy["modes_captured"]),
                "metric/modes": float(len(toy["histogram"])),
                "metric/high_quality": float(toy["high_quality"]),
                "metric/mode_kl": float(toy["mode_kl"]),
            }, None
        values = {"metric/diversity": self.diversity(x)}
        if self.kind == STACKED:
            stacked = self.stacked_modes(x)
            values["metric/stacked_modes"] = float(stacked["modes_covered"])
            values["metric/stacked_kl"] = float(stacked["mode_kl"])
            return values, None
        values.update({f"metric/{k}": float(v) for k, v in self.prdc(x).items()})
        if len(x) >= 2:
            values["metric/fid"] = self.fid(x)
        if self.kind != IMAGE:
            return values, None
        classes = self.classes(x)
        values["metric/classes_covered"] = float(classes["classes_covered"])
        values["metric/classes"] = float(len(classes["class_histogram"]))
        values["metric/class_kl"] = float(classes["class_kl"])
        ndb = None
        if (self._measured - 1) % self.ndb_every == 0:
            ndb = self.ndb(x)
            values["metric/ndb_k"] = float(ndb.ndb_k)
        return values, ndb


def compute(
    metric: str,
    reference: Samples,
    samples: Samples,
    *,
    bins: int = NDB_BINS,
    k: int | None = None,
    seed: int = 0,
    data_dir: str | None = None,
    chart: str | None = None,
) -> dict[str, Any]:
    """``ganwatch metrics``: one metric of ``samples`` against the whole ``reference``, as a
    JSON-ready dict. ``chart`` (NDB only) also writes the bins chart as a PNG there."""
    if metric not in METRIC_NAMES:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRIC_NAMES)}")
    _check_pair(reference.array, samples.array)
    suite = MetricSuite.prepare(
        reference.array, dataset=reference.dataset, data_dir=data_dir, seed=seed, limit=None
    )
    gen = samples.array
    if metric == "ndb":
        result = suite.ndb(gen, bins)
        if chart:
            from ganwatch.metrics.ndb_plot import ndb_chart

            ndb_chart(result, chart)
        return jsonable(result.to_dict())
    if metric == "prdc":
        improved = suite.improved_precision_recall(gen)
        out = suite.prdc(gen, k or PRDC_K)
        out.update(
            {"improved_precision": improved["precision"], "improved_recall": improved["recall"]}
        )
        return out
    if metric == "fid":
        return {"fid": suite.fid(gen)}
    if metric == "kid":
        result = suite.kid(gen, seed)
        return {"kid": result["kid_mean"], "kid_std": result["kid_std"]}
    return jsonable(_modes(suite, gen))


def _check_pair(reference: np.ndarray, samples: np.ndarray) -> None:
    both_images = reference.ndim in (3, 4) and samples.ndim in (3, 4)
    if reference.shape[1:] != samples.shape[1:] and not (
        both_images and reference.shape[-2:] == samples.shape[-2:] == (28, 28)
    ):
        raise ValueError(
            f"reference samples have shape {reference.shape[1:]} but the samples "
            f"{samples.shape[1:]}: they must describe the same kind of data"
        )


def _modes(suite: MetricSuite, gen: np.ndarray) -> dict[str, Any]:
    """Classes covered (1-channel images), Stacked MNIST modes (3 channels), toy modes (2-D)."""
    kind = data_kind(tuple(gen.shape[1:]), suite.dataset)
    if kind == IMAGE:
        return suite.classes(gen)
    if kind == STACKED:
        result = suite.stacked_modes(gen)
        result["modes_captured"] = result["modes_covered"]  # one key for every kind of data
        return result
    if kind == POINTS:
        return suite.toy_modes(gen)
    if gen.ndim == 2 and gen.shape[1] == 2:
        raise ValueError(
            "modes of 2-D samples need the toy dataset as reference: "
            "--reference ring or --reference grid"
        )
    raise ValueError(
        f"'modes' needs images (N, 28, 28), (N, 1|3, 28, 28) or 2-D points; "
        f"got samples of shape {gen.shape}"
    )
