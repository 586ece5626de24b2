"""What the Monitor records after an epoch: every ``metric/...`` value of one set of samples.

By kind of data (:func:`~ganwatch.metrics.inputs.data_kind`): 28x28 digits and other
pictures get precision, recall, density, coverage, FID, realism and detail in their feature
space (the dataset's classifier, or the seeded random conv net), pixel realism on their
pixels, classes (``classes_covered``, ``classes``, ``class_kl``) when a classifier or labels
exist, NDB on pixels (when ``with_ndb``) and diversity; Stacked MNIST (3x28x28) gets its
1,000-mode count and KL and diversity; 2-D points of a known mixture get the modes captured,
the share of samples on a mode and the mode KL; anything else, as rows, gets precision,
recall, density, coverage, FID, realism and diversity on the rows as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ganwatch.metrics.inputs import IMAGE, PICTURE, POINTS, STACKED, View

if TYPE_CHECKING:
    from ganwatch.metrics.suite import MetricSuite


def epoch_values(
    suite: MetricSuite, view: View, with_ndb: bool = True
) -> tuple[dict[str, float], Any]:
    """Every ``metric/...`` value of ``view`` against ``suite``'s reference, and the NDB
    result when NDB ran (None otherwise)."""
    if suite.kind == POINTS:
        toy = suite.toy_modes(view)
        return {
            "metric/modes_captured": float(toy["modes_captured"]),
            "metric/modes": float(len(toy["histogram"])),
            "metric/high_quality": float(toy["high_quality"]),
            "metric/mode_kl": float(toy["mode_kl"]),
        }, None
    values = {"metric/diversity": suite.diversity(view)}
    if suite.kind == STACKED:
        stacked = suite.stacked_modes(view)
        values["metric/stacked_modes"] = float(stacked["modes_covered"])
        values["metric/stacked_kl"] = float(stacked["mode_kl"])
        return values, None
    values.update({f"metric/{k}": float(v) for k, v in suite.prdc(view).items()})
    if len(view.x) >= 2:
        values["metric/fid"] = suite.fid(view)
    values["metric/realism"] = suite.realism(view)
    if suite.kind in (IMAGE, PICTURE):
        values["metric/detail"] = suite.detail(view)
        values["metric/pixel_realism"] = suite.pixel_realism(view)
    if view.probs is not None:
        classes = suite.classes(view)
        values["metric/classes_covered"] = float(classes["classes_covered"])
        values["metric/classes"] = float(len(classes["class_histogram"]))
        values["metric/class_kl"] = float(classes["class_kl"])
    ndb = suite.ndb(view) if with_ndb and suite.kind in (IMAGE, PICTURE) else None
    if ndb is not None:
        values["metric/ndb_k"] = float(ndb.ndb_k)
    return values, ndb
