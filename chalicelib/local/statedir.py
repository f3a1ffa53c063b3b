"""The embedded stack's state directory: one stack at a time, secrets readable by the owner only.

A stack holds an exclusive `flock` on `stack.lock` for as long as it runs, so a second stack on
the same directory refuses to start before it changes anything, and tools can tell whether a
stack is running there. Files that hold keys are written 0600 (whatever the umask) by atomic
rename, and the directory is kept 0700.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from pathlib import Path

from chalicelib.config import DATABASE_NAME as DATABASE
from chalicelib.config import SEARCH_INDEX_NAME as SEARCH_INDEX
from chalicelib.stores.embedded import BLOB_DIRECTORY as BLOBS

LOCK_NAME = "stack.lock"


class StateDirBusy(RuntimeError):
    """Another running stack holds the state directory."""

    def __init__(self, state_dir: Path, pid: int | None) -> None:
        holder = f"the stack with pid {pid}" if pid else "another stack"
        super().__init__(
            f"{state_dir} is in use by {holder}: stop it first, or give this one "
            "another --state-dir"
        )
        self.state_dir = state_dir
        self.pid = pid


class StateDirUnusable(OSError):
    """The state directory, or a file in it, is not this application's (nothing was changed)."""


_SQLITE_MAGIC = b"SQLite format 3\0"


def check(state_dir: Path) -> None:
    """`StateDirUnusable` naming the file and what to do if the state directory is a file, its
    `blobs` is not a folder, or its database or search index is not this application's SQLite
    file. Reads only: nothing is created, locked or changed."""
    move = "move it away (or give the stack another --state-dir)"
    if state_dir.exists() and not state_dir.is_dir():
        raise StateDirUnusable(f"the state directory {state_dir} is a file, not a folder: {move}")
    blobs = state_dir / BLOBS
    if blobs.exists() and not blobs.is_dir():
        raise StateDirUnusable(f"{blobs} is a file; it must be the folder of stored blobs: {move}")
    for name in (DATABASE, SEARCH_INDEX):
        path = state_dir / name
        if path.exists() and not path.is_file():
            raise StateDirUnusable(f"{path} is not a file: {move}")
    database = state_dir / DATABASE
    if database.is_file() and database.stat().st_size:
        from chalicelib.stores.embedded.database import DatabaseRefused, inspect

        try:
            inspect(database)
        except DatabaseRefused as exc:
            raise StateDirUnusable(f"{exc} (or give the stack another --state-dir)") from None
    index = state_dir / SEARCH_INDEX
    if index.is_file() and index.stat().st_size:
        with index.open("rb") as head:
            if head.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                raise StateDirUnusable(
                    f"{index} is not a SQLite database: move it away; the search index is "
                    "rebuilt from the database by `python -m chalicelib.ops --local reindex`"
                )


def prepare(state_dir: Path) -> None:
    """Check the directory (`StateDirUnusable`), then create it (0700), or make an existing one
    of ours 0700."""
    check(state_dir)
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if state_dir.stat().st_uid == os.getuid():
        state_dir.chmod(0o700)


class StateLock:
    """The exclusive lock a running stack holds on its state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise StateDirBusy naming the holder; records our pid."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        for attempt in range(3):  # `holder()` takes a shared lock for an instant
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == 2:
                    pid = _read_pid(fd)
                    os.close(fd)
                    raise StateDirBusy(self.path.parent, pid) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def holder(state_dir: Path) -> int | None:
    """The pid of the stack running on `state_dir` (0 if not yet recorded), None if none."""
    try:
        fd = os.open(state_dir / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_pid(fd) or 0
    else:
        return None
    finally:
        os.close(fd)  # also drops the shared lock taken to test


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` as a 0600 file, atomically (a reader never sees half of it)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
