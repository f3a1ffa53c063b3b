"""One SQLite file shared by the threads of a process: a connection per thread, and write
transactions that take the write lock up front (`BEGIN IMMEDIATE`: no lock upgrade, no
deadlock between two writers).

A thread may group its writes (`ThreadConnections.grouped`): the first write of the group
begins one transaction, every write in it is a savepoint of that transaction (rolled back
alone if it raises), and the group commits them together when it ends. Reads before the first
write take no lock, so a group holds the write lock only from its first write on."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager


class ThreadConnections:
    """The calling thread's connection, made by `open_connection` on its first use."""

    def __init__(self, open_connection: Callable[[], sqlite3.Connection]) -> None:
        self._open = open_connection
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close the calling thread's connection (others close with their thread)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction on the thread's connection, or a savepoint of its group's."""
        if getattr(self._local, "grouping", False):
            return _savepoint(self.get())
        return immediate(self.get())

    @contextmanager
    def grouped(self) -> Iterator[None]:
        """Commit the thread's writes in the block as one transaction when it returns; roll
        them all back if it raises. Groups do not nest."""
        if getattr(self._local, "grouping", False):
            raise RuntimeError("the thread's writes are grouped already")
        self._local.grouping = True
        try:
            yield
        except BaseException:
            conn = getattr(self._local, "conn", None)
            if conn is not None and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn = getattr(self._local, "conn", None)
            if conn is not None and conn.in_transaction:
                conn.execute("COMMIT")
        finally:
            self._local.grouping = False


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on `conn` (opened with `isolation_level=None`): committed if the
    block returns, rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A savepoint of the group's transaction (begun by the group's first write): released if
    the block returns, rolled back alone if it raises."""
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")
    conn.execute("SAVEPOINT grouped_write")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # a failed COMMIT-class error may have ended it already
            conn.execute("ROLLBACK TO grouped_write")
            conn.execute("RELEASE grouped_write")
        raise
    conn.execute("RELEASE grouped_write")
