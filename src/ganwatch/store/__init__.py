"""The run store: one SQLite file for metrics and events, PNG files for pictures.

``database`` is where the store lives and its connection's plumbing; ``runs`` is what is
recorded of a run and how it is read back (:class:`RunStore`).
"""

from ganwatch.store.database import (
    BUSY_TIMEOUT_S,
    DB_NAME,
    DEFAULT_STORE,
    SCHEMA_VERSION,
    STORE_ENV,
    StoreVersionError,
    StrPath,
    resolve_store_root,
)
from ganwatch.store.runs import RunInfo, RunNotFoundError, RunStore

__all__ = [
    "BUSY_TIMEOUT_S",
    "DB_NAME",
    "DEFAULT_STORE",
    "SCHEMA_VERSION",
    "STORE_ENV",
    "RunInfo",
    "RunNotFoundError",
    "RunStore",
    "StoreVersionError",
    "StrPath",
    "resolve_store_root",
]
