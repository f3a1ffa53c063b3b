"""`python -m chalicelib.ops --local backup|restore`: a consistent backup taken while the stack
writes, a restore that refuses what it must and never leaves half a state directory, and a
restored state directory that serves what was backed up."""

from __future__ import annotations

import gc
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from chalicelib import ops
from chalicelib.local.statedir import StateLock
from chalicelib.stores import embedded
from tests.conftest import Api, Pipeline, scan_body


def _ops(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    try:
        code = ops.main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if code == 0 else {}), err


def _finding(tenant: str, n: int) -> dict[str, Any]:
    return {
        "tenant_id": tenant,
        "finding_id": f"fnd_{n:08}",
        "artifact_key": f"{tenant}#web#Dockerfile",
        "pipeline_key": f"{tenant}#web",
        "rule_id": "DF-USER-001",
        "message": "x" * 300,
    }


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_a_backup_under_write_load_is_consistent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    stores = embedded.build(str(state / "pipeguard.db"))
    stores.findings.put_many("acme", [_finding("acme", n) for n in range(2000)])
    stop = threading.Event()
    written: list[int] = []

    def write() -> None:  # findings and their blobs, as evaluation writes them, without pause
        n = 10_000
        while not stop.is_set():
            stores.blobs.put("acme", f"tenants/acme/reports/{n}.json", b"{}" * 500)
            stores.findings.put_many("acme", [_finding("acme", n + i) for i in range(20)])
            n += 20
            written.append(n)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        code, result, err = _ops(capsys, "--state-dir", str(state), "backup", str(tmp_path / "b"))
    finally:
        stop.set()
        writer.join()
    assert code == 0, err
    assert len(written) > 2, "the writer kept writing during the backup"
    manifest = result["backup"]
    assert json.loads((tmp_path / "b" / "manifest.json").read_text()) == manifest
    conn = sqlite3.connect(tmp_path / "b" / "pipeguard.db")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    findings = conn.execute("SELECT count(*) FROM findings").fetchone()[0]
    reports = {k for (k,) in conn.execute("SELECT key FROM blobs WHERE tenant_id = 'acme'")}
    conn.close()
    assert findings == manifest["database"]["counts"]["findings"]
    assert 2000 <= findings < written[-1] - 10_000 + 2000 + 20
    # Every blob whose findings the database holds was copied: the n-th report was written
    # before its findings, so the report of each stored batch is in the backup.
    last_batch = (findings - 2000) // 20 * 20 + 10_000 - 20
    if findings > 2000:
        report = f"tenants/acme/reports/{last_batch}.json"  # a row, or a file when large
        as_file = tmp_path / "b" / "blobs" / "acme" / "reports" / f"{last_batch}.json"
        assert report in reports or as_file.is_file()
    assert manifest["database"]["schema_version"] >= 3
    assert "database: " in err and "blobs: " in err


def _serving_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from chalicelib.config import settings
    from chalicelib.policy import forget_cached
    from tests.functional.embedded_state import forget_connections

    state = tmp_path / "state"
    monkeypatch.setenv("PIPEGUARD_BACKEND", "embedded")
    monkeypatch.setenv("PIPEGUARD_HOME", str(state))
    monkeypatch.delenv("SEARCH_SQLITE_PATH")
    settings.cache_clear()
    forget_cached()
    forget_connections()
    return state


