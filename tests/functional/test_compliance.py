"""Compliance reports over HTTP, on the AWS adapters (moto) and on the embedded backend."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api

HOSTILE_PATH = "<img src=x onerror=alert(1)>/Dockerfile"
ROOT_NO_HEALTH = 'FROM ubuntu:22.04\nCOPY app /app\nCMD ["/app"]\n'
CLEAN = (
    "FROM ubuntu:22.04\nCOPY app /app\nRUN useradd -r app\nUSER app\n"
    'HEALTHCHECK CMD ["/app", "--health"]\nCMD ["/app"]\n'
)


@pytest.fixture(params=["aws", "embedded"])
def backend(
    request: pytest.FixtureRequest, aws: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The stores the API runs on: moto's DynamoDB and S3, or the embedded SQLite database."""
    if request.param == "aws":
        yield "aws"
        return
    from chalicelib.config import settings
    from chalicelib.policy import forget_cached
    from chalicelib.stores import backend as stores_backend

    monkeypatch.setenv("PIPEGUARD_BACKEND", "embedded")
    monkeypatch.setenv("PIPEGUARD_HOME", str(tmp_path / "state"))
    settings.cache_clear()
    forget_cached()
    stores_backend.reset()
    yield "embedded"
    stores_backend.reset()
    settings.cache_clear()


@pytest.fixture
def tenants(backend: str, api_url: str, pipeline: Any) -> dict[str, Api]:
    """acme, with a failing pipeline `web` (a waiver on DF-HEALTH-001), and globex, with a
    clean pipeline `other`; both scanned."""
    from chalicelib.tenancy import create_tenant

    acme, globex = (Api(api_url, create_tenant(name)) for name in ("acme", "globex"))
    waiver = {
        "rule_id": "DF-HEALTH-001",
        "pipeline": "web",
        "justification": "the orchestrator probes this service itself",
        "approver": "ciso@acme.example",
        "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
    }
    assert acme.post("/v1/waivers", json=waiver).status_code == 201
    for api, name, path, content in (
        (acme, "web", HOSTILE_PATH, ROOT_NO_HEALTH),
        (globex, "other", "Dockerfile", CLEAN),
    ):
        body = {
            "pipeline": name,
            "run_id": "r1",
            "artifacts": [{"type": "dockerfile", "path": path, "content": content}],
        }
        accepted = api.post("/v1/scans", json=body)
        assert accepted.status_code == 202, accepted.text
    pipeline.drain()
    return {"acme": acme, "globex": globex}


def _controls(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["control"]: c for c in report["controls"]}


def test_report_judges_each_control_from_the_current_findings(tenants: dict[str, Api]) -> None:
    from tests.spec import assert_matches

    answer = tenants["acme"].get("/v1/compliance/cis-docker-1.6")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert_matches("ComplianceReport", report)
    controls = _controls(report)
    root = controls["4.1"]
    assert root["status"] == "fail"
    assert [r["rule_id"] for r in root["rules"]] == ["DF-USER-001", "IMG-USER-001"]
    (evidence,) = root["evidence"]
    assert evidence["pipeline"] == "web" and evidence["path"] == HOSTILE_PATH
    assert (evidence["rule_id"], evidence["status"], evidence["counted"]) == (
        "DF-USER-001",
        "new",
        True,
    )
    assert evidence["finding_id"].startswith("fnd_") and evidence["severity"] == "high"
    health = controls["4.6"]  # the missing HEALTHCHECK is waived: listed, but it does not fail
    assert health["status"] == "pass"
    assert [(e["rule_id"], e["status"], e["counted"]) for e in health["evidence"]] == [
        ("DF-HEALTH-001", "waived", False)
    ]
    assert controls["4.9"]["status"] == "pass" and controls["4.9"]["evidence"] == []
    assert controls["4.2"]["status"] == "not_assessed" and controls["4.2"]["rules"] == []
    totals = report["totals"]
    assert totals["controls"] == len(report["controls"]) == 9
    assert totals["pass"] + totals["fail"] + totals["not_assessed"] == 9
    assert totals["fail"] == sum(1 for c in report["controls"] if c["status"] == "fail") >= 1
    failing = {e["finding_id"] for c in report["controls"] for e in c["evidence"] if e["counted"]}
    assert totals["failing_findings"] == len(failing)

    # only Dockerfiles were scanned: the AWS benchmark's controls are not assessed
    aws = tenants["acme"].get("/v1/compliance/cis-aws-3.0").json()
    assert {c["status"] for c in aws["controls"]} == {"not_assessed"}
    assert aws["totals"]["not_assessed"] == aws["totals"]["controls"]


def test_overview_lists_the_frameworks_with_coverage_and_totals(tenants: dict[str, Api]) -> None:
    from tests.spec import assert_matches

    overview = tenants["acme"].get("/v1/compliance").json()
    assert_matches("ComplianceOverview", overview)
    frameworks = {f["id"]: f for f in overview["frameworks"]}
    assert list(frameworks) == [
        "cis-aws-3.0",
        "cis-docker-1.6",
        "fsbp",
        "nist-800-53-r5",
        "pci-dss-4.0",
    ]
    docker = frameworks["cis-docker-1.6"]
    assert docker["name"].startswith("CIS Docker Benchmark") and docker["version"] == "1.6.0"
    assert docker["controls_covered"] == 8 and docker["controls_automatable"] == 9
    assert docker["coverage"] == round(8 / 9, 4)
    assert docker["totals"]["fail"] >= 1
    for framework in frameworks.values():
        assert 0 < framework["coverage"] <= 1
        assert framework["report_url"] == f"/v1/compliance/{framework['id']}"


