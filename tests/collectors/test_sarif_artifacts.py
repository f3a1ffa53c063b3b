"""The collector and other scanners' SARIF logs: found by name and by content, scanned offline,
and their findings shown at the scanner's file and line in every report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from collectors.cli import main
from tests.collectors.helpers import check_junit, check_sarif, failing_cases
from tests.sarif_tools import LOGS, dumps, minimal_log, result, ruff_sarif


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    reports = tmp_path / "reports"
    reports.mkdir()
    shutil.copy(LOGS / "checkov-run1.sarif", reports / "checkov.sarif")
    shutil.copy(LOGS / "semgrep-run1.sarif", reports / "semgrep.sarif.json")
    # Bandit writes `version` and `$schema` last; the name says nothing
    shutil.copy(LOGS / "bandit.sarif", reports / "bandit-report.json")
    (reports / "package.json").write_text('{"name": "app", "version": "2.1.0"}')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["scan", "--format", "json", "--no-step-summary", *args])
    return code, json.loads(capsys.readouterr().out)


def test_logs_are_found_by_name_and_by_content(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _scan(capsys, "reports/")
    assert code == 1
    assert {f["file"] for f in report["findings"]} == {
        "reports/checkov.sarif",
        "reports/semgrep.sarif.json",
        "reports/bandit-report.json",
    }
    assert report["skipped"] == [
        {
            "file": "reports/package.json",
            "reason": "not a CloudFormation template (no AWSTemplateFormatVersion or Resources "
            "key), nor a SARIF log (no SARIF $schema, nor version 2.1.0 with runs), nor image "
            "metadata",
        }
    ]
    assert report["errors"] == []


def test_the_offline_json_names_the_log_the_file_and_the_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = _scan(capsys, "reports/semgrep.sarif.json")
    by_rule = {f["rule_id"]: f for f in report["findings"]}
    assert by_rule["sarif:semgrep-oss/subprocess-shell-true"] == {
        "rule_id": "sarif:semgrep-oss/subprocess-shell-true",
        "severity": "high",
        "file": "reports/semgrep.sarif.json",
        "resource": "app.py",
        "line": 6,
        "title": "Semgrep Finding: subprocess-shell-true",
        "message": "subprocess called with shell=True; pass an argument list instead",
    }


def test_a_broken_log_is_an_error_of_that_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "reports" / "broken.sarif").write_text(dumps(minimal_log([result(level="fatal")])))
    code, report = _scan(capsys, "reports/broken.sarif", "reports/checkov.sarif")
    assert code == 1
    (error,) = report["errors"]
    assert error["file"] == "reports/broken.sarif"
    assert "runs[0].results[0].level" in error["message"]
    assert {f["file"] for f in report["findings"]} == {"reports/checkov.sarif"}


def test_an_earlier_pipeguard_report_in_the_workspace_is_not_imported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "Dockerfile").write_text("FROM ubuntu:latest\n")
    assert main(["scan", "--no-step-summary", "Dockerfile", "--format", "sarif",
                 "--output", "pipeguard.sarif"]) == 1  # fmt: skip
    capsys.readouterr()
    _, report = _scan(capsys, ".", "--exclude", "reports/")
    assert {f["file"] for f in report["findings"]} == {"Dockerfile"}
    assert report["skipped"] == [
        {
            "file": "pipeguard.sarif",
            "reason": "a Pipeguard SARIF report, not another scanner's (name it to submit it)",
        }
    ]
    _, named = _scan(capsys, "pipeguard.sarif")
    assert {f["rule_id"] for f in named["findings"]} >= {"sarif:pipeguard/DF-USER-001"}


def test_type_sarif_can_be_forced(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "scan-output.txt").write_text(dumps(minimal_log([result("R9")])))
    _, report = _scan(capsys, "--type", "*.txt=sarif", ".")
    assert "sarif:demo/R9" in {f["rule_id"] for f in report["findings"]}


def test_reports_show_imported_findings_at_the_scanners_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "lint").mkdir()
    (repo / "lint" / "job.py").write_text("import os\n")
    (repo / "reports" / "ruff.sarif").write_text(ruff_sarif(repo / "lint"))
    code = main(
        [
            "scan", "--no-step-summary", "reports/checkov.sarif", "reports/ruff.sarif",
            "--format", "sarif", "--output", "out/r.sarif",
            "--format", "junit", "--output", "out/r.xml",
            "--format", "markdown", "--output", "out/r.md",
            "--format", "table", "--output", "-",
        ]
    )  # fmt: skip
    assert code == 1
    table = capsys.readouterr().out
    assert "Dockerfile:5 (reports/checkov.sarif)" in table
    sarif = check_sarif((repo / "out" / "r.sarif").read_text())
    results = sarif["runs"][0]["results"]
    port = next(r for r in results if r["ruleId"] == "sarif:checkov/CKV_DOCKER_1")
    physical = port["locations"][0]["physicalLocation"]
    assert (physical["artifactLocation"]["uri"], physical["region"]["startLine"]) == (
        "Dockerfile",
        5,
    )
    # ruff writes absolute paths: the log itself is the location, the file named in the text
    unused = next(r for r in results if r["ruleId"] == "sarif:ruff/F401")
    physical = unused["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "reports/ruff.sarif" and "region" not in physical
    assert f"(at {(repo / 'lint' / 'job.py').resolve()}:1)" in unused["message"]["text"]
    # results of one rule on one file stay apart when their identities differ
    docker = [r for r in results if r["ruleId"].startswith("sarif:checkov/CKV_DOCKER")]
    prints = [r["partialFingerprints"]["pipeguardFinding/v1"] for r in docker]
    assert len(set(prints)) == len(prints)
    cases = failing_cases(check_junit((repo / "out" / "r.xml").read_text()))
    assert "sarif:checkov/CKV_DOCKER_1" in cases["reports/checkov.sarif"]
    assert "`Dockerfile:1` (reports/checkov.sarif)" in (repo / "out" / "r.md").read_text()
