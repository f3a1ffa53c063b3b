"""The embedded default keeps everything: across a restart, and across kill -9 of the whole
stack under load. Every scan that got a 202 completes, with each of its findings stored once
and indexed once; keys and policies are intact."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT_DOCKERFILE, Api, scan_body
from tests.e2e.conftest import running_stack

pytestmark = pytest.mark.e2e

ARTIFACTS = [
    {"type": "dockerfile", "path": f"svc{i}/Dockerfile", "content": ROOT_DOCKERFILE}
    for i in range(3)
]
POLICY = {"fail_on": "critical"}


def _wait_complete(api: Api, scan_id: str, deadline: float) -> dict[str, Any]:
    while True:
        scan = _get(api, f"/v1/scans/{scan_id}")
        if scan.get("status") in ("complete", "failed"):
            return scan
        assert time.monotonic() < deadline, f"scan {scan_id} still {scan.get('status')}"
        time.sleep(0.2)


def _indexed(api: Api, pipeline: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"pipeline": pipeline, "limit": "200", **({"cursor": cursor} if cursor else {})}
        page = _get(api, "/v1/findings", params=params)
        found += page["findings"]
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def _get(api: Api, path: str, **kwargs: Any) -> Any:
    """A read that waits out the tenant's rate limit (the checks poll hundreds of scans)."""
    for _ in range(20):
        response = api.get(path, **kwargs)
        if response.status_code != 429:
            break
        time.sleep(float(response.headers.get("Retry-After", "1")))
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response.json()


def _stored(api: Api, pipeline: str) -> list[dict[str, Any]]:
    current = _get(api, f"/v1/pipelines/{pipeline}")
    return current["open_findings"] + current["accepted_findings"]


def _submit(api: Api, pipeline: str) -> str:
    response = api.post("/v1/scans", json=scan_body(pipeline=pipeline, artifacts=ARTIFACTS))
    assert response.status_code == 202, response.text
    return response.json()["scan_id"]


def _baseline(api: Api) -> int:
    """How many findings one scan of ARTIFACTS has (one pipeline per scan below)."""
    scan_id = _submit(api, "baseline")
    scan = _wait_complete(api, scan_id, time.monotonic() + 60)
    assert scan["status"] == "complete", scan
    deadline = time.monotonic() + 30
    expected = sum(scan["counts"].values())
    assert expected > 0
    while len(_indexed(api, "baseline")) < expected:
        assert time.monotonic() < deadline, "the baseline scan's findings were not indexed"
        time.sleep(0.2)
    return expected


def _load(info: dict[str, Any], accepted: list[tuple[str, str]], stop: threading.Event) -> None:
    """Submit scans until stopped; record each that got a 202 (connection errors are the kill)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {info['api_keys']['alpha']}"
    n = 0
    while not stop.is_set():
        n += 1
        pipeline = f"p{os.getpid()}-{time.monotonic_ns()}-{n}"
        with contextlib.suppress(requests.RequestException):
            response = session.post(
                info["api_url"] + "/v1/scans",
                json=scan_body(pipeline=pipeline, artifacts=ARTIFACTS),
                timeout=10,
            )
            if response.status_code == 202:
                accepted.append((pipeline, response.json()["scan_id"]))


def _kill_whole_stack(info: dict[str, Any], process: Any) -> None:
    for pid in [process.pid, *info["children"]]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_a_restart_keeps_tenants_keys_policies_and_findings(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with running_stack(state, tmp_path / "first.log") as (info, _):
        alpha = Api(info["api_url"], info["api_keys"]["alpha"])
        assert alpha.session.put(alpha.base + "/v1/policy", json=POLICY, timeout=30).ok
        expected = _baseline(alpha)
        key = info["api_keys"]["alpha"]
    with running_stack(state, tmp_path / "second.log") as (again, _):
        assert again["api_keys"]["alpha"] == key, "the seeded tenant keeps its key"
        alpha = Api(again["api_url"], key)
        assert alpha.get("/v1/policy").json()["fail_on"] == POLICY["fail_on"]
        assert len(_indexed(alpha, "baseline")) == expected
        assert len(_stored(alpha, "baseline")) == expected
        audit = alpha.get("/v1/audit").json()
        assert any(e["action"] == "policy.update" for e in audit["entries"]), audit


def test_kill_9_under_load_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    rounds = 3
    accepted: list[tuple[str, str]] = []
    rng = random.Random(14)
    with running_stack(state, tmp_path / "start.log") as (info, _):
        alpha = Api(info["api_url"], info["api_keys"]["alpha"])
        assert alpha.session.put(alpha.base + "/v1/policy", json=POLICY, timeout=30).ok
        expected = _baseline(alpha)
        key = info["api_keys"]["alpha"]
    for n in range(rounds):
        with running_stack(state, tmp_path / f"round-{n}.log") as (info, process):
            stop = threading.Event()
            loader = threading.Thread(target=_load, args=(info, accepted, stop), daemon=True)
            loader.start()
            time.sleep(rng.uniform(1.0, 3.0))
            _kill_whole_stack(info, process)
            stop.set()
            loader.join(15)
    assert len(accepted) >= rounds, f"too few scans accepted under load: {len(accepted)}"
    with running_stack(state, tmp_path / "after.log") as (info, _):
        assert info["api_keys"]["alpha"] == key
        alpha = Api(info["api_url"], key)
        assert alpha.get("/v1/policy").json()["fail_on"] == POLICY["fail_on"]
        deadline = time.monotonic() + 120
        for pipeline, scan_id in accepted:
            scan = _wait_complete(alpha, scan_id, deadline)
            assert scan["status"] == "complete", scan
            assert sum(scan["counts"].values()) == expected, scan
            stored = _stored(alpha, pipeline)
            assert len(stored) == expected, (pipeline, stored)
            while len(indexed := _indexed(alpha, pipeline)) < expected:
                assert time.monotonic() < deadline, f"{pipeline}: {len(indexed)} indexed"
                time.sleep(0.2)
            ids = [f["finding_id"] for f in indexed]
            assert len(ids) == len(set(ids)) == expected, (pipeline, ids)
            assert set(ids) == {f["finding_id"] for f in stored}
