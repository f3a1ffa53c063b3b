"""Reports of `scan --offline`: JSON, SARIF (schema-checked), JUnit, Markdown, table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from collectors.cli import main
from tests.collectors.helpers import check_junit, check_sarif, failing_cases
from tests.conftest import REPO_ROOT


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    (tmp_path / "examples" / "broken.yaml").write_text("Resources: [\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> int:
    return main(["scan", "--offline", "--no-step-summary", *args])


def test_every_format_at_once(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        "--format", "json", "--output", "out/report.json",
        "--format", "sarif", "--output", "out/report.sarif",
        "--format", "junit", "--output", "out/junit.xml",
        "--format", "markdown", "--output", "out/summary.md",
        "--format", "table", "--output", "-",
        "examples/",
    )  # fmt: skip
    assert code == 1
    stdout = capsys.readouterr().out
    assert stdout.splitlines()[0].split() == ["SEVERITY", "RULE", "WHERE", "MESSAGE"]
    assert "Verdict: FAIL" in stdout

    report = json.loads((workdir / "out/report.json").read_text())
    assert set(report) >= {"findings", "errors"}
    assert [e["file"] for e in report["errors"]] == ["examples/broken.yaml"]
    findings = report["findings"]
    by_file: dict[str, set[str]] = {}
    for f in findings:
        by_file.setdefault(f["file"], set()).add(f["rule_id"])

    sarif = check_sarif((workdir / "out/report.sarif").read_text())
    (sarif_run,) = sarif["runs"]
    assert len(sarif_run["results"]) == len(findings)
    rule_ids = {r["id"] for r in sarif_run["tool"]["driver"]["rules"]}
    assert {"DF-USER-001", "CF-IAM-001", "JU-TEST-001"} <= rule_ids
    root_user = next(r for r in sarif_run["results"] if r["ruleId"] == "DF-USER-001")
    location = root_user["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "examples/Dockerfile"
    assert location["region"]["startLine"] == 2
    assert root_user["level"] == "error"
    rule = sarif_run["tool"]["driver"]["rules"][root_user["ruleIndex"]]
    assert rule["properties"]["security-severity"] == "8.0"
    assert rule["helpUri"].startswith("https://")
    (invocation,) = sarif_run["invocations"]
    notes = invocation["toolExecutionNotifications"]
    assert ["examples/broken.yaml" in n["message"]["text"] for n in notes] == [True]

    junit = check_junit((workdir / "out/junit.xml").read_text())
    assert failing_cases(junit) == {**by_file, "examples/broken.yaml": set()}
    suites = {s.get("name"): s for s in junit.findall("testsuite")}
    dockerfile_cases = suites["examples/Dockerfile"].findall("testcase")
    assert len(dockerfile_cases) > len(by_file["examples/Dockerfile"])  # passing rules too
    broken = suites["examples/broken.yaml"].findall("testcase")
    assert len(broken) == 1 and broken[0].find("error") is not None

    markdown = (workdir / "out/summary.md").read_text()
    assert markdown.startswith("## ❌ Pipeguard: FAIL")
    assert "| Critical | 1 |" in markdown
    assert "<details><summary>All" in markdown and "DF-USER-001" in markdown
    assert "examples/broken.yaml" in markdown


def test_fingerprints_are_stable_and_distinct(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def fingerprints() -> list[str]:
        run("--format", "sarif", "examples/template.yaml")
        results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
        return [r["partialFingerprints"]["pipeguardFinding/v1"] for r in results]

    first = fingerprints()
    template = workdir / "examples/template.yaml"
    template.write_text("# a comment moves every line\n" + template.read_text())
    assert fingerprints() == first
    assert len(set(first)) == len(first)


def test_absolute_paths_inside_the_checkout_become_relative(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run("--format", "sarif", str(workdir / "examples" / "Dockerfile"))
    sarif = check_sarif(capsys.readouterr().out)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == {"examples/Dockerfile"}


def test_clean_run_passes_in_every_format(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean = workdir / "Dockerfile"
    clean.write_text(
        "FROM alpine:3.23@sha256:" + "a" * 64 + "\nRUN adduser -D app\nUSER app\n"
        'HEALTHCHECK CMD ["true"]\nCMD ["sh"]\n'
    )
    assert run("--fail-on", "low", "--format", "markdown", "Dockerfile") == 0
    assert capsys.readouterr().out.startswith("## ✅ Pipeguard: PASS")
    assert run("--format", "junit", "Dockerfile") == 0
    root = check_junit(capsys.readouterr().out)
    assert root.get("failures") == "0" and int(root.get("tests")) > 5
    assert run("--format", "sarif", "Dockerfile") == 0
    assert check_sarif(capsys.readouterr().out)["runs"][0]["results"] == []


def test_soft_fail_keeps_the_report(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--soft-fail", "--format", "markdown", "examples/Dockerfile") == 0
    out = capsys.readouterr()
    assert "FAIL" in out.out and "--soft-fail" in out.err
    assert run("--soft-fail", "missing/") == 2


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "json", "--format", "sarif"],
        ["--format", "json", "--output", "a.json", "--output", "b.json"],
        ["--format", "json", "--format", "table", "--output", "-", "--output", "-"],
    ],
)
def test_formats_and_outputs_must_pair_up(
    args: list[str], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(*args, "examples/") == 2
    assert "error:" in capsys.readouterr().err


def test_github_step_summary(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = workdir / "step-summary.md"
    summary.write_text("previous step\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/shop")
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    assert main(["scan", "--offline", "--format", "json", "examples/Dockerfile"]) == 1
    text = summary.read_text()
    assert text.startswith("previous step\n## ❌ Pipeguard: FAIL")
    assert "`acme/shop@main`" in text
    assert main(["scan", "--offline", "--no-step-summary", "examples/Dockerfile"]) == 1
    assert summary.read_text() == text
    capsys.readouterr()


def test_suppressed_findings_are_reported_but_do_not_block() -> None:
    from collectors.formats import render_junit, render_markdown, render_sarif
    from collectors.outcome import Outcome

    def hit(rule_id: str, severity: str, suppression: str | None) -> dict:
        return {
            "rule_id": rule_id, "severity": severity, "title": rule_id, "message": "m",
            "path": "Dockerfile", "resource": None, "line": 2, "artifact_type": "dockerfile",
            "suppression": suppression,
        }  # fmt: skip

    outcome = Outcome(
        mode="offline",
        fail_on="high",
        scanned=1,
        artifacts=[{"path": "Dockerfile", "type": "dockerfile", "error": None}],
        findings=[
            hit("DF-USER-001", "high", "build stage only"),
            hit("DF-BASE-001", "medium", None),
        ],
    )
    assert not outcome.failed
    results = check_sarif(render_sarif(outcome))["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["DF-USER-001"]["suppressions"] == [
        {"kind": "inSource", "justification": "build stage only"}
    ]
    assert "suppressions" not in by_rule["DF-BASE-001"]
    assert failing_cases(check_junit(render_junit(outcome))) == {"Dockerfile": {"DF-BASE-001"}}
    assert "suppressed: build stage only" in render_markdown(outcome)

    outcome.findings[0]["suppression"] = None
    assert outcome.failed


def test_the_sarif_check_is_the_schema() -> None:
    """`check_sarif` holds a report to the 2.1.0 schema: a result of a kind the schema does not
    know, which no other check looks at, is refused."""
    from collectors.formats import render_sarif
    from collectors.outcome import Outcome

    outcome = Outcome(
        mode="offline",
        scanned=1,
        artifacts=[{"path": "Dockerfile", "type": "dockerfile", "error": None}],
        findings=[
            {
                "rule_id": "DF-USER-001", "severity": "high", "title": "t", "message": "m",
                "path": "Dockerfile", "resource": None, "line": 1, "artifact_type": "dockerfile",
            }
        ],
    )  # fmt: skip
    document = check_sarif(render_sarif(outcome))
    document["runs"][0]["results"][0]["kind"] = "bogus"
    with pytest.raises(jsonschema.ValidationError, match="bogus"):
        check_sarif(json.dumps(document))
