"""``ganwatch metrics``: one metric of a set of samples against a whole reference, as JSON.

The Monitor measures every metric after epochs (:meth:`MetricSuite.values`); the command line
asks for one at a time. Both go through :class:`~ganwatch.metrics.suite.MetricSuite`, so they
scale inputs, pick classifiers and name keys the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganwatch.metrics.inputs import IMAGE, POINTS, STACKED, Samples, data_kind, jsonable
from ganwatch.metrics.suite import METRIC_NAMES, NDB_BINS, PRDC_K, MetricSuite


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
    suite.ndb_inits = 10  # the reference implementation's k-means starts
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
