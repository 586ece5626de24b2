"""The verdicts the diagnosis gives, with what each means and how the dashboard shows it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ganwatch.catalog._table import by_name


@dataclass(frozen=True)
class VerdictSpec:
    """One verdict kind. ``failure``: a kind ``--stop-on`` may stop on."""

    name: str
    label: str
    note: str
    color: str
    failure: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


VERDICTS: dict[str, VerdictSpec] = by_name(
    (
        VerdictSpec("healthy", "Healthy", "training as it should", "#2b8a3e"),
        VerdictSpec(
            "mode_collapse", "Mode collapse", "the generator covers few modes", "#c2255c", True
        ),
        VerdictSpec(
            "convergence_failure",
            "Convergence failure",
            "training is not reaching the data",
            "#e8590c",
            True,
        ),
        VerdictSpec("divergence", "Divergence", "losses or gradients blow up", "#c92a2a", True),
        VerdictSpec("warming_up", "Warming up", "too early to judge", "#868e96"),
    )
)

VERDICT_KINDS: tuple[str, ...] = tuple(VERDICTS)
#: The kinds that mean training has gone wrong (what ``--stop-on`` accepts).
FAILURE_KINDS: tuple[str, ...] = tuple(name for name, v in VERDICTS.items() if v.failure)
