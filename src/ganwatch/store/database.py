"""The store's SQLite database: where it lives, its schema, and one connection's plumbing.

Several training processes may write one store at the same time (say, a sweep started in
parallel) and none of their rows may be lost. Hence: WAL mode (readers never block the
writer), a generous ``busy_timeout`` so a writer waits for the lock instead of failing, and
short ``BEGIN IMMEDIATE`` transactions, which take the write lock up front so two writers
never deadlock upgrading a read lock. Each store object owns one connection.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_STORE = "ganwatch_runs"
STORE_ENV = "GANWATCH_STORE"
DB_NAME = "runs.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 60.0


StrPath = str | os.PathLike[str]

# Step metrics are keyed (run_id, key, step) rather than (run_id, step, key): the same
# uniqueness, but the index then serves the common read, "one key's series in step order".
_SCHEMA = (
    """
    CREATE TABLE runs (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        name     TEXT NOT NULL,
        status   TEXT NOT NULL,
        config   TEXT NOT NULL,  -- JSON object
        created  REAL NOT NULL,  -- Unix time
        updated  REAL NOT NULL,
        finished REAL            -- NULL until the run reaches a terminal status
    )
    """,
    "CREATE INDEX runs_by_name ON runs (name, id)",
    # value is NULL for NaN: SQLite has no NaN and would store NULL anyway.
    """
    CREATE TABLE step_metrics (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step   INTEGER NOT NULL,
        key    TEXT NOT NULL,
        value  REAL,
        PRIMARY KEY (run_id, key, step)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE epoch_metrics (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        epoch  INTEGER NOT NULL,
        step   INTEGER NOT NULL,
        key    TEXT NOT NULL,
        value  REAL,
        PRIMARY KEY (run_id, epoch, key)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE events (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step    INTEGER,
        time    REAL NOT NULL,
        kind    TEXT NOT NULL,
        payload TEXT NOT NULL  -- JSON object
    )
    """,
    "CREATE INDEX events_by_run ON events (run_id, kind, id)",
    """
    CREATE TABLE images (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        kind   TEXT NOT NULL,
        epoch  INTEGER NOT NULL,
        step   INTEGER NOT NULL,
        path   TEXT NOT NULL,  -- relative to the store root, '/'-separated
        PRIMARY KEY (run_id, kind, epoch)
    ) WITHOUT ROWID
    """,
)


_D = TypeVar("_D", bound="Database")


class StoreVersionError(RuntimeError):
    """The database was written by a newer ganwatch whose schema this version cannot read."""


def resolve_store_root(root: StrPath | None = None) -> Path:
    """Return the store folder: the argument, else ``$GANWATCH_STORE``, else ``./ganwatch_runs``.

    The result is absolute so that messages name the real place and a later ``chdir`` does
    not move the store.
    """
    if root is None or str(root) == "":
        root = os.environ.get(STORE_ENV) or DEFAULT_STORE
    return Path(root).expanduser().absolute()


class Database:
    """One connection to a store's database, created and migrated when writable."""

    def __init__(self, root: StrPath | None = None, *, read_only: bool = False) -> None:
        """Open (and with ``read_only=False`` create) the store at ``root``.

        ``read_only=True`` is for viewers such as the dashboard: SQLite itself then refuses
        every write (a ``mode=ro`` connection), nothing is created, and a missing store is a
        :class:`FileNotFoundError` instead of a new empty one. It still sees the rows that a
        training process commits meanwhile (WAL readers never block the writer).
        """
        self.root: Path = resolve_store_root(root)
        self.read_only: bool = read_only
        self.db_path: Path = self.root / DB_NAME
        if read_only:
            if not self.db_path.is_file():
                raise FileNotFoundError(f"no run store at {self.root} ({DB_NAME} is missing)")
            target, uri = f"{self.db_path.as_uri()}?mode=ro", True
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            target, uri = str(self.db_path), False
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so every write transaction
        # is exactly as long as we intend and starts with BEGIN IMMEDIATE.
        self._conn = sqlite3.connect(
            target,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
            uri=uri,
        )
        # One connection shared by threads (a trainer and a dashboard thread, say) must not
        # interleave statements of two transactions.
        self._lock = threading.RLock()
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            if read_only:
                self._check_readable_or_immutable()
                return
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._enable_wal()
            # NORMAL is durable against a crashing process in WAL mode; only a power cut can
            # lose the last commits. It spares an fsync on each of many small transactions.
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._ensure_schema()
        except BaseException:
            self._conn.close()
            raise

    # -- connection plumbing -------------------------------------------------------------

    def _enable_wal(self) -> None:
        """Switch to WAL, retrying: the switch can report "locked" without honouring the
        busy timeout when several processes open a fresh store at the same moment."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL").fetchone()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _check_readable_or_immutable(self) -> None:
        """Check the schema; a WAL store in a folder this user cannot write (a colleague's, a
        CI artefact) cannot be opened ``mode=ro`` (SQLite needs its -shm file), so it is read
        as an immutable snapshot instead."""
        try:
            self._check_readable_schema()
        except sqlite3.OperationalError:
            self._conn.close()
            self._conn = sqlite3.connect(
                f"{self.db_path.as_uri()}?mode=ro&immutable=1",
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
                uri=True,
            )
            self._check_readable_schema()

    def _check_readable_schema(self) -> None:
        """A read-only store cannot be migrated, only refused when it is newer than us."""
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self.db_path} has schema version {version}, but this ganwatch reads "
                f"up to {SCHEMA_VERSION}; upgrade ganwatch"
            )
        if version < SCHEMA_VERSION:
            raise FileNotFoundError(f"no run store at {self.root} ({DB_NAME} has no tables yet)")

    def _ensure_schema(self) -> None:
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            if version > SCHEMA_VERSION:
                raise StoreVersionError(
                    f"{self.db_path} has schema version {version}, but this ganwatch reads "
                    f"up to {SCHEMA_VERSION}; upgrade ganwatch"
                )
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; rolled back if the body raises."""
        if self.read_only:
            raise PermissionError(f"the store at {self.root} is open read-only")
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # Also covers a failed COMMIT, so the connection is never left mid-transaction.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the connection; the store object cannot be used afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self: _D) -> _D:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
