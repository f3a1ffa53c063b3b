"""`BlobStore`: round trips, missing keys, overwrites, keys that are not the tenant's or would
leave its directory, and (on the file store) a writer killed before its rename."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.stores.embedded.blobs import EmbeddedBlobs
from chalicelib.stores.embedded.database import Database
from chalicelib.stores.keys import tenant_key
from chalicelib.stores.ports import Stores
from tests.conftest import REPO_ROOT

KEY = tenant_key("acme", "artifacts", "0" * 64)


def test_bytes_read_back_as_written(stores: Stores) -> None:
    body = bytes(range(256)) * 1000
    stores.blobs.put("acme", KEY, body, "text/plain; charset=utf-8")
    assert stores.blobs.get("acme", KEY) == body
    assert stores.blobs.size("acme", KEY) == len(body)
    report = tenant_key("acme", "reports", "scn_1", "0.json")
    stores.blobs.put("acme", report, b"{}", "application/json")
    assert stores.blobs.get("acme", report) == b"{}"
    empty = tenant_key("acme", "uploads", "upl_empty")
    stores.blobs.put("acme", empty, b"")
    assert (stores.blobs.get("acme", empty), stores.blobs.size("acme", empty)) == (b"", 0)


def test_a_missing_key_has_no_bytes_and_no_size(stores: Stores) -> None:
    assert stores.blobs.get("acme", KEY) is None
    assert stores.blobs.size("acme", KEY) is None
    stores.blobs.put("acme", tenant_key("acme", "reports", "scn_1", "0.json"), b"{}")
    for missing in ("reports", "reports/scn_1", "reports/scn_1/0.json/more"):
        assert stores.blobs.get("acme", tenant_key("acme", missing)) is None
        assert stores.blobs.size("acme", tenant_key("acme", missing)) is None


def test_a_write_replaces_the_bytes_under_its_key(stores: Stores) -> None:
    stores.blobs.put("acme", KEY, b"first version, longer than the next")
    stores.blobs.put("acme", KEY, b"second")
    assert stores.blobs.get("acme", KEY) == b"second"
    assert stores.blobs.size("acme", KEY) == len(b"second")


@pytest.mark.parametrize(
    "key",
    [
        "tenants/globex/artifacts/x",  # another tenant's
        "tenants/acme",  # the prefix itself
        "tenants/acme/",
        "tenants/acme/../globex/artifacts/x",
        "tenants/acme/artifacts/../../globex/x",
        "tenants/acme/artifacts//x",
        "tenants/acme/./x",
        "tenants/acme/.x.1234",  # where the file store keeps its temporary files
        "tenants/acme/a\\..\\..\\b",
        "tenants/acme/a\x00b",
        "/etc/passwd",
        "artifacts/x",
    ],
)
def test_a_key_that_is_not_the_tenants_or_leaves_its_directory_is_refused(
    stores: Stores, key: str
) -> None:
    with pytest.raises(ValueError):
        stores.blobs.put("acme", key, b"x")
    with pytest.raises(ValueError):
        stores.blobs.get("acme", key)
    with pytest.raises(ValueError):
        stores.blobs.size("acme", key)


@pytest.mark.parametrize("tenant_id", ["", "..", ".", "a/b", "a\\b"])
def test_a_tenant_id_that_is_no_directory_name_is_refused(stores: Stores, tenant_id: str) -> None:
    with pytest.raises(ValueError):
        stores.blobs.put(tenant_id, f"tenants/{tenant_id}/x", b"x")


def test_another_tenant_reads_no_blob_even_with_its_key(stores: Stores) -> None:
    stores.blobs.put("acme", KEY, b"acme's")
    with pytest.raises(ValueError):
        stores.blobs.get("globex", KEY)
    with pytest.raises(ValueError):
        stores.blobs.put("globex", KEY, b"globex's")
    theirs = tenant_key("globex", "artifacts", "0" * 64)  # the same path in globex
    assert stores.blobs.get("globex", theirs) is None
    stores.blobs.put("globex", theirs, b"globex's")
    assert stores.blobs.get("acme", KEY) == b"acme's"
    assert stores.blobs.get("globex", theirs) == b"globex's"


_KILLED_BEFORE_RENAME = """
import os, signal, sys
from chalicelib.stores.embedded import blobs
store = blobs.FileBlobs(sys.argv[1])
def killed(src, dst):
    os.kill(os.getpid(), signal.SIGKILL)
