"""Building a catalog table: specs by name, with a name given twice refused at import."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


S = TypeVar("S", bound=_HasName)


def by_name(specs: Iterable[S]) -> dict[str, S]:
    """``{spec.name: spec}`` in declaration order; a repeated name is a programming error."""
    table: dict[str, S] = {}
    for spec in specs:
        if spec.name in table:
            raise ValueError(f"catalog: {spec.name!r} is declared twice")
        table[spec.name] = spec
    return table


def lookup(table: dict[str, S], name: str, what: str) -> S:
    """``table[name]``, or a ValueError naming the flag (``what``) and the valid names."""
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"{what}: expected one of {', '.join(table)}, got {name!r}") from None
