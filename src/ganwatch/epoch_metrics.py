"""The metrics a Monitor measures after an epoch, prepared once per reference.

Everything that depends only on the real data (the classifier, its features of the reference,
their FID statistics, the NDB bins, the class distribution, the diversity of real batches) is
computed once, when the first epoch ends; each later epoch pays only for its own samples.
That is what keeps a per-epoch evaluation cheap enough to run while training.

Keys written (all ``metric/...``): for 1-channel 28x28 images ``classes_covered``,
``classes``, ``class_kl``, ``precision``, ``recall``, ``density``, ``coverage``, ``fid``,
``ndb_k`` (every ``ndb_every`` evaluations) and ``diversity``; for 2-D toy data
``modes_captured``, ``modes``, ``high_quality``, ``mode_kl``; for Stacked MNIST (3x28x28)
``stacked_modes`` and ``stacked_kl`` (VEEGAN/PacGAN's 1,000-mode count and KL, each channel
classified by the MNIST classifier) and ``diversity``; for anything else, when given
as (N, D) rows, ``precision``, ``recall``, ``density``, ``coverage``, ``fid`` and ``diversity``
on the rows as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

REFERENCE_LIMIT = 10_000  # real samples kept for features, bins and statistics
DIVERSITY_BATCH = 64  # the fixed-noise grid's size: diversity compares batches of this size
NDB_BINS = 100


def _as_cpu_float(x: Any) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    x = x.detach().to("cpu")
    if x.dtype == torch.uint8:
        return x.float() / 127.5 - 1.0
    return x.float()


def data_kind(sample_shape: tuple[int, ...]) -> str:
    """'image' (1x28x28, or 28x28), 'stacked' (3x28x28, Stacked MNIST), 'points' (2-D), or
    'rows' (anything else, flattened)."""
    if sample_shape in ((1, 28, 28), (28, 28)):
        return "image"
    if sample_shape == (3, 28, 28):
        return "stacked"
    if sample_shape == (2,):
        return "points"
    return "rows"


@dataclass
class ReferenceMetrics:
    """Reference-side state for the epoch metrics of one kind of data."""

    kind: str
    reference: torch.Tensor  # (N, ...) float on the CPU, at most REFERENCE_LIMIT rows
    toy_name: str | None = None
    data_dir: str | None = None
    ndb_every: int = 5
    _state: dict[str, Any] = field(default_factory=dict)
    _evaluations: int = 0

    @classmethod
    def prepare(
        cls,
        reference: Any,
        *,
        toy_name: str | None = None,
        data_dir: str | None = None,
        ndb_every: int = 5,
        seed: int = 0,
    ) -> ReferenceMetrics:
        """Keep up to REFERENCE_LIMIT reference rows (a seeded random subset when larger)."""
        data = _as_cpu_float(reference)
        if len(data) > REFERENCE_LIMIT:
            rows = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
            data = data[rows[:REFERENCE_LIMIT]]
        kind = data_kind(tuple(data.shape[1:]))
        if kind == "points" and toy_name is None:
            kind = "rows"  # no known modes to count: treat the points as plain features
        return cls(kind, data, toy_name, data_dir, ndb_every)

    def measure(self, samples: Any) -> tuple[dict[str, float], Any]:
        """Metric values for ``samples`` (N, ...) and the NDB result when NDB ran (else None)."""
        x = _as_cpu_float(samples)
        self._evaluations += 1
        if self.kind == "points":
            return self._toy(x), None
        values: dict[str, float] = {"metric/diversity": self._diversity(x)}
        if self.kind == "stacked":
            return {**values, **self._stacked(x)}, None
        features = self._features(x)
        values.update(self._prdc_fid(features))
        ndb = None
        if self.kind == "image":
            values.update(self._classes(x))
            if (self._evaluations - 1) % self.ndb_every == 0:
                ndb = self._bins().evaluate(x.reshape(len(x), -1))
                values["metric/ndb_k"] = float(ndb.ndb_k)
        return values, ndb

    # -- reference-side state, computed on first use ------------------------------------
    def _cached(self, key: str, make):
        if key not in self._state:
            self._state[key] = make()
        return self._state[key]

    def _classifier(self):
        from ganwatch.metrics.classifier import load_classifier

        return self._cached("classifier", lambda: load_classifier("mnist", data_dir=self.data_dir))

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind != "image":
            return x.reshape(len(x), -1)
        from ganwatch.metrics.classifier import classifier_features

        return classifier_features(self._classifier(), x.reshape(-1, 1, 28, 28))

    def _reference_features(self) -> torch.Tensor:
        return self._cached("features", lambda: self._features(self.reference))

    def _bins(self):
        from ganwatch.metrics.ndb import NDBBins

        return self._cached(
            "bins",
            lambda: NDBBins.fit(self.reference.reshape(len(self.reference), -1), bins=NDB_BINS),
        )

    # -- per-epoch measurements ----------------------------------------------------------
    def _diversity(self, x: torch.Tensor) -> float:
        from ganwatch.metrics.diversity import diversity, reference_diversity

        n = min(DIVERSITY_BATCH, len(x), len(self.reference))
        ref = self._cached(
            f"diversity{n}",
            lambda: reference_diversity(self.reference.reshape(len(self.reference), -1), n=n),
        )
        return float(diversity(x[:n].reshape(n, -1), ref))

    def _prdc_fid(self, features: torch.Tensor) -> dict[str, float]:
        from ganwatch.metrics.fid import feature_statistics, frechet_distance
        from ganwatch.metrics.prdc import prdc

        real = self._reference_features()
        values = {f"metric/{k}": float(v) for k, v in prdc(real, features, k=5).items()}
        if len(features) >= 2:
            mu, sigma = self._cached("stats", lambda: feature_statistics(real))
            values["metric/fid"] = frechet_distance(mu, sigma, *feature_statistics(features))
        return values

    def _classes(self, x: torch.Tensor) -> dict[str, float]:
        from ganwatch.metrics.classes import class_metrics
        from ganwatch.metrics.classifier import classifier_probs

        model = self._classifier()
        ref_classes = self._cached(
            "classes", lambda: classifier_probs(model, self.reference).argmax(dim=1).numpy()
        )
        result = class_metrics(classifier_probs(model, x.reshape(-1, 1, 28, 28)), ref_classes)
        return {
            "metric/classes_covered": float(result["classes_covered"]),
            "metric/classes": float(len(result["class_histogram"])),
            "metric/class_kl": float(result["class_kl"]),
        }

    def _stacked(self, x: torch.Tensor) -> dict[str, float]:
        from ganwatch.metrics.classes import stacked_mnist_modes

        result = stacked_mnist_modes(self._classifier(), x)
        return {
            "metric/stacked_modes": float(result["modes_covered"]),
            "metric/stacked_kl": float(result["mode_kl"]),
        }

    def _toy(self, x: torch.Tensor) -> dict[str, float]:
        from ganwatch.data.toy import mode_centres, mode_sigma
        from ganwatch.metrics.toy import toy_mode_metrics

        centres = mode_centres(self.toy_name)
        result = toy_mode_metrics(x.numpy(), centres, mode_sigma(self.toy_name))
        return {
            "metric/modes_captured": float(result["modes_captured"]),
            "metric/modes": float(len(centres)),
            "metric/high_quality": float(result["high_quality"]),
            "metric/mode_kl": float(result["mode_kl"]),
        }
