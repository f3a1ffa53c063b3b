"""No file the collector selects as an artifact is dropped without a word.

Text that is not valid UTF-8 is evaluated (each invalid byte read as Latin-1) with a note; a
binary file selected by its name is an unreadable artifact that fails the run; candidates that
turn out to be no artifact are listed as skipped, with the reason, in every report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from defusedxml import ElementTree

from collectors.cli import main
from tests.collectors.conftest import FakeApi, scan
from tests.collectors.helpers import check_junit, check_sarif

KEY = "pgk_" + "k" * 40
CLEAN = (
    "FROM alpine:3.20@sha256:" + "a" * 64 + "\n"
    "RUN adduser -D app\nUSER app\n"
    'HEALTHCHECK CMD ["true"]\nCMD ["sh"]\n'
)
LATIN1 = b"# caf\xe9\nFROM ubuntu:latest\nENV DB_PASSWORD=x\n"
DTD_JUNIT = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE testsuite [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
    '<testsuite name="t" tests="1"><testcase name="&b;"/></testsuite>\n'
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x" / "clean").mkdir(parents=True)
    (tmp_path / "x" / "Dockerfile").write_bytes(LATIN1)
    (tmp_path / "x" / "clean" / "Dockerfile").write_text(CLEAN)
    return tmp_path


def offline(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    code = main(["scan", "--offline", "--format", "json", "--no-step-summary", *args])
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err


def submit(api: FakeApi, *args: str) -> int:
    return main(
        ["submit", "--api-url", api.url, "--api-key", KEY, "--pipeline", "shop", "--run-id",
         "run-1", "--no-step-summary", *args]
    )  # fmt: skip


def sent(api: FakeApi) -> dict[str, dict]:
    (request,) = api.calls("submit")
    return {a["path"]: a for a in json.loads(request["body"])["artifacts"]}


def test_a_latin1_dockerfile_in_a_folder_is_evaluated_with_a_note(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = offline(capsys, "x/")
    assert code == 1  # ubuntu:latest and a secret in ENV: it was evaluated, not skipped
    assert report["scanned"] == 2 and report["skipped"] == [] and report["errors"] == []
    lines = {(f["rule_id"], f["line"]) for f in report["findings"] if f["file"] == "x/Dockerfile"}
    assert any(line == 3 for _, line in lines), lines  # line numbers are exact
    assert any(line == 2 for _, line in lines), lines
    (note,) = report["notes"]
    assert note["file"] == "x/Dockerfile"
    assert "not valid UTF-8" in note["message"] and "Latin-1" in note["message"]
    assert "line 1" in note["message"]

    assert main(["scan", "--offline", "--no-step-summary", "x/"]) == 1
    table = capsys.readouterr().out
    assert "note: x/Dockerfile: not valid UTF-8" in table


def test_submit_sends_a_latin1_dockerfile_decoded(
    folder: Path, fake_api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert submit(fake_api, "--format", "json", "x/") == 0  # the scripted verdict passes
    artifacts = sent(fake_api)
    assert set(artifacts) == {"x/Dockerfile", "x/clean/Dockerfile"}
    assert artifacts["x/Dockerfile"]["content"] == LATIN1.decode("latin-1")
    out = capsys.readouterr()
    document = json.loads(out.out)
    assert [n["file"] for n in document["notes"]] == ["x/Dockerfile"]
    assert "x/Dockerfile" in out.err and "Latin-1" in out.err  # stdout is JSON: notes on stderr


def test_a_junit_report_with_a_dtd_in_a_folder_is_evaluated_and_refused(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "x" / "report.junit.xml").write_text(DTD_JUNIT)
    (folder / "x" / "results.xml").write_text(DTD_JUNIT)  # no JUnit name: the root says it
    code, report, _ = offline(capsys, "x/")
    assert code == 1
    errors = {e["file"]: e["message"] for e in report["errors"]}
    assert set(errors) == {"x/report.junit.xml", "x/results.xml"}
    assert all("DTD" in message for message in errors.values()), errors
    assert report["skipped"] == []


def test_submit_sends_a_junit_report_with_a_dtd(
    folder: Path, fake_api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "x" / "report.junit.xml").write_text(DTD_JUNIT)
    (folder / "bomb.xml").write_text(DTD_JUNIT)
    assert submit(fake_api, "x/", "bomb.xml") == 0
    artifacts = sent(fake_api)
    assert artifacts["x/report.junit.xml"]["type"] == "junit"
    assert artifacts["bomb.xml"]["type"] == "junit"  # named: sent, for the service to refuse
    assert artifacts["bomb.xml"]["content"] == DTD_JUNIT


def test_a_binary_dockerfile_fails_the_offline_scan(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "x" / "clean" / "Dockerfile").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    code, report, _ = offline(capsys, "--fail-on", "critical", "x/")
    assert code == 1
    (error,) = report["errors"]
    assert error["file"] == "x/clean/Dockerfile" and "NUL" in error["message"]


def test_a_binary_dockerfile_fails_submit_and_is_not_sent(
    folder: Path, fake_api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "x" / "clean" / "Dockerfile").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert submit(fake_api, "--format", "json", "x/") == 1  # the service's verdict passes
    assert set(sent(fake_api)) == {"x/Dockerfile"}
    out = capsys.readouterr()
    document = json.loads(out.out)
    (error,) = document["errors"]
    assert error["file"] == "x/clean/Dockerfile" and "NUL" in error["message"]
    assert "x/clean/Dockerfile" in out.err

    assert submit(fake_api, "x/") == 1
    table = capsys.readouterr().out
    assert "error: x/clean/Dockerfile" in table and "FAIL" in table
    assert "could not be read" in table

    assert submit(fake_api, "--no-wait", "x/") == 1  # accepted, but the run cannot pass
    assert "x/clean/Dockerfile" in capsys.readouterr().err


def test_only_unreadable_artifacts_fail_without_a_request(
    tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_bytes(b"\x00\x00")
    assert submit(fake_api, ".") == 1
    assert fake_api.calls("submit") == []
    out = capsys.readouterr().out
    assert "error: Dockerfile" in out and "FAIL" in out


def _skipping_folder(root: Path, yamls: int) -> None:
    (root / "svc").mkdir()
    (root / "svc" / "Dockerfile").write_text(CLEAN)
    (root / "svc" / "pom.xml").write_text("<project><modelVersion/></project>\n")
    (root / "svc" / "blob.json").write_bytes(b'{"a": "\x00"}')
    (root / "svc" / "README.md").write_text("# not even read\n")
    for i in range(yamls):
        (root / "svc" / f"k8s-{i:03}.yaml").write_text("kind: Deployment\n")


def test_skipped_files_are_listed_with_their_reason_in_every_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _skipping_folder(tmp_path, yamls=2)
    code, report, err = offline(capsys, "svc/")
    assert code == 0
    skipped = {s["file"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {"svc/pom.xml", "svc/blob.json", "svc/k8s-000.yaml", "svc/k8s-001.yaml"}
    assert "testsuite" in skipped["svc/pom.xml"]
    assert "NUL" in skipped["svc/blob.json"]
    assert "Resources" in skipped["svc/k8s-000.yaml"]
    assert report["ignored"] == 1  # README.md: its name is no artifact's, so it is not read
    for name in skipped:  # stdout is JSON, so stderr names every skipped file
        assert f"skipped {name}: {skipped[name]}" in err

    reports = tmp_path / "reports"
    assert (
        main(
            [
                "scan",
                "--offline",
                "--no-step-summary",
                "--format",
                "sarif",
                "--output",
                str(reports / "r.sarif"),
                "--format",
                "junit",
                "--output",
                str(reports / "r.xml"),
                "--format",
                "markdown",
                "--output",
                str(reports / "r.md"),
                "--format",
                "table",
                "--output",
                "-",
                "svc/",
            ]
        )  # fmt: skip
        == 0
    )
    out = capsys.readouterr()
    for name, reason in skipped.items():
        assert f"skipped: {name}: {reason}" in out.out
    assert "skipped" not in out.err  # the table on stdout lists them: no second copy

    sarif = check_sarif((reports / "r.sarif").read_text())
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    listed = {
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for n in notes
        if n["descriptor"]["id"] == "file-skipped"
    }
    assert listed == set(skipped) and all(n["level"] == "note" for n in notes)

    junit = check_junit((reports / "r.xml").read_text())
    (suite,) = [s for s in junit.findall("testsuite") if s.find("testcase/skipped") is not None]
    assert suite.get("skipped") == "1"
    listing = suite.find("system-out").text
    assert all(f"{name}: {reason}" in listing for name, reason in skipped.items())
    assert junit.get("skipped") == "1"

    markdown = (reports / "r.md").read_text()
    assert "4 files skipped" in markdown
    assert all(f"`{name}`: {reason}" in markdown for name, reason in skipped.items())


def test_hundreds_of_skipped_files_stay_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _skipping_folder(tmp_path, yamls=300)
    code, report, err = offline(capsys, "svc/")
    assert code == 0 and len(report["skipped"]) == 302  # the JSON report lists every one
    shown = [line for line in err.splitlines() if line.startswith("pipeguard: skipped ")]
    assert len(shown) == 20
    assert "… and 282 more skipped files" in err

    assert main(["scan", "--offline", "--no-step-summary", "svc/"]) == 0
    table = capsys.readouterr().out
    assert table.count("\nskipped: ") == 20 and "… and 282 more skipped files" in table
    assert "302 skipped" in table


def test_submit_lists_skipped_files(
    tmp_path: Path, fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    _skipping_folder(tmp_path, yamls=1)
    fake_api.defaults["report"] = (200, {}, {**scan(), "findings": []})
    assert submit(fake_api, "svc/") == 0
    out = capsys.readouterr().out
    assert "skipped: svc/pom.xml" in out and "skipped: svc/k8s-000.yaml" in out

    assert submit(fake_api, "--format", "json", "svc/") == 0
    out = capsys.readouterr()
    document = json.loads(out.out)
    assert {s["file"] for s in document["skipped"]} == {
        "svc/pom.xml", "svc/blob.json", "svc/k8s-000.yaml",
    }  # fmt: skip
    assert "pipeguard: skipped svc/pom.xml" in out.err

    assert submit(fake_api, "--no-wait", "svc/") == 0  # no reports: stderr names them
    assert "pipeguard: skipped svc/k8s-000.yaml: not a CloudFormation" in capsys.readouterr().err


def test_junit_report_of_a_latin1_artifact_carries_the_note(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "r.xml"
    main(["scan", "--offline", "--no-step-summary", "--format", "junit", "--output",
          str(target), "x/"])  # fmt: skip
    capsys.readouterr()
    root = ElementTree.fromstring(target.read_bytes())
    (suite,) = [s for s in root.findall("testsuite") if s.get("name") == "x/Dockerfile"]
    assert "Latin-1" in suite.find("system-out").text
