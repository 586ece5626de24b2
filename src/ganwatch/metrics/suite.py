"""One front for every metric: samples measured against a reference prepared once.

Everything that depends only on the real data (the classifier, its features of the reference,
their FID statistics, the NDB bins, the class distribution, the diversity of real batches) is
computed on first need and kept, so each later measurement pays only for its own samples. The
Monitor calls :meth:`MetricSuite.measure` after epochs; ``ganwatch metrics`` calls one metric
(:func:`compute`). Both read the keys, labels and directions of ``ganwatch.catalog.METRICS``.

What is measured, by kind of data (:func:`~ganwatch.metrics.inputs.data_kind`): 1-channel
28x28 images get classes (``classes_covered``, ``classes``, ``class_kl``), precision, recall,
density, coverage and FID in the classifier's feature space, NDB on pixels (every
``with_ndb`` measurements) and diversity; Stacked MNIST (3x28x28) gets its 1,000-mode count
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
from ganwatch.metrics.bands import Bands, measure_bands
from ganwatch.metrics.inputs import IMAGE, POINTS, STACKED, Samples, as_float, data_kind, jsonable

REFERENCE_LIMIT = 10_000  # real samples the Monitor keeps for features, bins and statistics
HELD_OUT_LIMIT = 8_192  # real samples kept apart from the reference, for the bands
DIVERSITY_BATCH = 64  # the fixed-noise grid's size: diversity compares batches of this size
NDB_BINS = 100
PRDC_K = 5
IMPROVED_PR_K = 3
MIN_BAND_SAMPLES = 256  # held-out real samples below which no band is measured
GROUPS = 10  # k-means groups of the reference's features when no classifier fits the data
#: What ``ganwatch metrics`` computes, one at a time (declared in the catalog).
METRIC_NAMES = METRIC_FAMILIES


@dataclass
class View:
    """One set of samples as the metrics read it, each derived form computed once: the
    samples, their features, class probabilities and realism groups (None where the kind of
    data has none)."""

    x: torch.Tensor
    features: torch.Tensor | None = None
    probs: torch.Tensor | None = None
    groups: torch.Tensor | None = None

    def rows(self, index: Any) -> View:
        def pick(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t[index]

        return View(self.x[index], pick(self.features), pick(self.probs), pick(self.groups))


@dataclass
class MetricSuite:
    """Reference-side state for measuring samples of one kind against one reference."""

    kind: str
    reference: torch.Tensor  # (N, ...) float on the CPU
    held_out: torch.Tensor | None = None  # real rows outside the reference, for the bands
    dataset: str | None = None
    data_dir: str | None = None
    seed: int = 0
    _cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def prepare(
        cls,
        reference: Any,
        *,
        dataset: str | None = None,
        data_dir: str | None = None,
        seed: int = 0,
        limit: int | None = REFERENCE_LIMIT,
        held_out: int = HELD_OUT_LIMIT,
    ) -> MetricSuite:
        """Keep up to ``limit`` reference rows (a seeded random subset when there are more)
        and up to ``held_out`` other rows for the bands: those beyond the reference, or a
        third of the data when all of it would fit in the reference (``held_out=0``: none).
        ``dataset`` names the data when known: it picks the classifier and the toy modes."""
        data = as_float(reference)
        order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
        spare = min(held_out, len(data) // 3)
        if limit is None or (len(data) <= limit and spare == 0):
            kept, pool = data, None  # the whole reference, in its own order
        elif len(data) > limit:
            kept, pool = data[order[:limit]], data[order[limit : limit + held_out]]
        else:
            kept, pool = data[order[spare:]], data[order[:spare]]
        if pool is not None and len(pool) == 0:
            pool = None
        kind = data_kind(tuple(data.shape[1:]), dataset)
        return cls(kind, kept, pool, dataset, data_dir, seed)

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

    def view(self, samples: Any) -> View:
        """``samples`` with what the metrics of this kind of data read of them."""
        x = as_float(samples)
        if x.shape[1:].numel() != self.reference.shape[1:].numel() or x.dim() < 2:
            raise ValueError(
                f"samples of shape {tuple(x.shape[1:])} cannot be measured against a "
                f"reference of shape {tuple(self.reference.shape[1:])}: they must be the same "
                "kind of data"
            )
        if self.kind in (POINTS, STACKED):
            return View(x)
        features = self.features(x)
        if self.kind != IMAGE:
            return View(x, features, groups=self._nearest_group(features))
        from ganwatch.metrics.classifier import classifier_probs

        probs = classifier_probs(self.classifier(), x.reshape(-1, 1, 28, 28))
        return View(x, features, probs, probs.argmax(dim=1))

    def reference_view(self) -> View:
        return self._cached("reference", lambda: self.view(self.reference))

    def reference_features(self) -> torch.Tensor:
        return self.reference_view().features

    def _group_centres(self) -> torch.Tensor:
        """k-means centres of the reference's features: the realism groups of data without
        a classifier."""
        from ganwatch.metrics.kmeans import kmeans

        def fit() -> torch.Tensor:
            features = self.features(self.reference)
            k = max(1, min(GROUPS, len(features) // 50))
            return kmeans(features, k, n_init=1, seed=self.seed).centres

        return self._cached("centres", fit)

    def _nearest_group(self, features: torch.Tensor) -> torch.Tensor:
        from ganwatch.metrics.kmeans_seed import assign

        return assign(features, self._group_centres())[0]

    def bins(self, bins: int = NDB_BINS):
        from ganwatch.metrics.ndb import NDBBins

        flat = self.reference.reshape(len(self.reference), -1)
        return self._cached(f"bins{bins}", lambda: NDBBins.fit(flat, bins=bins, seed=self.seed))

    def _typicality(self):
        from ganwatch.metrics.realism import Typicality

        def fit():
            ref = self.reference_view()
            count = ref.probs.shape[1] if ref.probs is not None else len(self._group_centres())
            images = ref.x if self.kind == IMAGE else None
            return Typicality.fit(ref.features, ref.groups, count, images)

        return self._cached("typicality", fit)

    # -- one metric each --------------------------------------------------------------
    def ndb(self, samples: Any, bins: int = NDB_BINS):
        """NDB and JS over k-means bins fitted on the reference's pixels (an NDBResult)."""
        x = as_float(samples)
        return self.bins(bins).evaluate(x.reshape(len(x), -1))

    def prdc(self, samples: Any, k: int = PRDC_K) -> dict[str, float]:
        from ganwatch.metrics.prdc import prdc

        return prdc(self.reference_features(), self._features_of(samples), k=k)

    def improved_precision_recall(self, samples: Any, k: int = IMPROVED_PR_K) -> dict:
        from ganwatch.metrics.prdc import improved_precision_recall

        return improved_precision_recall(self.reference_features(), self._features_of(samples), k=k)

    def fid(self, samples: Any) -> float:
        from ganwatch.metrics.fid import feature_statistics, frechet_distance

        mu, sigma = self._cached("stats", lambda: feature_statistics(self.reference_features()))
        return frechet_distance(mu, sigma, *feature_statistics(self._features_of(samples)))

    def kid(self, samples: Any, seed: int = 0) -> dict[str, float]:
        from ganwatch.metrics.fid import kid

        return kid(self.reference_features(), self._features_of(samples), seed=seed)

    def classes(self, samples: Any) -> dict[str, Any]:
        """Class histogram, classes covered, class KL and Inception Score through the
        classifier (1-channel images)."""
        from ganwatch.metrics.classes import class_metrics

        view = samples if isinstance(samples, View) else self.view(samples)
        return class_metrics(view.probs, self.reference_view().probs.argmax(dim=1).numpy())

    def realism(self, samples: Any) -> float:
        """The share of samples as close to real data as real data is (see ``realism``)."""
        view = samples if isinstance(samples, View) else self.view(samples)
        images = view.x if self.kind == IMAGE else None
        return self._typicality().share(view.features, view.groups, images)

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

    def _features_of(self, samples: Any) -> torch.Tensor:
        return samples.features if isinstance(samples, View) else self.features(as_float(samples))

    # -- what the Monitor measures after an epoch -------------------------------------
    def values(self, view: View, with_ndb: bool = True) -> tuple[dict[str, float], Any]:
        """Every ``metric/...`` value of one view of samples, and the NDB result if run."""
        if self.kind == POINTS:
            toy = self.toy_modes(view.x)
            return {
                "metric/modes_captured": float(toy["modes_captured"]),
                "metric/modes": float(len(toy["histogram"])),
                "metric/high_quality": float(toy["high_quality"]),
                "metric/mode_kl": float(toy["mode_kl"]),
            }, None
        values = {"metric/diversity": self.diversity(view.x)}
        if self.kind == STACKED:
            stacked = self.stacked_modes(view.x)
            values["metric/stacked_modes"] = float(stacked["modes_covered"])
            values["metric/stacked_kl"] = float(stacked["mode_kl"])
            return values, None
        values.update({f"metric/{k}": float(v) for k, v in self.prdc(view).items()})
        if len(view.x) >= 2:
            values["metric/fid"] = self.fid(view)
        values["metric/realism"] = self.realism(view)
        if self.kind != IMAGE:
            return values, None
        classes = self.classes(view)
        values["metric/classes_covered"] = float(classes["classes_covered"])
        values["metric/classes"] = float(len(classes["class_histogram"]))
        values["metric/class_kl"] = float(classes["class_kl"])
        ndb = self.ndb(view.x) if with_ndb else None
        if ndb is not None:
            values["metric/ndb_k"] = float(ndb.ndb_k)
        return values, ndb

    def measure(self, samples: Any, with_ndb: bool = True) -> tuple[dict[str, float], Any]:
        """The ``metric/...`` values for ``samples`` and the NDB result when NDB ran."""
        return self.values(self.view(samples), with_ndb)

    # -- what real data itself scores -------------------------------------------------
    def evaluation_count(self, n: int) -> int:
        """How many samples to measure so that real data can be scored at the same count:
        ``n``, or the held-out pool's size when it is smaller (but not below
        MIN_BAND_SAMPLES: a smaller pool gives no bands, and all ``n`` are measured)."""
        if self.held_out is None or len(self.held_out) < MIN_BAND_SAMPLES:
            return n
        return min(n, len(self.held_out))

    def band(self, n: int) -> Bands | None:
        """What held-out real data scores at ``n`` samples (None without a large enough
        held-out pool: the detectors then use absolute thresholds)."""
        n = self.evaluation_count(n)
        if self.held_out is None or len(self.held_out) < max(n, MIN_BAND_SAMPLES):
            return None

        def make() -> Bands:
            pool = self._cached("pool", lambda: self.view(self.held_out))
            return measure_bands(
                lambda rows: self.values(pool.rows(rows))[0], len(pool.x), n, seed=self.seed
            )

        return self._cached(f"band{n}", make)


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
