"""`scan --offline` over the whole shared corpus: every file looked at, no crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collectors.helpers import CORPUS, check_junit, check_sarif, clean_env
from tests.conftest import REPO_ROOT

# Corpus files that are artifacts but broken on purpose (or written for a macro to expand).
KNOWN_BROKEN = {
    "cloudformation/aws-cloudformation-templates/aws/services/CloudFormation/MacrosExamples/"
    "ShortHand/example.template",
    "cloudformation/cfn_nag/test_templates/yaml/vulgar_bad_syntax.yml",
    "junit/action-junit-report/test_results/corrupt-junit/e2e-tests/corrupt/target/sf-reports/"
    "TEST-test.CorruptTest.xml",
    "junit/action-junit-report/test_results/junit-web-test/expected.xml",
    "junit/action-junit-report/test_results/junit-web-test/expectedRetries.xml",
    "junit/publish-unit-test-result-action/junit-xml/pytest/corrupt-xml.xml",
}
MUST_FAIL_TO_PARSE = {
    "cloudformation/cfn_nag/test_templates/yaml/vulgar_bad_syntax.yml",
    "junit/publish-unit-test-result-action/junit-xml/pytest/corrupt-xml.xml",
}


def test_offline_scan_of_the_corpus(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected {CORPUS}")
    files = [p for p in CORPUS.rglob("*") if p.is_file()]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "collectors",
            "scan",
            "--offline",
            "--fail-on",
            "critical",
            "--format",
            "json",
            "--output",
            str(tmp_path / "corpus.json"),
            "--format",
            "sarif",
            "--output",
            str(tmp_path / "corpus.sarif"),
            "--format",
            "junit",
            "--output",
            str(tmp_path / "corpus.xml"),
            ".",
        ],  # fmt: skip
        cwd=CORPUS,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT)}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    report = json.loads((tmp_path / "corpus.json").read_text())
    # every file is scanned, or skipped with a reason, or not read for its name
    assert report["scanned"] + len(report["skipped"]) + report["ignored"] == len(files)
    assert all(skipped["reason"] for skipped in report["skipped"])
    assert report["scanned"] >= 1400
    errors = {e["file"] for e in report["errors"]}
    assert errors <= KNOWN_BROKEN, sorted(errors - KNOWN_BROKEN)
    assert errors >= MUST_FAIL_TO_PARSE
    assert result.returncode == (1 if errors or any(
        f["severity"] == "critical" for f in report["findings"]
    ) else 0)  # fmt: skip
    sarif = check_sarif((tmp_path / "corpus.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == len(report["findings"])
    junit = check_junit((tmp_path / "corpus.xml").read_text())
    suites = [s.get("name") for s in junit.findall("testsuite")]
    assert suites.count("skipped files") == (1 if report["skipped"] else 0)
    assert len(suites) - suites.count("skipped files") == report["scanned"]
