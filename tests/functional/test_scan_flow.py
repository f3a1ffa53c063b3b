"""The whole flow on moto: HTTP ingest → Kinesis → evaluate → DynamoDB → stream → index → query."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.conftest import Api, scan_body
from tests.spec import assert_matches

CFN_OPEN_SSH = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Ssh:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: ssh
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: 0.0.0.0/0
"""


def _submit(api: Api, body: dict) -> dict:
    response = api.post("/v1/scans", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def test_scan_of_root_ubuntu_dockerfile_fails_with_findings(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    accepted = _submit(api, scan_body())
    assert_matches("ScanAccepted", accepted)
    assert accepted["status"] == "queued"
    assert accepted["status_url"] == f"/v1/scans/{accepted['scan_id']}"
    queued = api.get(accepted["status_url"]).json()
    assert_matches("Scan", queued)
    assert queued["status"] == "queued"
    early = api.get(accepted["status_url"] + "/report")
    assert early.status_code == 409

    pipeline.drain()

    scan = api.get(accepted["status_url"]).json()
    assert_matches("Scan", scan)
    assert scan["status"] == "complete"
    assert scan["verdict"] == "fail"
    assert scan["artifacts_done"] == scan["artifacts_total"] == 1
    assert scan["artifacts"][0]["status"] == "evaluated"
    assert scan["counts"]["high"] >= 1

    found = api.get("/v1/findings", params={"scan_id": accepted["scan_id"]}).json()
    assert_matches("FindingPage", found)
    rule_ids = {f["rule_id"] for f in found["findings"]}
    assert {"DF-USER-001", "DF-BASE-001"} <= rule_ids
    assert sum(scan["counts"].values()) == len(found["findings"])
    first = found["findings"][0]
    for field in ("finding_id", "rule_id", "severity", "path", "resource", "line", "message"):
        assert field in first
    assert "tenant_id" not in first
    one = api.get(f"/v1/findings/{first['finding_id']}")
    assert one.status_code == 200
    assert one.json()["finding_id"] == first["finding_id"]
    assert_matches("Finding", one.json())

    report = api.get(accepted["status_url"] + "/report").json()
    assert_matches("ScanReport", report)
    assert {f["finding_id"] for f in report["findings"]} == {
        f["finding_id"] for f in found["findings"]
    }
    assert report["verdict"] == "fail" and report["counts"] == scan["counts"]


def test_cloudformation_and_junit_artifacts_are_evaluated(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    junit = '<testsuite name="s" tests="1" failures="1"><testcase name="t" classname="c">'
    junit += '<failure message="boom"/></testcase></testsuite>'
    accepted = _submit(
        api,
        scan_body(
            artifacts=[
                {"type": "cloudformation", "path": "infra/sg.yaml", "content": CFN_OPEN_SSH},
                {"type": "junit", "path": "reports/junit.xml", "content": junit},
                {"type": "cloudformation", "path": "broken.yaml", "content": "Resources: ["},
            ]
        ),
    )
    pipeline.drain()
    scan = api.get(accepted["status_url"]).json()
    assert scan["status"] == "complete"
    by_path = {a["path"]: a for a in scan["artifacts"]}
    assert by_path["infra/sg.yaml"]["findings"] >= 1
    assert by_path["reports/junit.xml"]["findings"] >= 1
    assert by_path["broken.yaml"]["status"] == "error"
    assert by_path["broken.yaml"]["error"]
    cfn = api.get("/v1/findings", params={"artifact_type": "cloudformation"}).json()["findings"]
    assert {f["resource"] for f in cfn} == {"Ssh"}
    assert all(f["path"] == "infra/sg.yaml" for f in cfn)


def test_redelivered_record_writes_the_same_findings(
    api_url: str, keys: dict[str, str], pipeline: Any, app_module: Any, aws: Any
) -> None:
    from chalicelib.stores.clients import client

    api = Api(api_url, keys["acme"])
    accepted = _submit(api, scan_body())
    kinesis = pipeline.sources[0]
    shard_records = []
    for shard_id in kinesis.shards:
        iterator = kinesis._iterator(shard_id)
        shard_records += [(shard_id, r) for r in kinesis._get_records(iterator)[0]]
    assert len(shard_records) == 1
    pipeline.drain()
    before = client("dynamodb").scan(TableName="pipeguard-findings")["Items"]
    scan_before = api.get(accepted["status_url"]).json()

    shard_id, record = shard_records[0]
    response = app_module.evaluate_artifacts(kinesis._event(shard_id, [record]), None)
    assert response == {"batchItemFailures": []}
    pipeline.drain()

    after = client("dynamodb").scan(TableName="pipeguard-findings")["Items"]
    assert sorted(json.dumps(i, sort_keys=True) for i in after) == sorted(
        json.dumps(i, sort_keys=True) for i in before
    )
    scan_after = api.get(accepted["status_url"]).json()
    assert scan_after["artifacts_done"] == 1
    assert scan_after["counts"] == scan_before["counts"]
    listed = api.get("/v1/findings").json()["findings"]
    assert len(listed) == len({f["finding_id"] for f in listed}) == len(before)


def test_same_problem_in_next_run_is_the_same_finding(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    first = _submit(api, scan_body(run_id="run-1"))
    pipeline.drain()
    ids_first = {f["finding_id"] for f in api.get("/v1/findings").json()["findings"]}
    second = _submit(api, scan_body(run_id="run-2"))
    assert second["scan_id"] != first["scan_id"]
    pipeline.drain()
    page = api.get("/v1/findings").json()["findings"]
    assert {f["finding_id"] for f in page} == ids_first
    assert {f["scan_id"] for f in page} == {second["scan_id"]}
    detail = api.get(f"/v1/findings/{page[0]['finding_id']}").json()
    assert detail["first_seen"] < detail["last_seen"]
    assert api.get("/v1/findings", params={"scan_id": first["scan_id"]}).json()["findings"] == []
    kept = api.get(first["status_url"] + "/report").json()["findings"]
    assert {f["finding_id"] for f in kept} == ids_first
    assert {f["scan_id"] for f in kept} == {first["scan_id"]}


def test_resubmitting_a_run_is_idempotent_and_conflicts_when_changed(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    first = _submit(api, scan_body())
    again = _submit(api, scan_body())
    assert again["scan_id"] == first["scan_id"]
    changed = scan_body(
        artifacts=[{"type": "dockerfile", "path": "Dockerfile", "content": "FROM alpine:3.20\n"}]
    )
    conflict = api.post("/v1/scans", json=changed)
    assert conflict.status_code == 409
    assert "run_id" in conflict.json()["error"]["message"]
    pipeline.drain()
    assert api.get(first["status_url"]).json()["artifacts_done"] == 1


def test_findings_filters_text_search_and_pagination(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    _submit(api, scan_body(pipeline="web"))
    _submit(
        api,
        scan_body(
            pipeline="infra",
            artifacts=[{"type": "cloudformation", "path": "sg.yaml", "content": CFN_OPEN_SSH}],
        ),
    )
    pipeline.drain()
    everything = api.get("/v1/findings", params={"limit": 500}).json()["findings"]
    assert {f["pipeline"] for f in everything} == {"web", "infra"}

    walked, cursor = [], None
    while True:
        page = api.get("/v1/findings", params={"limit": 2, "cursor": cursor}).json()
        walked += page["findings"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [f["finding_id"] for f in walked] == [f["finding_id"] for f in everything]

    web = api.get("/v1/findings", params={"pipeline": "web"}).json()["findings"]
    assert web and all(f["pipeline"] == "web" for f in web)
    high = api.get("/v1/findings", params={"severity": "high"}).json()["findings"]
    assert high and all(f["severity"] == "high" for f in high)
    by_rule = api.get("/v1/findings", params={"rule_id": "DF-USER-001"}).json()["findings"]
    assert [f["rule_id"] for f in by_rule] == ["DF-USER-001"]
    text = api.get("/v1/findings", params={"q": "root"}).json()["findings"]
    assert "DF-USER-001" in {f["rule_id"] for f in text}
    assert api.get("/v1/findings", params={"q": 'AND ( "*'}).status_code == 200


def test_tenants_never_see_each_other(api_url: str, keys: dict[str, str], pipeline: Any) -> None:
    acme, globex = Api(api_url, keys["acme"]), Api(api_url, keys["globex"])
    accepted = _submit(acme, scan_body())
    pipeline.drain()
    acme_findings = acme.get("/v1/findings").json()["findings"]
    assert acme_findings

    assert globex.get("/v1/findings").json() == {"findings": [], "next_cursor": None}
    for params in ({"scan_id": accepted["scan_id"]}, {"pipeline": "web"}, {"q": "root"}):
        assert globex.get("/v1/findings", params=params).json()["findings"] == []
    other_scan = globex.get(accepted["status_url"])
    assert other_scan.status_code == 404
    assert other_scan.json()["error"]["code"] == "not_found"
    other_finding = globex.get(f"/v1/findings/{acme_findings[0]['finding_id']}")
    assert other_finding.status_code == 404
    assert acme_findings[0]["message"] not in other_finding.text

    # The same pipeline and run id in another tenant is another scan.
    mine = _submit(globex, scan_body())
    assert mine["scan_id"] != accepted["scan_id"]


def test_findings_facets_count_the_filtered_findings(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    api, other = Api(api_url, keys["acme"]), Api(api_url, keys["globex"])
    _submit(api, scan_body(pipeline="web"))
    _submit(
        api,
        scan_body(
            pipeline="infra",
            artifacts=[{"type": "cloudformation", "path": "sg.yaml", "content": CFN_OPEN_SSH}],
        ),
    )
    pipeline.drain()
    everything = api.get("/v1/findings", params={"limit": 500}).json()["findings"]
    fields = ("severity", "rule_id", "pipeline", "artifact_type", "status")

    def expected(findings: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
        tally = Counter(f[field] for f in findings)
        ordered = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"value": value, "count": count} for value, count in ordered]

    first = api.get("/v1/findings", params={"facets": ",".join(fields), "limit": 1}).json()
    assert_matches("FindingPage", first)
    assert first["facets"] == {field: expected(everything, field) for field in fields}
    later = api.get(
        "/v1/findings",
        params={"facets": ",".join(fields), "limit": 1, "cursor": first["next_cursor"]},
    ).json()
    assert later["facets"] == first["facets"]

    web = [f for f in everything if f["pipeline"] == "web"]
    scoped = api.get(
        "/v1/findings", params={"pipeline": "web", "facets": "severity, rule_id,severity"}
    ).json()
    assert scoped["facets"] == {f: expected(web, f) for f in ("severity", "rule_id")}
    assert "facets" not in api.get("/v1/findings", params={"facets": ""}).json()

    wrong = api.get("/v1/findings", params={"facets": "severity,owner"})
    assert wrong.status_code == 422
    error = wrong.json()["error"]
    assert error["details"][0]["field"] == "facets"
    assert "owner" in error["details"][0]["message"]
    assert "severity, rule_id, pipeline, artifact_type, status" in error["details"][0]["message"]

    theirs = other.get("/v1/findings", params={"facets": ",".join(fields)}).json()
    assert theirs == {"findings": [], "next_cursor": None, "facets": {f: [] for f in fields}}
