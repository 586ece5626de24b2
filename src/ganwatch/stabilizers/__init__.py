"""Stabilisers chosen with ``--stabilize a,b:value,...``: one module each, one class each.

Every stabiliser implements the hooks of :class:`~ganwatch.stabilizers.base.Stabilizer` that
it needs; :func:`build_stabilizers` makes the chosen ones in the catalog's order. Their names,
knobs, defaults and the combinations they refuse are in :mod:`ganwatch.catalog.stabilizers`.
"""

from __future__ import annotations

from ganwatch.catalog import STABILIZERS, load
from ganwatch.config import stabilizer_settings
from ganwatch.stabilizers.base import Stabilizer

__all__ = ["Stabilizer", "build_stabilizers"]


def build_stabilizers(text: str, total_steps: int = 1) -> tuple[Stabilizer, ...]:
    """The stabilisers ``text`` chooses (``"pacgan:4,ema"``), knobs checked, in catalog order."""
    chosen = stabilizer_settings(text)
    built = []
    for name, spec in STABILIZERS.items():
        if name in chosen:
            stabilizer = load(spec.implementation)(chosen[name], total_steps)
            stabilizer.name = name
            built.append(stabilizer)
    return tuple(built)
