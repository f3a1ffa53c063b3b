"""A full or read-only state directory: the API answers 503 `storage_unavailable` with
`Retry-After` (never a 500), a refused scan is not accepted, and the stack recovers on its own
once space or write access returns. Real conditions: a full tmpfs, a read-only mount, SQLite's
own SQLITE_FULL."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import Api, Pipeline, scan_body
from tests.functional import embedded_state
from tests.functional.embedded_state import StateDir

state_dir = embedded_state.state_dir


def _storage_unavailable(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text[:300]
    assert int(response.headers["Retry-After"]) > 0
    error = response.json()["error"]
    assert error["code"] == "storage_unavailable"
    assert "nothing of this request was stored" in error["message"]
    return error


@pytest.fixture
def acme(state_dir: StateDir, api_url: str) -> Api:
    from chalicelib.tenancy import create_tenant

    return Api(api_url, create_tenant("acme"))


def _not_accepted(api: Api, scan_id: str) -> None:
    """A scan refused with a 503 is not there, or is marked for a retry (never queued)."""
    response = api.get(f"/v1/scans/{scan_id}")
    assert response.status_code in (404, 200), response.text
    if response.status_code == 200:
        assert response.json()["status"] == "failed"


def test_a_full_disk_is_a_503_and_the_same_request_succeeds_once_space_returns(
    state_dir: StateDir, acme: Api, pipeline: Pipeline
) -> None:
    first = acme.post("/v1/scans", json=scan_body(run_id="run-1"))
    assert first.status_code == 202, first.text
    state_dir.fill()
    body = scan_body(run_id="run-2")
    body["artifacts"][0]["content"] += "# padding\n" * 50_000  # a body the disk cannot take
    for _ in range(3):  # answered the same way each time, by every thread
        error = _storage_unavailable(acme.post("/v1/scans", json=body))
        assert error["details"] == [{"field": "storage", "message": "the disk is full"}]
    assert acme.get(f"/v1/scans/{first.json()['scan_id']}").status_code == 200  # reads work
    state_dir.free()
    again = acme.post("/v1/scans", json=body)
    assert again.status_code == 202, again.text
    pipeline.drain()
    for scan_id in (first.json()["scan_id"], again.json()["scan_id"]):
        scan = acme.get(f"/v1/scans/{scan_id}").json()
        assert scan["status"] == "complete", scan
        assert scan["verdict"] == "fail"


def test_sqlite_full_is_a_503_and_the_next_write_succeeds(
    state_dir: StateDir, acme: Api, app_module: Any, pipeline: Pipeline
) -> None:
    """SQLITE_FULL from the database itself (`max_page_count` of the connection), with space
    left for blobs. Chalice's test client calls the app in this thread, on its connection."""
    import json

    from chalice.test import Client

    from chalicelib.stores.backend import stores

    conn = stores().scans.database.connection()  # type: ignore[attr-defined]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    headers = {**acme.session.headers, "Content-Type": "application/json"}
    body = json.dumps(scan_body(run_id="run-1", artifacts=_many_artifacts()))
    with Client(app_module.app) as client:
        refused = client.http.post("/v1/scans", headers=headers, body=body)
        assert refused.status_code == 503, refused.body
        assert refused.headers["Retry-After"]
        error = json.loads(refused.body)["error"]
        assert (error["code"], error["details"][0]["message"]) == (
            "storage_unavailable",
            "the disk is full",
        )
        conn.execute(f"PRAGMA max_page_count = {pages * 1000}")
        accepted = client.http.post("/v1/scans", headers=headers, body=body)
        assert accepted.status_code == 202, accepted.body
    pipeline.drain()
    scan_id = json.loads(accepted.body)["scan_id"]
    assert acme.get(f"/v1/scans/{scan_id}").json()["status"] == "complete"


def _many_artifacts() -> list[dict[str, Any]]:
    """A scan record of several pages (a page is 4 KiB)."""
    return [
        {"type": "dockerfile", "path": f"svc-{i:03}/" + "d" * 200 + "/Dockerfile",
         "content": f"FROM ubuntu:latest\nRUN echo {i}\n"}
        for i in range(60)
    ]  # fmt: skip


def test_a_read_only_state_directory_is_a_503_until_it_is_writable_again(
    state_dir: StateDir, acme: Api, pipeline: Pipeline
) -> None:
    first = acme.post("/v1/scans", json=scan_body(run_id="run-1"))
    assert first.status_code == 202, first.text
    pipeline.drain()
    pipeline.forget()  # the test thread's connection closes with the stores below
    acme.session.close()  # its server thread, and that thread's connection, end
    state_dir.read_only(True)
    try:
        with open(state_dir.path / "probe", "w"):  # noqa: PTH123 - root cannot write either
            raise AssertionError("the state directory is writable")
    except OSError:
        pass
    for _ in range(2):
        _storage_unavailable(acme.post("/v1/scans", json=scan_body(run_id="run-2")))
    state_dir.read_only(False)
    again = acme.post("/v1/scans", json=scan_body(run_id="run-2"))
    assert again.status_code == 202, again.text
    pipeline.drain()
    assert acme.get(first.json()["status_url"]).json()["status"] == "complete"
    assert acme.get(again.json()["status_url"]).json()["status"] == "complete"


def test_a_blob_write_that_hits_enospc_is_a_503_and_the_scan_is_not_accepted(
    state_dir: StateDir, acme: Api, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database has room, the blobs' file system (a tmpfs of 64 KiB) has not: a body over
    the largest blob kept in the database (lowered here to 64 KiB) goes there."""
    from chalicelib.stores.embedded import blobs as embedded_blobs

    monkeypatch.setattr(embedded_blobs, "INLINE_LIMIT", 64 * 1024)
    blobs = state_dir.path / "blobs"
    blobs.mkdir(mode=0o700)
    embedded_state.mount_tmpfs(blobs, "64k")
    body = scan_body(run_id="run-1")
    body["artifacts"][0]["content"] += "# padding\n" * 20_000  # 200 KB
    error = _storage_unavailable(acme.post("/v1/scans", json=body))
    assert error["details"] == [{"field": "storage", "message": "the disk is full"}]
    _storage_unavailable(acme.post("/v1/scans", json=body))  # sent again: the same
    listed = acme.get("/v1/pipelines/web").json()
    assert [s["status"] for s in listed["history"]] == ["failed"]  # marked for a retry only
    assert not [p for p in blobs.rglob("*") if p.is_file()], "no partial blob is left"
    embedded_state.remount_size(blobs, "8m")  # space returns
    accepted = acme.post("/v1/scans", json=body)
    assert accepted.status_code == 202, accepted.text
    pipeline.drain()
    assert acme.get(accepted.json()["status_url"]).json()["status"] == "complete"
