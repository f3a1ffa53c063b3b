"""End to end over HTTP against the stack a user starts: every test here runs on the embedded
default (`make run`) and on the AWS adapters over moto's wire protocol (`make run-aws`)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, ROOT_DOCKERFILE, Api, scan_body

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(either_stack: dict[str, Any]) -> dict[str, Any]:
    return either_stack


def _wait_complete(api: Api, status_url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        scan = api.get(status_url).json()
        if scan["status"] in ("complete", "failed"):
            return scan
        assert time.monotonic() < deadline, f"scan still {scan['status']}"
        time.sleep(0.2)


def _wait_findings(api: Api, params: dict, expected: int, timeout: float = 30) -> list[dict]:
    """Findings become searchable once the index handler has run."""
    deadline = time.monotonic() + timeout
    while True:
        found = api.get("/v1/findings", params=params).json()["findings"]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_root_ubuntu_dockerfile_end_to_end(stack: dict[str, Any]) -> None:
    alpha = Api(stack["api_url"], stack["api_keys"]["alpha"])
    beta = Api(stack["api_url"], stack["api_keys"]["beta"])
    body = scan_body(
        pipeline="shop",
        run_id="e2e-1",
        artifacts=[{"type": "dockerfile", "path": "Dockerfile", "content": ROOT_DOCKERFILE}],
    )
    response = alpha.post("/v1/scans", json=body)
    assert response.status_code == 202, response.text
    accepted = response.json()

    scan = _wait_complete(alpha, accepted["status_url"])
    assert scan["status"] == "complete"
    assert scan["verdict"] == "fail"
    total = sum(scan["counts"].values())
    assert total >= 2

    found = _wait_findings(alpha, {"scan_id": accepted["scan_id"]}, total)
    assert len(found) == total
    assert {"DF-USER-001", "DF-BASE-001"} <= {f["rule_id"] for f in found}
    root = next(f for f in found if f["rule_id"] == "DF-USER-001")
    assert root["severity"] == "high" and root["path"] == "Dockerfile"

    # beta may have findings of its own (the stack is shared by the session): none are alpha's
    seen_by_beta = beta.get("/v1/findings", params={"limit": 500}).json()["findings"]
    assert not {f["finding_id"] for f in seen_by_beta} & {f["finding_id"] for f in found}
    assert beta.get("/v1/findings", params={"pipeline": "shop"}).json()["findings"] == []
    assert (
        beta.get("/v1/findings", params={"scan_id": accepted["scan_id"]}).json()["findings"] == []
    )
    denied = beta.get(accepted["status_url"])
    assert denied.status_code == 404
    assert denied.json()["error"]["code"] == "not_found"
    assert beta.get(f"/v1/findings/{root['finding_id']}").status_code == 404
    assert Api(stack["api_url"], None).get("/v1/findings").status_code == 401


def _submit(stack: dict[str, Any], key: str, *args: str) -> subprocess.CompletedProcess:
    """The collector, as a CI step runs it, against the stack."""
    command = [sys.executable, "-m", "collectors", "submit", "--api-url", stack["api_url"]]
    return subprocess.run(
        [*command, "--api-key", key, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_collector_submit_gates_on_the_verdict(stack: dict[str, Any]) -> None:
    result = _submit(
        stack, stack["api_keys"]["alpha"], "--pipeline", "examples", "--run-id", "e2e-collector",
        "examples/",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout
    for rule_prefix in ("DF-", "CF-", "JU-"):
        assert rule_prefix in result.stdout

    clean = _submit(stack, "pgk_" + "z" * 43, "--pipeline", "examples", "examples/Dockerfile")
    assert clean.returncode == 3
    assert "401" in clean.stderr and "API key" in clean.stderr


def test_stack_wrote_keys_and_serves_every_tenant_separately(stack: dict[str, Any]) -> None:
    for tenant in ("alpha", "beta"):
        key_file = stack["state_dir"] / f"{tenant}-api-key"
        assert key_file.read_text().strip() == stack["api_keys"][tenant]
        assert key_file.stat().st_mode & 0o077 == 0


def _ops(stack: dict[str, Any], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.ops", "--local", str(stack["state_dir"]), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_operator_commands_on_the_running_stack(stack: dict[str, Any]) -> None:
    created = _ops(stack, "create-tenant", "gamma")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["create-tenant"]["api_key"]
    gamma = Api(stack["api_url"], key)
    assert gamma.get("/v1/findings").json()["findings"] == []

    read_only = json.loads(_ops(stack, "issue-key", "gamma", "--scope", "read").stdout)
    reader = Api(stack["api_url"], read_only["issue-key"]["api_key"])
    assert reader.get("/v1/findings").status_code == 200
    assert reader.post("/v1/scans", json=scan_body()).status_code == 403
    assert _ops(stack, "issue-key", "nobody").returncode == 2

    reindexed = _ops(stack, "reindex")
    assert reindexed.returncode == 0, reindexed.stderr
    assert json.loads(reindexed.stdout)["reindex"]["removed"] == 0
    drained = json.loads(_ops(stack, "redrive").stdout)["redrive"]
    nothing = {"rescanned": [], "skipped": [], "failed": [], "left": []}
    assert drained == {"replayed": 0, "reindexed": False, "left": [], "account_scans": nothing}


def test_collector_uploads_large_artifacts(stack: dict[str, Any], tmp_path: Any) -> None:
    big = tmp_path / "Dockerfile"
    big.write_text("FROM ubuntu:latest\n" + "# generated layer list\n" * 60_000)  # ~1.4 MB
    result = _submit(
        stack, stack["api_keys"]["alpha"], "--pipeline", "large", "--run-id", "e2e-large",
        "--format", "json", str(big),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["scan"]["artifacts"][0]["size"] > 1024 * 1024
    assert "DF-USER-001" in {f["rule_id"] for f in document["findings"]}