def test_the_restored_state_serves_what_was_backed_up(
    tmp_path: Path,
    aws: Any,
    api_url: str,
    pipeline: Pipeline,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from chalicelib import maintenance
    from chalicelib.tenancy import create_tenant
    from tests.functional.embedded_state import forget_connections

    state = _serving_state(tmp_path, monkeypatch)
    acme = Api(api_url, create_tenant("acme"))
    (state / "acme-api-key").write_text("the key file\n")
    kept = acme.post("/v1/scans", json=scan_body(run_id="run-1"))
    assert kept.status_code == 202
    pipeline.drain()
    finding_ids = [
        f["finding_id"]
        for f in acme.get("/v1/scans/" + kept.json()["scan_id"] + "/report").json()["findings"]
    ]
    assert finding_ids
    maintenance.reindex("acme")  # the index as the findings stream fills it
    code, _, err = _ops(capsys, "--state-dir", str(state), "backup", str(tmp_path / "b"))
    assert code == 0, err
    lost = acme.post("/v1/scans", json=scan_body(run_id="run-2"))
    assert lost.status_code == 202
    pipeline.drain()
    acme.session.close()
    forget_connections()

    code, result, err = _ops(capsys, "--state-dir", str(state), "restore", str(tmp_path / "b"))
    assert code == 0, err
    previous = Path(result["restore"]["previous"])
    assert previous.parent == state.parent and (previous / "pipeguard.db").is_file()
    assert not list(state.parent.glob(".state.*")), "no staging folder left behind"
    assert (state / "acme-api-key").read_text() == "the key file\n"
    acme = Api(api_url, acme.session.headers["Authorization"].split()[1])
    assert acme.get(kept.json()["status_url"]).json()["status"] == "complete"
    assert acme.get(lost.json()["status_url"]).status_code == 404
    listed = acme.get("/v1/findings", params={"pipeline": "web"}).json()
    assert sorted(f["finding_id"] for f in listed["findings"]) == sorted(finding_ids)
    again = acme.post("/v1/scans", json=scan_body(run_id="run-3"))  # it takes writes
    assert again.status_code == 202


@pytest.fixture
def backed_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A state directory with a tenant, and a backup of it."""
    from tests.contract.helpers import entry

    state = tmp_path / "state"
    stores = embedded.build(str(state / "pipeguard.db"))
    stores.settings.put("acme", "notifications", {"emails": []}, entry("acme"))
    stores.blobs.put("acme", "tenants/acme/artifacts/abc", b"body")
    code, _, err = _ops(capsys, "--state-dir", str(state), "backup", str(tmp_path / "b"))
    assert code == 0, err
    stores.settings.put("acme", "notifications", {"emails": ["later@x.io"]}, entry("acme"))
    del stores
    gc.collect()  # its connections close: the files stay as they are from here on
    return state, tmp_path / "b"


def test_restore_refuses_while_a_stack_holds_the_state_dir(
    backed_up: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state, backup = backed_up
    lock = StateLock(state)
    lock.acquire()
    before = _tree(state)
    try:
        code, _, err = _ops(capsys, "--state-dir", str(state), "restore", str(backup))
    finally:
        lock.release()
    assert code == 2
    assert "is in use by the stack with pid" in err and "stop it first" in err
    assert _tree(state) == before


@pytest.mark.parametrize("what", ["empty folder", "other files", "foreign manifest", "missing"])
def test_restore_refuses_what_is_not_a_backup(
    backed_up: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    state, _ = backed_up
    source = tmp_path / "not-a-backup"
    if what != "missing":
        source.mkdir()
    if what == "other files":
        (source / "pipeguard.db").write_text("hello")
    if what == "foreign manifest":
        (source / "manifest.json").write_text('{"format": "someone-else"}')
    before = _tree(state)
    code, _, err = _ops(capsys, "--state-dir", str(state), "restore", str(source))
    assert code == 2
    assert "is not a Pipeguard backup" in err
    assert _tree(state) == before


def test_a_damaged_backup_is_refused_and_the_state_dir_is_left_whole(
    backed_up: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state, backup = backed_up
    database = backup / "pipeguard.db"
    data = bytearray(database.read_bytes())
    page = 4096
    data[page : 2 * page] = b"\xff" * page  # a page of a table, overwritten
    database.write_bytes(bytes(data))
    before = _tree(state)
    code, _, err = _ops(capsys, "--state-dir", str(state), "restore", str(backup))
    assert code == 2
    assert "damaged" in err
    assert _tree(state) == before
    assert sorted(p.name for p in state.parent.iterdir()) == ["b", "state"]


def test_a_restore_brings_back_the_backed_up_state(
    backed_up: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state, backup = backed_up
    code, result, err = _ops(capsys, "--local", "--state-dir", str(state), "restore", str(backup))
    assert code == 0, err
    stores = embedded.build(str(state / "pipeguard.db"))
    assert stores.settings.get("acme", "notifications") == {"emails": []}
    assert stores.blobs.get("acme", "tenants/acme/artifacts/abc") == b"body"
    previous = embedded.build(str(Path(result["restore"]["previous"]) / "pipeguard.db"))
    assert previous.settings.get("acme", "notifications") == {"emails": ["later@x.io"]}


def test_backup_needs_the_state_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _ops(capsys, "backup", str(tmp_path / "b"))
    assert code == 2 and "add --local" in err
    code, _, err = _ops(
        capsys, "--state-dir", str(tmp_path / "none"), "backup", str(tmp_path / "b")
    )
    assert code == 2 and "holds no embedded database" in err


def test_a_backup_inside_the_state_folder_is_refused(
    backed_up: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state, _ = backed_up
    code, _, err = _ops(capsys, "--state-dir", str(state), "backup", str(state / "copy"))
    assert code == 2 and "inside the state folder" in err
    assert not (state / "copy").exists()
