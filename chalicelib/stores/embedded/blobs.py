"""Blobs of the embedded backend: rows of the database up to `INLINE_LIMIT` bytes, files above.

A small blob (an artifact body, a report) is a row of the `blobs` table, written in the
caller's transaction: a batch that records a scan stores its report in the same commit, and a
blob is exactly as durable as the rows that refer to it (WAL, `synchronous = NORMAL`: a killed
process loses nothing). A larger one is a file, `<state dir>/blobs/<tenant>/<path>` for the key
`tenants/<tenant>/<path>`, written to a temporary file in the blob's own directory
(`.<name>.<random>`, a name no key can have), flushed to disk and renamed over the blob
(`os.replace`, atomic on one file system), then the directory is flushed: a reader sees the old
bytes or the new ones, and a process killed before the rename leaves only a temporary file no
key reaches. A key is in one place at a time: a put removes what the other place held. A put of
the bytes a blob already holds writes nothing; artifact bodies are content-addressed by their
keys (`artifacts/<sha256>`), so a body is written once however often it is submitted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from chalicelib.stores import keys
from chalicelib.stores.embedded.database import Database

INLINE_LIMIT = 1024 * 1024
"""The largest blob kept in the database, in bytes."""


class EmbeddedBlobs:
    """`BlobStore` on the database's `blobs` table and, for large blobs, a directory."""

    def __init__(self, database: Database, root: str | Path, inline_limit: int | None = None):
        self.database = database
        self.files = FileBlobs(root)
        self._inline_limit = inline_limit

    @property
    def inline_limit(self) -> int:
        """The largest blob this store keeps in the database (`INLINE_LIMIT` unless given)."""
        return INLINE_LIMIT if self._inline_limit is None else self._inline_limit

    def put(
        self, tenant_id: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        path = self.files.path(tenant_id, key)
        if len(data) > self.inline_limit:
            self.files.put(tenant_id, key, data, content_type)
            with self.database.write() as conn:
                conn.execute("DELETE FROM blobs WHERE tenant_id = ? AND key = ?", (tenant_id, key))
            return
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO blobs (tenant_id, key, data) VALUES (?, ?, ?)"
                " ON CONFLICT (tenant_id, key) DO UPDATE SET data = excluded.data"
                " WHERE data != excluded.data",
                (tenant_id, key, data),
            )
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            path.unlink()  # a large version written before; the row is what is read now

    def get(self, tenant_id: str, key: str) -> bytes | None:
        self.files.path(tenant_id, key)  # the key checks, for both places
        row = (
            self.database.connection()
            .execute("SELECT data FROM blobs WHERE tenant_id = ? AND key = ?", (tenant_id, key))
            .fetchone()
        )
        return bytes(row[0]) if row else self.files.get(tenant_id, key)

    def size(self, tenant_id: str, key: str) -> int | None:
        self.files.path(tenant_id, key)
        row = (
            self.database.connection()
            .execute(
                "SELECT length(data) FROM blobs WHERE tenant_id = ? AND key = ?", (tenant_id, key)
            )
            .fetchone()
        )
        return int(row[0]) if row else self.files.size(tenant_id, key)


class FileBlobs:
    """Blobs as files in a directory of the state dir (owner-only, like the database)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()

    def path(self, tenant_id: str, key: str) -> Path:
        """Where the key's file is; `ValueError` for a key that is not the tenant's."""
        path = self.root.joinpath(tenant_id, *keys.blob_parts(tenant_id, key))
        if not path.is_relative_to(self.root / tenant_id):  # the parts checks make this hold
            raise ValueError(f"blob key {key!r} leaves the tenant's directory")
        return path

    def put(
        self, tenant_id: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        path = self.path(tenant_id, key)
        if _holds(path, data):  # e.g. a body submitted again: nothing to write or flush
            return
        _make_directories(path.parent)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        _sync_directory(path.parent)

    def get(self, tenant_id: str, key: str) -> bytes | None:
        try:
            return self.path(tenant_id, key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def size(self, tenant_id: str, key: str) -> int | None:
        path = self.path(tenant_id, key)
        return path.stat().st_size if path.is_file() else None


def _holds(path: Path, data: bytes) -> bool:
    """Whether the blob at `path` holds exactly `data` already (renamed into place, so whole)."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False


def _make_directories(directory: Path) -> None:
    """Create the directory and its missing parents, each readable by its owner only."""
    if directory.is_dir():
        return
    _make_directories(directory.parent)
    with contextlib.suppress(FileExistsError):  # another writer made it meanwhile
        directory.mkdir()
        directory.chmod(0o700)


def _sync_directory(directory: Path) -> None:
    """Flush a directory's entries, so a rename in it survives a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
