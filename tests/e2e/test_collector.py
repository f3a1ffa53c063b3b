"""The collector CLI end to end against the embedded stack: submit, wait, gate, every report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.collectors.helpers import check_junit, check_sarif, clean_env, failing_cases
from tests.conftest import REPO_ROOT, Api

pytestmark = pytest.mark.e2e

CLEAN_DOCKERFILE = (
    "FROM alpine:3.20@sha256:" + "a" * 64 + "\n"
    "RUN adduser -D app\nUSER app\n"
    'HEALTHCHECK CMD ["true"]\nCMD ["sh"]\n'
)


def collector(
    stack: dict[str, Any], *args: str, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "collectors",
            "submit",
            "--api-url",
            stack["api_url"],
            "--api-key",
            stack["api_keys"]["alpha"],
            *args,
        ],  # fmt: skip
        cwd=cwd,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT), **(env or {})}),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_submit_wait_gate_and_every_report(stack: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = collector(
        stack,
        "--pipeline", "e2e-reports", "--run-id", "run-1", "--commit", "abc1234",
        "--format", "json", "--output", str(out / "scan.json"),
        "--format", "sarif", "--output", str(out / "scan.sarif"),
        "--format", "junit", "--output", str(out / "junit.xml"),
        "--format", "markdown", "--output", str(out / "summary.md"),
        "--format", "table", "--output", "-",
        "examples/",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr  # the tenant's verdict fails
    assert "FAIL" in result.stdout and "DF-USER-001" in result.stdout
    # stderr is no terminal: plain progress lines, nothing else (the table lists the rest)
    assert "\r" not in result.stderr
    assert all(line.startswith("pipeguard: ") for line in result.stderr.splitlines())
    assert " accepted (queued): " in result.stderr

    document = json.loads((out / "scan.json").read_text())
    assert set(document) == {"scan", "findings", "errors", "notes", "skipped"}
    assert document["errors"] == document["notes"] == document["skipped"] == []
    scan, findings = document["scan"], document["findings"]
    assert scan["status"] == "complete" and scan["verdict"] == "fail"
    assert scan["commit"] == "abc1234" and scan["run_id"] == "run-1"
    assert sum(scan["counts"].values()) == len(findings) > 0
    by_path: dict[str, set[str]] = {}
    for f in findings:
        by_path.setdefault(f["path"], set()).add(f["rule_id"])
    assert set(by_path) == {"examples/Dockerfile", "examples/template.yaml", "examples/junit.xml"}

    sarif = check_sarif((out / "scan.sarif").read_text())
    (run,) = sarif["runs"]
    assert len(run["results"]) == len(findings)
    assert run["properties"]["scanId"] == scan["scan_id"]
    assert run["tool"]["driver"]["informationUri"] == stack["api_url"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert uris == set(by_path)

    junit = check_junit((out / "junit.xml").read_text())
    assert failing_cases(junit) == by_path

    markdown = (out / "summary.md").read_text()
    assert markdown.startswith("## ❌ Pipeguard: FAIL")
    assert scan["scan_id"] in markdown and "service's verdict is FAIL" in markdown


def test_no_artifact_is_dropped_without_a_word(stack: dict[str, Any], tmp_path: Path) -> None:
    """A Latin-1 Dockerfile is evaluated, a JUnit report with a DTD is sent and refused by the
    service with its reason, a binary Dockerfile fails the run, and a YAML that is no template
    is listed as skipped."""
    (tmp_path / "x" / "clean").mkdir(parents=True)
    (tmp_path / "x" / "Dockerfile").write_bytes(
        b"# caf\xe9\nFROM ubuntu:latest\nENV DB_PASSWORD=x\n"
    )
    (tmp_path / "x" / "clean" / "Dockerfile").write_text(CLEAN_DOCKERFILE)
    (tmp_path / "x" / "report.junit.xml").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE testsuite [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>\n'
        '<testsuite name="t" tests="1"><testcase name="&b;"/></testsuite>\n'
    )
    (tmp_path / "x" / "k8s.yaml").write_text("kind: Deployment\n")
    args = ("--pipeline", "e2e-unreadable", "--format", "json", "x/")
    latin1 = collector(stack, "--run-id", "run-1", *args, cwd=tmp_path)
    assert latin1.returncode == 1, latin1.stdout + latin1.stderr
    document = json.loads(latin1.stdout)
    assert document["scan"]["verdict"] == "fail"
    errors = {e["file"]: e["message"] for e in document["errors"]}
    assert set(errors) == {"x/report.junit.xml"} and "DTD" in errors["x/report.junit.xml"]
    rules = {f["rule_id"] for f in document["findings"] if f["path"] == "x/Dockerfile"}
    assert "DF-SECRET-001" in rules
    assert [n["file"] for n in document["notes"]] == ["x/Dockerfile"]
    assert [s["file"] for s in document["skipped"]] == ["x/k8s.yaml"]
    assert "pipeguard: skipped x/k8s.yaml: not a CloudFormation template" in latin1.stderr

    (tmp_path / "x" / "report.junit.xml").unlink()
    (tmp_path / "x" / "Dockerfile").write_text(CLEAN_DOCKERFILE.replace("app", "svc"))
    (tmp_path / "x" / "clean" / "Dockerfile").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    binary = collector(stack, "--run-id", "run-2", *args, cwd=tmp_path)
    assert binary.returncode == 1, binary.stdout + binary.stderr
    document = json.loads(binary.stdout)
    assert document["scan"]["verdict"] == "pass"  # the service never saw the binary file
    assert [a["path"] for a in document["scan"]["artifacts"]] == ["x/Dockerfile"]
    assert [e["file"] for e in document["errors"]] == ["x/clean/Dockerfile"]
    assert "pipeguard: error: x/clean/Dockerfile: not a text file" in binary.stderr


def test_pass_client_gate_soft_fail_and_idempotent_resubmission(
    stack: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(CLEAN_DOCKERFILE)
    args = ("--pipeline", "e2e-clean", "--run-id", "run-1", "--format", "json", "Dockerfile")
    first = collector(stack, *args, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    scan = json.loads(first.stdout)["scan"]
    assert scan["verdict"] == "pass"

    again = collector(stack, *args, "--fail-on", "info", cwd=tmp_path)
    assert json.loads(again.stdout)["scan"]["scan_id"] == scan["scan_id"]  # same run, same scan
    findings = json.loads(again.stdout)["findings"]
    assert again.returncode == (1 if findings else 0)

    soft = collector(stack, "--pipeline", "e2e-soft", "--soft-fail", "examples/Dockerfile")
    assert soft.returncode == 0 and "FAIL" in soft.stdout and "--soft-fail" in soft.stderr


def test_no_wait_and_metadata_from_github_actions(stack: dict[str, Any], tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_REF_NAME": "main",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "GITHUB_RUN_ID": "555",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_TOKEN": "ghs_do-not-send-this-token",
    }
    queued = collector(stack, "--no-wait", "examples/Dockerfile", env=github)
    assert queued.returncode == 0, queued.stderr
    assert "scn_" in queued.stdout and not summary.exists()

    result = collector(stack, "--format", "markdown", "examples/Dockerfile", env=github)
    assert result.returncode == 1
    assert "`acme/shop@main`" in result.stdout and "`555-1`" in result.stdout
    assert summary.read_text().startswith("## ❌ Pipeguard: FAIL")

    api = Api(stack["api_url"], stack["api_keys"]["alpha"])
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30  # the verdict comes first; the index follows the stream
    while not found and time.monotonic() < deadline:
        found = api.get("/v1/findings", params={"pipeline": "acme/shop@main"}).json()["findings"]
        if not found:
            time.sleep(0.2)
    scans = {f["scan_id"] for f in found}
    assert found and all(f["commit"] == github["GITHUB_SHA"] for f in found)
    assert len(scans) == 1
    assert "ghs_do-not-send-this-token" not in json.dumps(found)


def test_service_errors_exit_3(stack: dict[str, Any]) -> None:
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "collectors",
            "submit",
            "--api-url",
            stack["api_url"],
            "--api-key",
            "pgk_" + "z" * 43,
            "--pipeline",
            "x",
            "examples/Dockerfile",
        ],  # fmt: skip
        cwd=REPO_ROOT,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT)}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 3
    assert "refused the API key (HTTP 401" in refused.stderr
