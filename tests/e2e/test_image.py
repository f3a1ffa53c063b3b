"""Image metadata end to end: submitted over HTTP to the embedded stack, evaluated, judged,
searchable, with each tenant's rule parameters applied to its own scans only."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.collectors.helpers import clean_env
from tests.conftest import REPO_ROOT, Api
from tests.parsers.test_image import CLASSIC_INSPECT
from tests.parsers.test_image_archive import docker_save

pytestmark = pytest.mark.e2e


def _tenant(stack: dict[str, Any], name: str) -> Api:
    created = subprocess.run(
        [sys.executable, "-m", "chalicelib.ops", "--local", str(stack["state_dir"]),
         "create-tenant", name],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    return Api(stack["api_url"], json.loads(created.stdout)["create-tenant"]["api_key"])


def _scan(api: Api, run_id: str) -> dict[str, Any]:
    body = {
        "pipeline": "shop-images",
        "run_id": run_id,
        "artifacts": [{"type": "image", "path": "shop/api.image.json", "content": CLASSIC_INSPECT}],
    }
    response = api.post("/v1/scans", json=body)
    assert response.status_code == 202, response.text
    status_url = response.json()["status_url"]
    deadline = time.monotonic() + 60
    while (scan := api.get(status_url).json())["status"] not in ("complete", "failed"):
        assert time.monotonic() < deadline, f"scan still {scan['status']}"
        time.sleep(0.2)
    assert scan["status"] == "complete", scan
    report = api.get(f"{status_url}/report")
    assert report.status_code == 200, report.text
    return report.json()


def _rules(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule_id"]: f for f in report["findings"]}


def test_image_scan_over_http_with_tenant_parameters(stack: dict[str, Any]) -> None:
    one, two = _tenant(stack, "imgone"), _tenant(stack, "imgtwo")
    first = _scan(one, "img-1")
    assert first["verdict"] == "fail"
    assert [a["type"] for a in first["artifacts"]] == ["image"]
    found = _rules(first)
    assert {"IMG-USER-001", "IMG-PORT-001", "IMG-SECRET-001", "IMG-SIZE-001", "IMG-AGE-001"} <= set(
        found
    )
    root = found["IMG-USER-001"]
    assert (root["severity"], root["line"], root["path"]) == ("high", 23, "shop/api.image.json")
    assert found["IMG-SECRET-001"]["resource"] == "SESSION_SECRET"

    searched = one.get("/v1/findings", params={"artifact_type": "image", "rule_id": "IMG-USER-001"})
    deadline = time.monotonic() + 30
    while not searched.json()["findings"] and time.monotonic() < deadline:
        time.sleep(0.2)
        searched = one.get("/v1/findings", params={"artifact_type": "image"})
    assert searched.status_code == 200 and searched.json()["findings"]
    assert two.get("/v1/findings", params={"artifact_type": "image"}).json()["findings"] == []

    policy = {
        "rule_params": {
            "IMG-SIZE-001": {"max_size_mb": 4096},
            "IMG-AGE-001": {"max_age_days": 100000},
            "IMG-LABEL-001": {"required_labels": []},
        },
        "severity_overrides": {"IMG-PORT-001": "critical"},
    }
    put = one.session.put(one.base + "/v1/policy", json=policy, timeout=30)
    assert put.status_code == 200, put.text
    bad = one.session.put(
        one.base + "/v1/policy",
        json={"rule_params": {"IMG-AGE-001": {"max_age_days": "a year"}}},
        timeout=30,
    )
    assert bad.status_code == 422 and "IMG-AGE-001.max_age_days" in bad.text

    tuned = _rules(_scan(one, "img-2"))
    assert not {"IMG-SIZE-001", "IMG-AGE-001", "IMG-LABEL-001"} & set(tuned)
    assert tuned["IMG-PORT-001"]["severity"] == "critical"
    assert tuned["IMG-USER-001"]["finding_id"] == root["finding_id"]  # same finding, next run

    untouched = _rules(_scan(two, "img-1"))  # the other tenant keeps the defaults
    assert {"IMG-SIZE-001", "IMG-AGE-001", "IMG-LABEL-001"} <= set(untouched)
    assert untouched["IMG-PORT-001"]["severity"] == "medium"


def test_broken_image_metadata_is_an_artifact_error(stack: dict[str, Any]) -> None:
    api = Api(stack["api_url"], stack["api_keys"]["alpha"])
    body = {
        "pipeline": "shop-images-broken",
        "run_id": "img-broken-1",
        "artifacts": [
            {"type": "image", "path": "empty.image.json", "content": "[]"},
            {"type": "image", "path": "container.image.json", "content": '[{"State": {}}]'},
        ],
    }
    accepted = api.post("/v1/scans", json=body)
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 60
    while (scan := api.get(accepted.json()["status_url"]).json())["status"] != "complete":
        assert time.monotonic() < deadline and scan["status"] != "failed", scan
        time.sleep(0.2)
    assert scan["verdict"] == "fail"
    errors = {a["path"]: a["error"] for a in scan["artifacts"]}
    assert "found no image" in errors["empty.image.json"]
    assert "of a container" in errors["container.image.json"]
    refused = api.post(
        "/v1/scans", json={**body, "artifacts": [{**body["artifacts"][0], "type": "oci"}]}
    )
    assert refused.status_code == 422 and "'image'" in refused.text


def test_collector_submits_an_image_archive(stack: dict[str, Any], tmp_path: Path) -> None:
    archive = docker_save(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "collectors", "submit", "--api-url", stack["api_url"],
         "--api-key", stack["api_keys"]["alpha"], "--pipeline", "shop-archive",
         "--run-id", "archive-1", "--format", "json", str(archive)],
        cwd=tmp_path, env=clean_env({"PYTHONPATH": str(REPO_ROOT)}),
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    rules = {
        f["rule_id"] for f in report["findings"] if f.get("path", f.get("file")) == "saved.tar"
    }
    assert {"IMG-USER-001", "IMG-REF-001", "IMG-REF-002", "IMG-HIST-001"} <= rules