def test_a_pipeline_report_reads_only_that_pipeline(tenants: dict[str, Api]) -> None:
    acme = tenants["acme"]
    web = acme.get("/v1/compliance/cis-docker-1.6?pipeline=web").json()
    assert web["pipeline"] == "web" and _controls(web)["4.1"]["status"] == "fail"
    missing = acme.get("/v1/compliance/cis-docker-1.6?pipeline=nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "no scans of pipeline 'nope' in this tenant"


def test_csv_has_a_row_per_control_then_the_evidence(tenants: dict[str, Api]) -> None:
    answer = tenants["acme"].get("/v1/compliance/cis-docker-1.6?format=csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert 'filename="pipeguard-cis-docker-1.6.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    blank = rows.index([])
    controls, evidence = rows[:blank], rows[blank + 1 :]
    assert controls[0] == [
        "framework",
        "control",
        "title",
        "status",
        "rules",
        "failing_findings",
        "evidence_count",
    ]
    by_control = {row[1]: row for row in controls[1:]}
    assert len(by_control) == 9
    assert by_control["4.1"][3:] == ["fail", "DF-USER-001 IMG-USER-001", "1", "1"]
    assert by_control["4.6"][3] == "pass" and by_control["4.6"][5:] == ["0", "1"]
    assert evidence[0][:4] == ["framework", "control", "pipeline", "path"]
    root = next(row for row in evidence[1:] if row[1] == "4.1")
    assert root[2:4] == ["web", HOSTILE_PATH] and root[5] == "DF-USER-001"


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_report_is_printable_and_escapes_what_the_artifacts_say(
    tenants: dict[str, Api],
) -> None:
    answer = tenants["acme"].get("/v1/compliance/cis-docker-1.6?format=html")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "script-src" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
    page = answer.text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    markup = _Markup()
    markup.feed(page)
    assert not markup.tags & {"script", "img", "iframe", "link", "object", "embed"}
    assert markup.handlers == []
    assert HOSTILE_PATH in "".join(markup.text)  # shown as text
    assert "thead { display: table-header-group; }" in page and "break-before: page" in page
    everything = tenants["acme"].get("/v1/compliance?format=html")
    assert everything.status_code == 200
    assert everything.text.count('<section class="framework">') == 5


def test_another_tenant_sees_none_of_the_failing_resources(tenants: dict[str, Api]) -> None:
    acme, globex = tenants["acme"], tenants["globex"]
    acme_ids = {
        e["finding_id"]
        for c in acme.get("/v1/compliance/cis-docker-1.6").json()["controls"]
        for e in c["evidence"]
    }
    assert acme_ids
    report = globex.get("/v1/compliance/cis-docker-1.6").json()
    assert _controls(report)["4.1"]["status"] == "pass"  # globex's own Dockerfile sets USER
    assert all(e["pipeline"] == "other" for c in report["controls"] for e in c["evidence"])
    for fmt in ("json", "csv", "html"):
        answer = globex.get(f"/v1/compliance/cis-docker-1.6?format={fmt}")
        assert answer.status_code == 200
        text = answer.text
        assert "onerror" not in text and "&lt;img" not in text, fmt
        assert not any(finding_id in text for finding_id in acme_ids), fmt
    overview = globex.get("/v1/compliance?format=html").text
    assert not any(finding_id in overview for finding_id in acme_ids)
    for fmt in ("json", "csv", "html"):
        other = globex.get(f"/v1/compliance/cis-docker-1.6?pipeline=web&format={fmt}")
        assert other.status_code == 404, fmt
        assert "onerror" not in other.text and not any(i in other.text for i in acme_ids)
    assert globex.get("/v1/compliance?pipeline=web").status_code == 404


def test_bad_requests_get_json_errors_that_say_what_to_fix(tenants: dict[str, Api]) -> None:
    acme = tenants["acme"]
    unknown = acme.get("/v1/compliance/sox")
    assert unknown.status_code == 404
    error = unknown.json()["error"]
    assert error["code"] == "not_found"
    assert "'sox'" in error["message"] and "cis-aws-3.0" in error["message"]
    bad = acme.get("/v1/compliance/fsbp?format=pdf")
    assert bad.status_code == 422
    (detail,) = bad.json()["error"]["details"]
    assert detail["field"] == "format"
    assert all(name in detail["message"] for name in ("'json'", "'csv'", "'html'"))
    overview = acme.get("/v1/compliance?format=csv")
    assert overview.status_code == 422
    assert "'json'" in overview.json()["error"]["details"][0]["message"]
    extra = acme.get("/v1/compliance/fsbp?colour=red")
    assert extra.status_code == 422
    assert extra.json()["error"]["details"][0]["field"] == "colour"
