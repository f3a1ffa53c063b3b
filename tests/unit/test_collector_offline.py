"""`python -m collectors scan --offline`: the engine without the service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def _scan(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "collectors", "scan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_examples_fail_with_findings_in_every_file() -> None:
    result = _scan("--offline", "--format", "json", "examples/")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == []
    assert report["scanned"] == 3
    files = {f["file"] for f in report["findings"]}
    assert files == {"examples/Dockerfile", "examples/template.yaml", "examples/junit.xml"}
    for finding in report["findings"]:
        assert set(finding) == {
            "rule_id",
            "severity",
            "file",
            "resource",
            "line",
            "title",
            "message",
        }
        assert finding["line"] is None or finding["line"] >= 1
        if finding["file"].endswith("Dockerfile"):
            assert finding["resource"] is None
    cfn = {f["resource"] for f in report["findings"] if f["file"].endswith(".yaml")}
    assert {"UploadsBucket", "AdminSecurityGroup", "DeployPolicy"} <= cfn


def test_fail_on_threshold_and_clean_file(tmp_path: Path) -> None:
    clean = tmp_path / "Dockerfile"
    clean.write_text(
        "FROM alpine:3.20@sha256:" + "a" * 64 + "\n"
        "RUN adduser -D app\n"
        "USER app\n"
        'HEALTHCHECK CMD ["true"]\n'
        'CMD ["sh"]\n'
    )
    result = _scan("--offline", "--format", "json", str(clean))
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert [f for f in report["findings"] if f["severity"] in ("high", "critical")] == []

    root = tmp_path / "root.Dockerfile"
    root.write_text("FROM ubuntu:latest\nRUN apt-get update\n")
    assert _scan("--offline", "--format", "json", str(root)).returncode == 1
    assert (
        _scan("--offline", "--fail-on", "critical", "--format", "json", str(root)).returncode == 0
    )


def test_unreadable_named_files_are_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources: [\n")
    binary = tmp_path / "image.xml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = _scan("--offline", "--format", "json", str(broken), str(binary), str(notes))
    assert result.returncode == 1
    errors = {Path(e["file"]).name: e["message"] for e in json.loads(result.stdout)["errors"]}
    assert set(errors) == {"broken.yaml", "image.xml", "notes.txt"}
    assert all(errors.values())


def test_folders_skip_files_that_are_not_artifacts(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  web:\n    image: nginx\n")
    (tmp_path / "README.md").write_text("# hi\n")
    (tmp_path / "Dockerfile").write_text("FROM ubuntu:latest\n")
    result = _scan("--offline", "--format", "json", str(tmp_path))
    report = json.loads(result.stdout)
    assert report["scanned"] == 1
    (skipped,) = report["skipped"]  # a YAML that is no template: read, then listed
    assert skipped["file"].endswith("docker-compose.yml")
    assert "not a CloudFormation template" in skipped["reason"]
    assert report["ignored"] == 1  # README.md is not read
    assert report["errors"] == []


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert _scan("--offline", str(tmp_path / "missing")).returncode == 2
    assert _scan("--offline", "--jobs", "0", "examples/").returncode == 2
    assert _scan("--offline", "--format", "yaml", "examples/").returncode == 2
    assert _scan().returncode == 2


def test_table_output_is_readable() -> None:
    result = _scan("--offline", "examples/Dockerfile")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].split() == ["SEVERITY", "RULE", "WHERE", "MESSAGE"]
    assert "DF-USER-001" in result.stdout
    assert "1 artifacts scanned" in result.stdout


def test_paths_are_reported_relative_to_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text("FROM ubuntu:latest\n")
    absolute = _scan("--offline", "--format", "json", str(tmp_path / "svc"), cwd=tmp_path)
    relative = _scan("--offline", "--format", "json", "svc", cwd=tmp_path)
    for result in (absolute, relative):
        files = {f["file"] for f in json.loads(result.stdout)["findings"]}
        assert files == {"svc/Dockerfile"}


def test_runs_from_a_checkout_without_installing(tmp_path: Path) -> None:
    """`python path/to/collectors` works from any folder, with no PYTHONPATH and no install."""
    (tmp_path / "Dockerfile").write_text("FROM ubuntu:latest\n")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "collectors"), "scan", "--offline", "--format", "json",
         "Dockerfile"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert {f["file"] for f in json.loads(result.stdout)["findings"]} == {"Dockerfile"}


def test_help_documents_exit_codes_and_formats() -> None:
    result = _scan("--help")
    assert result.returncode == 0
    for word in ("--format", "--output", "--exclude", "--type", "--soft-fail", "--fail-on"):
        assert word in result.stdout
    top = subprocess.run(
        [sys.executable, "-m", "collectors", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    text = " ".join(top.stdout.split())
    assert "2 usage or setup error (a package of collectors/requirements.txt missing)" in text
    assert "3 service or network error" in text
