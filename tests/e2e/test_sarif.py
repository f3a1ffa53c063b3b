"""Other scanners' SARIF logs end to end: written by real tools in the test (the collector's
offline scan and ruff), found and submitted by the collector over HTTP to the embedded stack,
evaluated into findings with a verdict; the next run, with one result of each log gone, keeps
every other finding's id and marks those two fixed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api
from tests.e2e.test_collector import collector
from tests.sarif_tools import pipeguard_sarif, ruff_sarif

pytestmark = pytest.mark.e2e

DOCKERFILE = "FROM ubuntu:latest\nENV DB_PASSWORD=hunter2\nRUN apt-get update\n"
JOB = "import os\nimport subprocess\n\nsubprocess.call('make', shell=True)\n"


def _write_logs(work: Path) -> None:
    reports = work / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "pipeguard.sarif").write_text(pipeguard_sarif(work / "app", "Dockerfile"))
    (reports / "lint.sarif.json").write_text(ruff_sarif(work / "lint"))


def _submit(stack: dict[str, Any], work: Path, run_id: str) -> dict[str, Any]:
    done = collector(
        stack, "--pipeline", "e2e-sarif", "--run-id", run_id, "--format", "json",
        # a Pipeguard report is only submitted when named (in a folder it is an earlier run's)
        "reports/pipeguard.sarif", "reports/",
        cwd=work,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # the verdict fails
    document = json.loads(done.stdout)
    assert document["errors"] == [] and document["skipped"] == []
    return document


def test_sarif_logs_of_real_tools_over_http(stack: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "lint").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "lint" / "job.py").write_text(JOB)
    _write_logs(tmp_path)
    api = Api(stack["api_url"], stack["api_keys"]["alpha"])

    first = _submit(stack, tmp_path, "run-1")
    scan = first["scan"]
    assert scan["verdict"] == "fail"
    assert sorted((a["path"], a["type"], a["status"]) for a in scan["artifacts"]) == [
        ("reports/lint.sarif.json", "sarif", "evaluated"),
        ("reports/pipeguard.sarif", "sarif", "evaluated"),
    ]
    before = {(f["rule_id"], f["resource"]): f for f in first["findings"]}
    secret = ("sarif:pipeguard/DF-SECRET-001", "Dockerfile")
    unused = ("sarif:ruff/F401", str((tmp_path / "lint" / "job.py").resolve()))
    assert before[secret]["line"] == 2 and before[secret]["severity"] == "high"
    assert before[unused]["line"] == 1 and before[unused]["path"] == "reports/lint.sarif.json"
    assert ("sarif:ruff/S602", unused[1]) in before
    assert all(f["lifecycle"] == "new" for f in before.values())

    # the next commit drops the secret and the unused import: both scanners run again
    (tmp_path / "app" / "Dockerfile").write_text(
        DOCKERFILE.replace("ENV DB_PASSWORD=hunter2\n", "")
    )
    (tmp_path / "lint" / "job.py").write_text(JOB.replace("import os\n", ""))
    _write_logs(tmp_path)
    second = _submit(stack, tmp_path, "run-2")
    assert second["scan"]["verdict"] == "fail"  # shell=True and the root user remain
    report = api.get(f"/v1/scans/{second['scan']['scan_id']}/report").json()
    assert {(f["rule_id"], f["resource"]) for f in report["fixed"]} == {secret, unused}
    after = {(f["rule_id"], f["resource"]): f for f in report["findings"]}
    assert set(after) == set(before) - {secret, unused}
    for key, finding in after.items():
        assert finding["finding_id"] == before[key]["finding_id"], key
        assert finding["lifecycle"] == "open", key
    # ruff's results moved up a line; the collector's DF-USER-001 did not move
    assert after[("sarif:ruff/S602", unused[1])]["line"] == 3
    gone = api.get(f"/v1/findings/{before[secret]['finding_id']}").json()
    assert gone["status"] == "fixed" and gone["fixed_in_scan"] == second["scan"]["scan_id"]
    listed = api.get("/v1/findings", params={"pipeline": "e2e-sarif", "artifact_type": "sarif"})
    assert {f["finding_id"] for f in listed.json()["findings"]} >= {
        f["finding_id"] for f in after.values()
    }
