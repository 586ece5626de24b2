"""The names ganwatch knows, each declared once, with what the rest of the code needs to know.

Losses, stabilisers, model kinds, datasets, recorded keys (with labels and which way is better),
verdict kinds and run statuses live here as plain data, free of torch, so that the command
line, the configuration check, the diagnosis, the sweep summary and the dashboard (through its
API) read the same lists. Where a name has code behind it (a loss, a stabiliser), its spec
names that code as ``"module:attribute"``, loaded on use by :func:`load`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from ganwatch.catalog.datasets import DATASETS, DatasetSpec, Mixture, dataset_spec
from ganwatch.catalog.keys import (
    EPOCH_KEYS,
    EXTRA_STEP_KEYS,
    METRICS,
    STEP_KEYS,
    KeySpec,
    key_spec,
)
from ganwatch.catalog.losses import LOSSES, LossSpec, loss_spec
from ganwatch.catalog.models import MODELS, ModelSpec, model_spec
from ganwatch.catalog.runs import EVENT_KINDS, STATUSES, TERMINAL_STATUSES, StatusSpec
from ganwatch.catalog.stabilizers import STABILIZERS, Knob, StabilizerSpec, stabilizer_spec
from ganwatch.catalog.verdicts import FAILURE_KINDS, VERDICT_KINDS, VERDICTS, VerdictSpec

__all__ = [
    "DATASETS",
    "EPOCH_KEYS",
    "EVENT_KINDS",
    "EXTRA_STEP_KEYS",
    "FAILURE_KINDS",
    "LOSSES",
    "METRICS",
    "MODELS",
    "STABILIZERS",
    "STATUSES",
    "STEP_KEYS",
    "TERMINAL_STATUSES",
    "VERDICTS",
    "VERDICT_KINDS",
    "DatasetSpec",
    "KeySpec",
    "Knob",
    "LossSpec",
    "Mixture",
    "ModelSpec",
    "StabilizerSpec",
    "StatusSpec",
    "VerdictSpec",
    "as_json",
    "dataset_spec",
    "key_spec",
    "load",
    "loss_spec",
    "model_spec",
    "stabilizer_spec",
]


def load(path: str) -> Any:
    """The object a spec names as ``"package.module:attribute"`` (imported on first use)."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def as_json() -> dict[str, Any]:
    """What the dashboard needs to label and colour what it shows: verdicts, statuses, keys."""
    return {
        "verdicts": {v.name: v.to_dict() for v in VERDICTS.values()},
        "statuses": {s.name: s.to_dict() for s in STATUSES.values()},
        "keys": {k.key: k.to_dict() for k in (*STEP_KEYS, *EXTRA_STEP_KEYS, *METRICS)},
        "metric_groups": _metric_groups(METRICS),
    }


def _metric_groups(specs: Iterable[KeySpec]) -> dict[str, str]:
    """group -> its chart title, from the first metric of each group that gives one."""
    out: dict[str, str] = {}
    for spec in specs:
        if spec.group and spec.group_title and spec.group not in out:
            out[spec.group] = spec.group_title
    return out
