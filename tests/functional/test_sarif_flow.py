"""Other scanners' SARIF logs through the whole flow on moto: findings with their identity across
runs (fixed, suppressed, waived), the tenant's overrides, the verdict, and per-artifact errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Api
from tests.sarif_tools import LOGS, minimal_log, result
from tests.spec import assert_matches

SHELL = "sarif:semgrep-oss/subprocess-shell-true"
QUEUE = "sarif:checkov/CKV_AWS_27"


def _logs(run: int) -> list[dict[str, str]]:
    return [
        {
            "type": "sarif",
            "path": f"reports/{tool}.sarif",
            "content": (LOGS / f"{tool}-run{run}.sarif").read_text(),
        }
        for tool in ("checkov", "semgrep")
    ]


def _scan(api: Api, pipeline: Any, run_id: str, artifacts: list[dict]) -> dict[str, Any]:
    body = {"pipeline": "svc", "run_id": run_id, "artifacts": artifacts}
    accepted = api.post("/v1/scans", json=body)
    assert accepted.status_code == 202, accepted.text
    pipeline.drain()
    scan = api.get(accepted.json()["status_url"]).json()
    assert scan["status"] == "complete", scan
    return scan


def _report(api: Api, scan: dict[str, Any]) -> dict[str, Any]:
    report = api.get(f"/v1/scans/{scan['scan_id']}/report").json()
    assert_matches("ScanReport", report)
    return report


def _key(finding: dict[str, Any]) -> tuple[str, str | None]:
    return finding["rule_id"], finding["resource"]


def test_two_runs_of_two_scanners(api_url: str, keys: dict[str, str], pipeline: Any) -> None:
    api = Api(api_url, keys["acme"])
    first = _scan(api, pipeline, "run-1", _logs(1))
    assert first["verdict"] == "fail"  # checkov's errors are high
    assert [a["status"] for a in first["artifacts"]] == ["evaluated", "evaluated"]
    report = _report(api, first)
    before = {_key(f): f for f in report["findings"]}
    assert len(before) == 12 + 3
    assert {f["artifact_type"] for f in report["findings"]} == {"sarif"}
    assert {f["lifecycle"] for f in report["findings"]} == {"new"}
    queue = before[(QUEUE, "template.yaml")]
    assert (queue["line"], queue["severity"], queue["path"]) == (7, "high", "reports/checkov.sarif")
    assert queue["message"] == "Ensure all data stored in the SQS queue is encrypted"
    assert before[(SHELL, "app.py")]["line"] == 6

    found = api.get("/v1/findings", params={"rule_id": SHELL, "pipeline": "svc"}).json()
    assert [f["finding_id"] for f in found["findings"]] == [before[(SHELL, "app.py")]["finding_id"]]
    assert_matches("FindingPage", found)

    # the tenant re-rates semgrep's results and waives one checkov rule on the bucket
    policy = {"severity_overrides": {"sarif:semgrep-oss": "low", SHELL: "critical"}}
    assert api.session.put(api_url + "/v1/policy", json=policy, timeout=10).ok
    waiver = {
        "rule_id": "sarif:checkov/CKV_AWS_21",
        "resource": "template.yaml",
        "justification": "versioning is handled by the backup plan",
        "approver": "lead@acme.example",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
    created = api.post("/v1/waivers", json=waiver)
    assert created.status_code == 201, created.text

    second = _scan(api, pipeline, "run-2", _logs(2))
    report = _report(api, second)
    after = {_key(f): f for f in report["findings"]}
    fixed = {_key(f) for f in report["fixed"]}
    assert fixed == {(QUEUE, "template.yaml"), ("sarif:semgrep-oss/pickle-loads", "app.py")}
    for key, finding in after.items():  # every other result is the same finding as before
        assert finding["finding_id"] == before[key]["finding_id"], key
        assert finding["lifecycle"] == "open", key
    shell = after[(SHELL, "app.py")]
    assert (shell["line"], shell["severity"]) == (6, "critical")
    password = after[("sarif:semgrep-oss/hardcoded-password", "app.py")]
    assert (password["line"], password["severity"], password["status"]) == (9, "low", "open")
    logging = after[("sarif:checkov/CKV_AWS_18", "template.yaml")]
    assert logging["status"] == "suppressed"
    assert logging["suppression"] == "Access logs of this bucket go to the organisation trail"
    versioning = after[("sarif:checkov/CKV_AWS_21", "template.yaml")]
    assert (
        versioning["status"] == "waived" and versioning["waiver_id"] == created.json()["waiver_id"]
    )
    counted = [f for f in after.values() if f["status"] not in ("suppressed", "waived")]
    assert sum(second["counts"].values()) == len(counted)

    gone = api.get(f"/v1/findings/{before[(QUEUE, 'template.yaml')]['finding_id']}").json()
    assert gone["status"] == "fixed" and gone["fixed_in_scan"] == second["scan_id"]
    history = api.get("/v1/pipelines/svc").json()
    assert history["verdict"] == second["verdict"] == "fail"


def test_a_clean_log_passes_and_an_invalid_or_failed_one_fails(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    clean = minimal_log([result("R1", level="note")])
    clean["runs"][0]["invocations"] = [{"executionSuccessful": True}]
    passed = _scan(api, pipeline, "clean", [_artifact("clean.sarif", clean)])
    assert passed["verdict"] == "pass" and passed["counts"]["low"] == 1

    broken = minimal_log([result("R1", level="fatal")])
    failed_run = minimal_log()
    failed_run["runs"][0]["invocations"] = [{"executionSuccessful": False}]
    too_many = minimal_log([result(f"R{i}") for i in range(5001)])
    scan = _scan(
        api,
        pipeline,
        "bad",
        [
            _artifact("broken.sarif", broken),
            _artifact("failed.sarif", failed_run),
            _artifact("many.sarif", too_many),
        ],
    )
    assert scan["verdict"] == "fail"
    broken_result, failed_result, many_result = scan["artifacts"]
    assert broken_result["status"] == "error"
    assert broken_result["error"].startswith(
        "the log is not valid SARIF 2.1.0: runs[0].results[0].level: Input should be"
    )
    assert failed_result["status"] == "evaluated" and failed_result["counts"]["high"] == 1
    assert many_result["status"] == "error" and "at most 5000" in many_result["error"]
    rules = {f["rule_id"] for f in _report(api, scan)["findings"]}
    assert rules == {"SA-RUN-001"}


def _artifact(path: str, document: dict[str, Any]) -> dict[str, str]:
    return {"type": "sarif", "path": path, "content": json.dumps(document)}
