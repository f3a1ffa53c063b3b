"""Caller mistakes get a 4xx JSON error that says what to fix; nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import Api, scan_body


def _error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return body["error"]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer pgk_" + "x" * 43,
        "Bearer not-a-key",
        "pgk_" + "y" * 43,
    ],
)
def test_missing_or_bad_key_is_401(api_url: str, keys: dict[str, str], header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in (("GET", "/v1/findings"), ("POST", "/v1/scans"), ("GET", "/v1/scans/x")):
        response = requests.request(
            method, api_url + path, headers=headers, json=scan_body(), timeout=10
        )
        error = _error(response, 401)
        assert error["code"] == "unauthorized"
        assert "Bearer" in error["message"]


def test_key_without_scope_is_403(api_url: str, aws: Any) -> None:
    from chalicelib.tenancy import create_tenant, issue_key

    create_tenant("scoped")
    ingest_only = Api(api_url, issue_key("scoped", ["ingest"]))
    error = _error(ingest_only.get("/v1/findings"), 403)
    assert "read" in error["message"]
    read_only = Api(api_url, issue_key("scoped", ["read"]))
    error = _error(read_only.post("/v1/scans", json=scan_body()), 403)
    assert "ingest" in error["message"]


def test_unknown_route_is_404(api_url: str, keys: dict[str, str]) -> None:
    api = Api(api_url, keys["acme"])
    assert _error(api.get("/v1/nothing-here"), 404)["code"] == "not_found"
    assert _error(requests.get(api_url + "/nope", timeout=10), 404)["code"] == "not_found"


def test_wrong_method_is_405(api_url: str, keys: dict[str, str]) -> None:
    api = Api(api_url, keys["acme"])
    error = _error(api.session.delete(api_url + "/v1/findings", timeout=10), 405)
    assert error["code"] == "method_not_allowed"


def test_unknown_scan_and_finding_are_404(api_url: str, keys: dict[str, str]) -> None:
    api = Api(api_url, keys["acme"])
    assert "scn_missing" in _error(api.get("/v1/scans/scn_missing"), 404)["message"]
    assert _error(api.get("/v1/findings/fnd_missing"), 404)["code"] == "not_found"


def test_bodies_that_are_not_scans(api_url: str, keys: dict[str, str], aws: Any) -> None:
    from chalicelib.stores.clients import client

    api = Api(api_url, keys["acme"])
    json_headers = {"Content-Type": "application/json"}
    assert _error(api.post("/v1/scans", data=b"{not json", headers=json_headers), 400)
    assert _error(api.post("/v1/scans", data=b"", headers=json_headers), 400)
    assert _error(api.post("/v1/scans", json=[1, 2]), 422)
    deep = b"[" * 10_000 + b"]" * 10_000
    assert _error(api.post("/v1/scans", data=deep, headers=json_headers), 400)

    error = _error(api.post("/v1/scans", json={"pipeline": "p"}), 422)
    assert {d["field"] for d in error["details"]} >= {"run_id", "artifacts"}
    bad_type = scan_body(artifacts=[{"type": "helm", "path": "x", "content": "y"}])
    error = _error(api.post("/v1/scans", json=bad_type), 422)
    assert error["details"][0]["field"] == "artifacts.0.type"
    extra = {**scan_body(), "surprise": True}
    assert _error(api.post("/v1/scans", json=extra), 422)["details"][0]["field"] == "surprise"
    no_artifacts = scan_body()
    no_artifacts["artifacts"] = []
    assert _error(api.post("/v1/scans", json=no_artifacts), 422)
    text = _error(api.post("/v1/scans", data="x", headers={"Content-Type": "text/plain"}), 415)
    assert text["code"] == "unsupported_media_type"

    assert client("dynamodb").scan(TableName="pipeguard-scans")["Count"] == 0


def test_size_limits_are_413(api_url: str, keys: dict[str, str]) -> None:
    api = Api(api_url, keys["acme"])
    big = "FROM alpine:3.20\n" + "# filler\n" * 150_000
    body = scan_body(artifacts=[{"type": "dockerfile", "path": "Dockerfile", "content": big}])
    error = _error(api.post("/v1/scans", json=body), 413)
    assert error["details"][0]["field"] == "artifacts.0.content"
    huge = scan_body(
        artifacts=[
            {"type": "dockerfile", "path": f"D{i}", "content": big[:900_000]} for i in range(8)
        ]
    )
    assert "limit" in _error(api.post("/v1/scans", json=huge), 413)["message"]
    many = scan_body(
        artifacts=[
            {"type": "dockerfile", "path": f"D{i}", "content": "FROM a\n"} for i in range(101)
        ]
    )
    assert "at most 100" in _error(api.post("/v1/scans", json=many), 422)["message"]


def test_bad_query_parameters(api_url: str, keys: dict[str, str]) -> None:
    api = Api(api_url, keys["acme"])
    assert _error(api.get("/v1/findings", params={"severity": "urgent"}), 422)["details"]
    assert _error(api.get("/v1/findings", params={"limit": "0"}), 422)
    assert _error(api.get("/v1/findings", params={"limit": "many"}), 422)
    assert _error(api.get("/v1/findings", params={"colour": "red"}), 422)
    assert "cursor" in _error(api.get("/v1/findings", params={"cursor": "%%%"}), 400)["message"]


def test_stream_outage_is_503_and_the_same_request_requeues(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    from chalicelib.stores.clients import client

    class Refused:
        status_code = 400
        headers: dict = {}

    def throttle(**_: Any) -> tuple:
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}
        return Refused(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    api = Api(api_url, keys["acme"])
    events = client("kinesis").meta.events
    events.register("before-call.kinesis.PutRecords", throttle, unique_id="outage")
    try:
        refused = api.post("/v1/scans", json=scan_body())
    finally:
        events.unregister("before-call.kinesis.PutRecords", unique_id="outage")
    error = _error(refused, 503)
    assert "same request" in error["message"]
    assert refused.headers["Retry-After"]

    retried = api.post("/v1/scans", json=scan_body())
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "queued"
    assert retried.headers["Location"] == retried.json()["status_url"]
    pipeline.drain()
    assert api.get(retried.json()["status_url"]).json()["status"] == "complete"


def test_get_routes_ignore_content_type_and_malformed_ids_are_404(
    api_url: str, keys: dict[str, str]
) -> None:
    api = Api(api_url, keys["acme"])
    plain = api.get("/v1/findings", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 200
    assert api.get("/v1/findings", params={"severity": "", "scan_id": ""}).status_code == 200
    assert _error(api.get("/v1/scans/" + "x" * 2000), 404)
    assert _error(api.get("/v1/findings/fnd_%2F..%2F"), 404)


def test_each_tenant_is_rate_limited_on_its_own(
    api_url: str, keys: dict[str, str], monkeypatch: Any
) -> None:
    from chalicelib import ratelimit

    monkeypatch.setenv("RATE_LIMIT_PER_SECOND", "1")
    monkeypatch.setenv("RATE_LIMIT_BURST", "3")
    ratelimit.reset()
    acme, globex = Api(api_url, keys["acme"]), Api(api_url, keys["globex"])
    statuses = [acme.get("/v1/findings").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]
    limited = acme.get("/v1/findings")
    error = _error(limited, 429)
    assert error["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert globex.get("/v1/findings").status_code == 200
    ratelimit.reset()


def test_large_artifacts_go_through_a_presigned_upload(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    big = "FROM ubuntu:latest\n" + "# padding\n" * 200_000  # ~2 MB: too large inline
    assert api.post("/v1/uploads", json={"path": "Dockerfile", "size": 10**9}).status_code == 413
    granted = api.post("/v1/uploads", json={"path": "Dockerfile", "size": len(big)})
    assert granted.status_code == 201, granted.text
    upload = granted.json()
    assert upload["method"] == "POST" and upload["expires_in"] > 0
    assert "/tenants/acme/uploads/" in upload["fields"]["key"] or upload["fields"][
        "key"
    ].startswith("tenants/acme/uploads/")
    artifact = {"type": "dockerfile", "path": "Dockerfile", "upload_id": upload["upload_id"]}
    early = api.post("/v1/scans", json=scan_body(artifacts=[artifact]))
    assert _error(early, 422)["details"][0]["field"] == "artifacts.0.upload_id"

    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("Dockerfile", big)}, timeout=30
    )
    assert sent.status_code in (200, 204), sent.text
    accepted = api.post("/v1/scans", json=scan_body(artifacts=[artifact]))
    assert accepted.status_code == 202, accepted.text
    pipeline.drain()
    scan = api.get(accepted.json()["status_url"]).json()
    assert scan["status"] == "complete" and scan["artifacts"][0]["size"] == len(big)
    assert "DF-USER-001" in {f["rule_id"] for f in api.get("/v1/findings").json()["findings"]}

    # another tenant cannot use acme's upload
    stolen = Api(api_url, keys["globex"]).post("/v1/scans", json=scan_body(artifacts=[artifact]))
    assert _error(stolen, 422)["details"][0]["field"] == "artifacts.0.upload_id"
    both = {
        "type": "dockerfile",
        "path": "D",
        "content": "FROM a",
        "upload_id": upload["upload_id"],
    }
    assert _error(api.post("/v1/scans", json=scan_body(artifacts=[both])), 422)


LIST_ROUTES = [
    "/v1/findings",
    "/v1/waivers",
    "/v1/keys",
    "/v1/audit",
    "/v1/accounts",
    "/v1/admin/tenants",
]


@pytest.mark.parametrize("path", LIST_ROUTES)
def test_every_list_route_validates_its_query_the_same_way(
    api_url: str, keys: dict[str, str], operator_key: str, path: str
) -> None:
    api = Api(api_url, operator_key if path.startswith("/v1/admin") else keys["acme"])
    for params in ({"limit": "abc"}, {"limit": "0"}, {"limit": "1e2"}, {"limit": "²"}):
        error = _error(api.get(path, params=params), 422)
        assert error["code"] == "validation_failed"
        assert error["details"][0]["field"] == "limit", error
    unknown = _error(api.get(path, params={"colour": "red"}), 422)
    assert unknown["details"][0]["field"] == "colour"
    assert "limit, cursor" in unknown["details"][0]["message"]
    assert "cursor" in _error(api.get(path, params={"cursor": "%%%"}), 400)["message"]
    assert api.get(path, params={"limit": "1", "cursor": ""}).status_code == 200


def test_list_routes_page_with_limit_and_cursor(
    api_url: str, keys: dict[str, str], operator_key: str
) -> None:
    from datetime import UTC, datetime, timedelta

    api = Api(api_url, keys["acme"])
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    for i in range(3):
        waiver = {
            "rule_id": "DF-USER-001",
            "pipeline": f"web-{i}",
            "justification": "root is needed by this base image",
            "approver": "ciso@acme.example",
            "expires_at": expires,
        }
        assert api.post("/v1/waivers", json=waiver).status_code == 201
        assert api.post("/v1/keys", json={"scopes": ["read"], "name": f"k{i}"}).status_code == 201
    cases = [(api, "/v1/waivers", "waivers", 3), (api, "/v1/keys", "keys", 4)]
    cases.append((Api(api_url, operator_key), "/v1/admin/tenants", "tenants", 2))
    for client_, path, field, total in cases:
        seen: list[dict] = []
        cursor = ""
        while True:
            page = client_.get(path, params={"limit": "2", "cursor": cursor}).json()
            assert len(page[field]) <= 2
            seen += page[field]
            if page["next_cursor"] is None:
                break
            cursor = page["next_cursor"]
        assert len(seen) == total and seen == client_.get(path).json()[field], path
    # a cursor of one list is no cursor of another
    first = api.get("/v1/waivers", params={"limit": "1"}).json()["next_cursor"]
    assert _error(api.get("/v1/keys", params={"cursor": first}), 400)


WRITE_ROUTES = [
    ("POST", "/v1/scans"),
    ("PUT", "/v1/policy"),
    ("POST", "/v1/waivers"),
    ("POST", "/v1/keys"),
    ("PUT", "/v1/notifications"),
    ("POST", "/v1/accounts"),
]


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_a_number_too_long_is_a_clear_400(
    api_url: str, keys: dict[str, str], method: str, path: str
) -> None:
    api = Api(api_url, keys["acme"])
    for number in ("9" * 5000, "1." + "5" * 5000, "-" + "7" * 101):
        raw = ('{"fail_on": "high", "n": ' + number + "}").encode()
        response = api.session.request(
            method, api_url + path, data=raw, headers={"Content-Type": "application/json"}
        )
        error = _error(response, 400)
        assert "numbers are limited to 100 digits" in error["message"], error
        assert "sys." not in response.text and "set_int_max_str_digits" not in response.text


def test_scan_paths_and_parameters_are_bounded_to_fit_the_scan_record(
    api_url: str, keys: dict[str, str], aws: Any
) -> None:
    from chalicelib.stores.clients import client

    api = Api(api_url, keys["acme"])
    wide = "ü" * 600  # 600 characters, 1200 bytes of UTF-8
    body = scan_body(artifacts=[{"type": "dockerfile", "path": wide, "content": "FROM a\n"}])
    error = _error(api.post("/v1/scans", json=body), 422)
    assert error["details"][0]["field"] == "artifacts.0.path"
    assert "1024 bytes" in error["details"][0]["message"]

    template = "Resources: {}\n"
    params = {f"P{j}": "v" * 4000 for j in range(5)}  # 20 KB per artifact, 100 KB together
    heavy = scan_body(
        artifacts=[
            {
                "type": "cloudformation",
                "path": f"t{i}.yaml",
                "content": template,
                "parameters": params,
            }
            for i in range(5)
        ]
    )
    error = _error(api.post("/v1/scans", json=heavy), 422)
    assert "65536" in error["message"] and len(error["details"]) == 5
    too_long = {"P": "v" * 4097}
    one = scan_body(
        artifacts=[
            {
                "type": "cloudformation",
                "path": "t.yaml",
                "content": template,
                "parameters": too_long,
            }
        ]
    )
    assert _error(api.post("/v1/scans", json=one), 422)["details"][0]["field"].startswith(
        "artifacts.0.parameters"
    )
    assert client("dynamodb").scan(TableName="pipeguard-scans")["Count"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [*WRITE_ROUTES, ("POST", "/v1/uploads"), ("POST", "/v1/admin/tenants")],
)
def test_every_body_over_the_request_limit_is_413(
    api_url: str, keys: dict[str, str], operator_key: str, method: str, path: str
) -> None:
    """Bodies over 5 MiB are refused before they are parsed, on every route that takes one;
    5 MiB of the same body is read."""
    key = operator_key if path.startswith("/v1/admin") else keys["acme"]
    api = Api(api_url, key)
    headers = {"Content-Type": "application/json"}
    for size, status in ((5 * 1024 * 1024 + 1, 413), (5 * 1024 * 1024, 422)):
        raw = b'{"n": 1' + b" " * (size - 8) + b"}"  # `size` bytes; `n` is no field
        response = api.session.request(method, api_url + path, data=raw, headers=headers)
        error = _error(response, status)
        if status == 413:
            assert error["code"] == "payload_too_large" and "5242880" in error["message"]
