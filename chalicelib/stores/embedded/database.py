"""The embedded database: one SQLite file in WAL mode, migrated to the schema when opened.

Each thread gets its own connection (so the local server's threads share one `Database`), every
write is one `BEGIN IMMEDIATE` transaction (the write lock is taken up front: no upgrade, no
deadlock) or a savepoint of the thread's grouped transaction (`grouped`), and a writer waits up
to `BUSY_TIMEOUT_MS` for another. `PRAGMA user_version` is the schema version: the migrations
in `schema.MIGRATIONS` after it are applied in order, each in its own transaction, so a file of
an older version is upgraded and never wiped. A file that is not a database, belongs to another
application or was written by a newer version is refused before anything is written to it.
The file (and so its WAL) is readable by its owner only: it holds key hashes and every
tenant's settings.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from contextlib import AbstractContextManager
from pathlib import Path

from chalicelib.sqlite_threads import ThreadConnections
from chalicelib.stores.embedded.schema import APPLICATION_ID, MIGRATIONS

BUSY_TIMEOUT_MS = 10_000
PAGE_SIZE = 8192  # bytes; SQLite's default 4096 spills WITHOUT ROWID rows over ~1 KB
SQLITE_NOTADB = 26


class DatabaseRefused(RuntimeError):
    """The file cannot be used as the embedded database (nothing was written to it)."""


class Database:
    """The embedded database file, shared by the threads of one process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) in ("", ":memory:"):
            raise ValueError("the embedded database needs a file: each thread opens its own")
        self._connections = ThreadConnections(self._open)
        self._lock = threading.Lock()
        self._migrated = False

    def connection(self) -> sqlite3.Connection:
        """The calling thread's connection (opened, and the file migrated, on first use)."""
        return self._connections.get()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # owner only; SQLite gives its WAL the same
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            with self._lock:
                if not self._migrated:
                    migrate(conn, self.path)
                    self._migrated = True
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a killed process loses nothing
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction: committed if the block returns, rolled back if it raises."""
        return self._connections.write()

    def grouped(self) -> AbstractContextManager[None]:
        """The calling thread's writes in the block committed together (see `sqlite_threads`)."""
        return self._connections.grouped()

    def close(self) -> None:
        """Close the calling thread's connection (others close with their thread)."""
        self._connections.close()


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the file to the newest schema version, or raise `DatabaseRefused`."""
    # A new file gets pages big enough that a finding (~1 KiB of JSON, in a WITHOUT ROWID
    # table) needs no overflow page of its own; an existing file keeps its page size.
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.DatabaseError as exc:
        # A full or read-only disk is not a foreign file: that error goes to the caller.
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF != SQLITE_NOTADB:
            raise
        raise DatabaseRefused(f"{path} is not a SQLite database ({exc}): move it away") from None
    try:
        version = _refuse_foreign(conn, path)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")  # kept by the file: every connection uses it
    for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if schema_version(conn) >= number:  # another process migrated meanwhile
                conn.execute("ROLLBACK")
                continue
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _refuse_foreign(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version; `DatabaseRefused` unless the file is empty or this
    application's, at a known version."""
    application = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = schema_version(conn)
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application not in (0, APPLICATION_ID) or (application == 0 and tables):
        raise DatabaseRefused(f"{path} is another application's database: move it away")
    if version > len(MIGRATIONS):
        raise DatabaseRefused(
            f"{path} is at schema version {version}, newer than this release knows "
            f"({len(MIGRATIONS)}): run the release that wrote it, or a newer one"
        )
    return version


def inspect(path: str | Path) -> int:
    """The schema version of the database file at `path`, read without writing anything (not
    even a lock or a WAL index), or `DatabaseRefused`. What the file's WAL holds is not read:
    opening the database checks again."""
    uri = Path(path).absolute().as_uri() + "?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise DatabaseRefused(f"{path} cannot be opened ({exc})") from None
    try:
        return _refuse_foreign(conn, Path(path))
    except sqlite3.DatabaseError as exc:
        raise DatabaseRefused(f"{path} is not a SQLite database ({exc}): move it away") from None
    finally:
        conn.close()
