"""Blobs as files: `<state dir>/blobs/<tenant>/<path>` for the key `tenants/<tenant>/<path>`.

A write goes to a temporary file in the blob's own directory (`.<name>.<random>`, a name no key
can have), is flushed to disk, and is renamed over the blob (`os.replace`, atomic on one file
system), then the directory is flushed: a reader sees the old bytes or the new ones, and a
process killed before the rename leaves only a temporary file no key reaches. A put of the bytes
a blob already holds writes nothing. Artifact bodies
are content-addressed by their keys (`artifacts/<sha256>`), so a body is written once however
often it is submitted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from chalicelib.stores import keys


class FileBlobs:
    """`BlobStore` on a directory of the state dir (owner-only, like the database)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()

    def _path(self, tenant_id: str, key: str) -> Path:
        path = self.root.joinpath(tenant_id, *keys.blob_parts(tenant_id, key))
        if not path.is_relative_to(self.root / tenant_id):  # the parts checks make this hold
            raise ValueError(f"blob key {key!r} leaves the tenant's directory")
        return path

    def put(
        self, tenant_id: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        path = self._path(tenant_id, key)
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
            return self._path(tenant_id, key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def size(self, tenant_id: str, key: str) -> int | None:
        path = self._path(tenant_id, key)
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