blobs.os.replace = killed
store.put("acme", sys.argv[2], b"new bytes that never become visible" * 1000)
"""


def test_a_writer_killed_before_its_rename_leaves_the_old_bytes(tmp_path: Path) -> None:
    from chalicelib.stores.embedded.blobs import FileBlobs

    store = FileBlobs(tmp_path / "blobs")
    store.put("acme", KEY, b"old")
    fresh = tenant_key("acme", "reports", "scn_1.json")
    for key in (KEY, fresh):
        killed = subprocess.run(
            [sys.executable, "-c", _KILLED_BEFORE_RENAME, str(tmp_path / "blobs"), key],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            timeout=60,
        )
        assert killed.returncode == -9, killed.stderr.decode()
    leftovers = sorted(p.name for p in (tmp_path / "blobs").rglob(".*"))
    assert len(leftovers) == 2  # the temporary files, each fully written, never renamed
    assert store.get("acme", KEY) == b"old" and store.size("acme", KEY) == 3
    assert store.get("acme", fresh) is None and store.size("acme", fresh) is None
    store.put("acme", fresh, b"written")
    assert store.get("acme", fresh) == b"written"


def test_a_failed_write_leaves_the_old_bytes_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.stores.embedded import blobs

    store = blobs.FileBlobs(tmp_path / "blobs")
    store.put("acme", KEY, b"old")

    def full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(blobs.os, "replace", full)
    with pytest.raises(OSError):
        store.put("acme", KEY, b"new")
    monkeypatch.undo()
    assert store.get("acme", KEY) == b"old"
    assert [p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == ["0" * 64]


def test_blob_files_are_the_owners_only(tmp_path: Path) -> None:
    from chalicelib.stores.embedded.blobs import FileBlobs

    FileBlobs(tmp_path / "blobs").put("acme", KEY, b"x")
    path = tmp_path / "blobs" / "acme" / "artifacts" / ("0" * 64)
    assert path.stat().st_mode & 0o077 == 0
    assert (tmp_path / "blobs" / "acme").stat().st_mode & 0o077 == 0


def _embedded(tmp_path: Path, inline_limit: int = 10) -> EmbeddedBlobs:
    return EmbeddedBlobs(Database(tmp_path / "pipeguard.db"), tmp_path / "blobs", inline_limit)


def _files(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "blobs").rglob("*") if p.is_file())


def _rows(store: EmbeddedBlobs) -> list[tuple[str, str]]:
    conn = store.database.connection()
    return list(conn.execute("SELECT tenant_id, key FROM blobs"))


def test_small_blobs_are_database_rows_and_large_ones_files(tmp_path: Path) -> None:
    store = _embedded(tmp_path)
    store.put("acme", KEY, b"small")
    assert (_rows(store), _files(tmp_path)) == ([("acme", KEY)], [])
    store.put("acme", KEY, b"larger than ten bytes")
    assert (_rows(store), _files(tmp_path)) == ([], ["0" * 64])
    assert store.get("acme", KEY) == b"larger than ten bytes"
    store.put("acme", KEY, b"small")
    assert (_rows(store), _files(tmp_path)) == ([("acme", KEY)], [])
    assert store.get("acme", KEY) == b"small"
    assert store.size("acme", KEY) == 5


def test_a_blob_written_in_a_group_goes_with_the_group(tmp_path: Path) -> None:
    store = _embedded(tmp_path)
    database = store.database
    with pytest.raises(RuntimeError), database.grouped():
        store.put("acme", KEY, b"report")
        raise RuntimeError("the batch was cut short")
    assert store.get("acme", KEY) is None
    with database.grouped():
        store.put("acme", KEY, b"report")
    assert store.get("acme", KEY) == b"report"


def test_a_blob_file_of_an_older_release_is_still_read(tmp_path: Path) -> None:
    from chalicelib.stores.embedded.blobs import FileBlobs

    FileBlobs(tmp_path / "blobs").put("acme", KEY, b"old")  # where every blob used to be
    store = _embedded(tmp_path)
    assert store.get("acme", KEY) == b"old"
    assert store.size("acme", KEY) == 3
