"""The embedded database on a read-only or full file system: the error says so (a storage
failure the API answers with a 503), it never calls the file foreign, and writes work again
on the same connection once space returns."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.storage_errors import storage_failure
from chalicelib.stores.embedded.database import Database

from .helpers import entry


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (these tests need root to mount it)."""
    path = tmp_path / "volume"
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert mounted.returncode == 0, f"mounting a tmpfs needs root: {mounted.stderr}"
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_database_on_a_read_only_file_system_is_not_called_foreign(volume: Path) -> None:
    from chalicelib.stores import embedded
    from chalicelib.stores.embedded.settings import SqliteSettings

    path = volume / "state" / "pipeguard.db"
    written = Database(path)
    SqliteSettings(written).put("acme", "notifications", {"emails": []}, entry("acme"))
    written.close()  # the kernel refuses to remount while a file is open for writing
    subprocess.run(["mount", "-o", "remount,ro", str(volume)], check=True)
    with pytest.raises(sqlite3.OperationalError) as failed:
        Database(path).connection()
    assert storage_failure(failed.value) in (
        "the state directory is read-only",
        "the database file cannot be opened",
    )
    subprocess.run(["mount", "-o", "remount,rw", str(volume)], check=True)
    stores = embedded.build(str(path))
    assert stores.settings.get("acme", "notifications") == {"emails": []}


def test_a_full_disk_fails_the_write_and_the_next_one_succeeds(volume: Path) -> None:
    database = Database(volume / "state" / "pipeguard.db")
    with database.write() as conn:
        conn.execute("CREATE TABLE notes (body BLOB)")
    filler = volume / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    size = 1 << 20
    while size:
        try:
            os.write(fd, b"\0" * size)
        except OSError:
            size //= 2
    os.close(fd)
    with pytest.raises(sqlite3.OperationalError) as failed, database.write() as conn:
        for _ in range(50):
            conn.execute("INSERT INTO notes VALUES (?)", (os.urandom(4000),))
    assert storage_failure(failed.value) == "the disk is full"
    assert database.connection().execute("SELECT count(*) FROM notes").fetchone() == (0,)
    filler.unlink()
    with database.write() as conn:
        conn.execute("INSERT INTO notes VALUES (?)", (b"after",))
    assert database.connection().execute("SELECT count(*) FROM notes").fetchone() == (1,)
