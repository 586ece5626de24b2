"""A run's statuses and the lifecycle events the Monitor records."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ganwatch.catalog._table import by_name


@dataclass(frozen=True)
class StatusSpec:
    """One run status. ``terminal``: the run will not continue, so it gets a finished time
    (an interrupted run can be resumed, so it is not terminal). ``event``: the lifecycle
    event that ends a run with this status (None for ``running``)."""

    name: str
    terminal: bool
    event: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


STATUSES: dict[str, StatusSpec] = by_name(
    (
        StatusSpec("running", False, None),
        StatusSpec("finished", True, "finished"),
        StatusSpec("interrupted", False, "interrupted"),
        StatusSpec("failed", True, "failed"),
        StatusSpec("diverged", True, "diverged"),
        StatusSpec("stopped", True, "stopped"),
    )
)
TERMINAL_STATUSES = frozenset(name for name, s in STATUSES.items() if s.terminal)

#: Events a run's timeline holds: how it began, how it ended, and each verdict change.
EVENT_KINDS: tuple[str, ...] = (
    "started",
    "resumed",
    *(s.event for s in STATUSES.values() if s.event),
    "verdict",
)
