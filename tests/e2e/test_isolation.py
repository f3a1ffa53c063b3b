"""Tenant isolation over HTTP, walking every operation of swagger/openapi.yaml.

Tenant A (alpha) gets data of every kind; tenant B (beta) then calls every operation with a key
of each scope, naming A's ids. B may only be refused (401/403/404) or served its own data, and
no response may carry anything of A's that the request did not already name. Missing, malformed
and revoked keys get 401 everywhere; the operator's key gets 403 on tenant routes and tenant
keys 403 on the operator's. Afterwards A's data is exactly what it was.

The operations come from the document, so a new route is covered as soon as it is documented
(and the document's own tests make sure every route is): a route whose path parameter has no
entry in `PATH_VALUES`, or whose body has none in `BODIES`, fails here until it gets one.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import requests
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e

SPEC = yaml.safe_load((REPO_ROOT / "swagger" / "openapi.yaml").read_text(encoding="utf-8"))
METHODS = ("get", "put", "post", "delete", "patch")
TENANT_SCOPES = ("ingest", "read", "admin")

A_PIPELINE = "alpha-secret-pipeline"
A_RUN = "alpha-secret-run-1"
A_IMAGE = "registry.alpha-secret.example/alpha-secret-image:latest"
A_DOCKERFILE = f'FROM {A_IMAGE}\nRUN apt-get update\nCMD ["bash"]\n'
A_TEMPLATE = """\
Resources:
  AlphaSecretBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: alpha-secret-bucket
"""
A_RULE_TITLE = "Alpha secret registry rule"
A_EMAIL = "alpha-secret@alpha.example"
A_KEY_NAME = "alpha-secret-extra-key"
A_JUSTIFICATION = "alpha secret justification for the waiver"
B_DOCKERFILE = "FROM busybox:1.36\nUSER nobody\n"
A_ACCOUNT = "444455556666"  # an AWS account of A's, played by the stack's moto
A_ROLE = f"arn:aws:iam::{A_ACCOUNT}:role/alpha-secret-posture-role"
B_ACCOUNT = "222233334444"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    scope: str
    spec: dict[str, Any]

    @property
    def path_params(self) -> list[str]:
        declared = SPEC["paths"][self.path].get("parameters", []) + self.spec.get("parameters", [])
        return [p["name"] for p in map(_resolve, declared) if p["in"] == "path"]

    @property
    def success(self) -> int:
        statuses = [int(s) for s in self.spec["responses"] if s.startswith("2")]
        assert len(statuses) == 1, (self.operation_id, statuses)
        return statuses[0]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.operation_id})"


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def spec_operations() -> list[Operation]:
    found = []
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                found.append(
                    Operation(method.upper(), path, op["operationId"], op["x-pipeguard-scope"], op)
                )
    return found


OPERATIONS = spec_operations()


@dataclass
class TenantA:
    key: str
    key_id: str
    extra_key: str
    extra_key_id: str
    scan_id: str
    finding_ids: list[str]
    waiver_id: str
    policy_version: int
    audit_cursor: str
    findings_cursor: str | None
    account_scan_id: str = ""
    needles: set[str] = field(default_factory=set)


@dataclass
class World:
    url: str
    a: TenantA
    b_admin: str  # B's seeded key, every scope
    b_keys: dict[str, str]  # one key per single scope
    b_revoked: str
    disabled_tenant_key: str
    operator: str


# Path parameters of A's, by name: every path parameter in the document must be here.
PATH_VALUES: dict[str, Callable[[World], str]] = {
    "scan_id": lambda w: w.a.scan_id,
    "finding_id": lambda w: w.a.finding_ids[0],
    "waiver_id": lambda w: w.a.waiver_id,
    "key_id": lambda w: w.a.extra_key_id,
    "name": lambda w: A_PIPELINE,
    "tenant_id": lambda w: "alpha",
    "account_id": lambda w: A_ACCOUNT,
    "framework": lambda w: "cis-docker-1.6",
}
# Path parameters that name an entry of the public catalog, not anyone's data.
CATALOG_PATH_PARAMS = {"framework"}
ALL_FACETS = "severity,rule_id,pipeline,artifact_type,status"
# Query strings that name A's data, by operation (each is tried; none may reveal A's data).
QUERIES: dict[str, Callable[[World], list[dict[str, str]]]] = {
    "list_findings": lambda w: [
        {"scan_id": w.a.scan_id},
        {"pipeline": A_PIPELINE},
        {"rule_id": "X-ALPHA-001"},
        {"q": "alpha"},
        *([{"cursor": w.a.findings_cursor}] if w.a.findings_cursor else []),
        {"facets": ALL_FACETS},
        {"facets": ALL_FACETS, "q": "alpha"},
        {"facets": "pipeline,rule_id", "rule_id": "X-ALPHA-001"},
        *([{"facets": ALL_FACETS, "cursor": w.a.findings_cursor}] if w.a.findings_cursor else []),
    ],
    "list_audit": lambda w: [{"cursor": w.a.audit_cursor}],
    "get_compliance": lambda w: [{"format": "html"}],
    "get_compliance_report": lambda w: [{"format": "csv"}, {"format": "html"}],
}
# Query strings that name A's data and that B gets a 404 for, by operation.
REFUSED_QUERIES: dict[str, Callable[[World], list[dict[str, str]]]] = {
    "get_compliance": lambda w: [
        {"pipeline": A_PIPELINE},
        {"pipeline": A_PIPELINE, "format": "html"},
    ],
    "get_compliance_report": lambda w: [
        {"pipeline": A_PIPELINE, "format": fmt} for fmt in ("json", "csv", "html")
    ],
}


def _expires() -> str:
    return (datetime.now(UTC) + timedelta(days=30)).isoformat()


# A request body for every operation that takes one: what B would send for its own data,
# naming A's ids where the body can name any.
BODIES: dict[str, Callable[[World], Any]] = {
    "create_scan": lambda w: {
        "pipeline": "beta-pipeline",
        "run_id": A_RUN,
        "artifacts": [{"type": "dockerfile", "path": "Dockerfile", "content": B_DOCKERFILE}],
    },
    "create_upload": lambda w: {"path": "big.yaml", "size": 100},
    "put_notifications": lambda w: {"emails": ["beta@beta.example"]},
    "put_policy": lambda w: {"fail_on": "critical"},
    "create_waiver": lambda w: {
        "finding_id": w.a.finding_ids[0],
        "justification": "beta waives what it thinks is a finding",
        "approver": "beta",
        "expires_at": _expires(),
    },
    "create_key": lambda w: {"scopes": ["read"], "name": "beta-matrix"},
    "create_tenant": lambda w: {"tenant_id": "alpha", "name": "take over"},
    "reindex": lambda w: {"tenant_id": "alpha"},
    "create_account": lambda w: {
        "account_id": B_ACCOUNT,
        "role_arn": f"arn:aws:iam::{B_ACCOUNT}:role/beta-posture",
    },
}


def _headers(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


def _call(
    world: World,
    op: Operation,
    key: str | None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[requests.Response, str]:
    """Call `op` naming A's ids; returns the response and everything the request carried."""
    path = op.path
    for name in op.path_params:
        assert name in PATH_VALUES, (
            f"{op}: path parameter {name!r} has no value in PATH_VALUES: add A's value for it"
        )
        path = path.replace("{" + name + "}", quote(PATH_VALUES[name](world), safe=""))
    body = None
    if "requestBody" in op.spec:
        assert op.operation_id in BODIES, f"{op}: add a request body for it to BODIES"
        body = BODIES[op.operation_id](world)
    response = requests.request(
        op.method,
        world.url + path,
        params=query,
        json=body,
        headers={**_headers(key), **(headers or {})},
        timeout=30,
    )
    sent = " ".join([path, json.dumps(query or {}), json.dumps(body)])
    return response, sent


def _conforms(op: Operation, response: requests.Response) -> list[str]:
    """Problems of `response` against the document: undocumented status, wrong body."""
    documented = op.spec["responses"].get(str(response.status_code))
    if documented is None:
        return [f"status {response.status_code} is not documented"]
    media = response.headers.get("Content-Type", "").split(";")[0].strip()
    contents = _resolve(documented).get("content", {})
    if not contents:
        return []
    if media not in contents:
        return [f"Content-Type {response.headers.get('Content-Type')!r}"]
    if media != "application/json":
        return []
    schema = {"allOf": [contents[media]["schema"]], "components": SPEC["components"]}
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    return [
        f"{e.message[:200]} at {list(e.absolute_path)}"
        for e in validator.iter_errors(response.json())
    ]


def _leaks(world: World, response: requests.Response, sent: str, own: set[str]) -> list[str]:
    """A's data in the response that the request did not name itself, and that the caller did
    not write into its own data earlier (`own`: the bodies of its successful writes)."""
    text = response.text
    with contextlib.suppress(ValueError):  # decoded too: non-ASCII needles are escaped in JSON
        text += json.dumps(response.json(), ensure_ascii=False)
    return sorted(
        n for n in world.a.needles if n in text and n not in sent and not any(n in o for o in own)
    )


def _wait(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class Client:
    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def request(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        """One call, waited out and sent again while the tenant's rate limit refuses it (the
        matrix makes hundreds of calls a second, as a well-behaved client would back off)."""
        for _ in range(10):
            response = self.session.request(method, self.url + path, timeout=30, **kwargs)
            if response.status_code != 429 or expect == 429:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json()

    def get(self, path: str, **params: str) -> Any:
        return self.request("GET", path, 200, params=params)


def _all_pages(client: Client, path: str, items: str, **params: str) -> list[Any]:
    collected: list[Any] = []
    cursor = None
    while True:
        page = client.get(path, **params, **({"cursor": cursor} if cursor else {}))
        collected += page[items]
        cursor = page["next_cursor"]
        if not cursor:
            return collected


def snapshot(world: World) -> dict[str, Any]:
    """Everything A can read about its own data."""
    a = Client(world.url, world.a.key)
    return {
        "scan": a.get(f"/v1/scans/{world.a.scan_id}"),
        "report": a.get(f"/v1/scans/{world.a.scan_id}/report"),
        "findings": _all_pages(a, "/v1/findings", "findings", limit="2"),
        "facets": a.get("/v1/findings", facets=ALL_FACETS)["facets"],
        "finding": [a.get(f"/v1/findings/{fid}") for fid in world.a.finding_ids],
        "waivers": a.get("/v1/waivers"),
        "policy": a.get("/v1/policy"),
        "notifications": a.get("/v1/notifications"),
        "keys": a.get("/v1/keys"),
        "audit": _all_pages(a, "/v1/audit", "entries", limit="3"),
        "pipeline": a.get(f"/v1/pipelines/{A_PIPELINE}"),
        "accounts": a.get("/v1/accounts"),
        "account": a.get(f"/v1/accounts/{A_ACCOUNT}"),
        "account_scan": a.get(f"/v1/scans/{world.a.account_scan_id}"),
        "compliance": {
            framework: _without_time(a.get(f"/v1/compliance/{framework}"))
            for framework in ("cis-docker-1.6", "fsbp")
        },
    }


def _without_time(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "generated_at"}


@pytest.fixture(scope="module")
def world(stack: dict[str, Any]) -> World:
    url = stack["api_url"]
    a_key = stack["api_keys"]["alpha"]
    a = Client(url, a_key)
    b = Client(url, stack["api_keys"]["beta"])
    operator = Client(url, stack["operator_key"])

    a.request("PUT", "/v1/notifications", 200, json={"emails": [A_EMAIL], "daily_digest": False})
    rule = {
        "id": "X-ALPHA-001",
        "title": A_RULE_TITLE,
        "severity": "high",
        "artifact_type": "dockerfile",
        "description": "alpha secret rule description",
        "match": {"target": "base_images"},
        "assert": {"path": "registry", "op": "equals", "value": "registry.alpha.example"},
    }
    policy = a.request("PUT", "/v1/policy", 200, json={"custom_rules": [rule], "fail_on": "high"})
    extra = a.request("POST", "/v1/keys", 201, json={"scopes": ["read"], "name": A_KEY_NAME})
    accepted = a.request(
        "POST",
        "/v1/scans",
        202,
        json={
            "pipeline": A_PIPELINE,
            "run_id": A_RUN,
            "commit": "a1pha5ec",
            "artifacts": [
                {"type": "dockerfile", "path": "alpha/Dockerfile", "content": A_DOCKERFILE},
                {"type": "cloudformation", "path": "alpha/bucket.yaml", "content": A_TEMPLATE},
            ],
        },
    )
    scan_id = accepted["scan_id"]
    scan = _wait(
        lambda: (s := a.get(f"/v1/scans/{scan_id}"))["status"] == "complete" and s,
        "A's scan to complete",
    )
    total = sum(artifact["findings"] for artifact in scan["artifacts"])
    assert total >= 3, scan
    findings = _wait(
        lambda: (f := a.get("/v1/findings", scan_id=scan_id)["findings"]) and len(f) == total and f,
        "A's findings to be indexed",
    )
    report = a.get(f"/v1/scans/{scan_id}/report")
    waived = findings[0]["finding_id"]
    waiver = a.request(
        "POST",
        "/v1/waivers",
        201,
        json={
            "finding_id": waived,
            "justification": A_JUSTIFICATION,
            "approver": "alpha-secret-approver",
            "expires_at": _expires(),
        },
    )
    keys = a.get("/v1/keys")["keys"]
    own_key_id = next(k["key_id"] for k in keys if k["key_id"] != extra["key_id"])
    audit_cursor = a.get("/v1/audit", limit="1")["next_cursor"]
    findings_cursor = a.get("/v1/findings", limit="1")["next_cursor"]
    assert audit_cursor and findings_cursor

    account = a.request(
        "POST", "/v1/accounts", 201, json={"account_id": A_ACCOUNT, "role_arn": A_ROLE}
    )
    account_scan = a.request("POST", f"/v1/accounts/{A_ACCOUNT}/scans", 202)
    posture = _wait(
        lambda: (s := a.get(account_scan["status_url"]))["status"] == "complete" and s,
        "A's account scan to complete",
    )
    assert a.get(f"/v1/accounts/{A_ACCOUNT}")["status"] == "ok"
    posture_total = sum(artifact["findings"] for artifact in posture["artifacts"])
    _wait(  # a scan completes with its findings; the index follows them a moment later
        lambda: (
            len(_all_pages(a, "/v1/findings", "findings", scan_id=posture["scan_id"]))
            == posture_total
        ),
        "A's account findings to be indexed",
    )

    secret_messages = {f["message"] for f in report["findings"] if "alpha" in f["message"]}
    assert len(secret_messages) >= 2, report["findings"]
    needles = {
        "alpha",  # the tenant id itself
        A_PIPELINE,
        A_RUN,
        A_RULE_TITLE,
        A_EMAIL,
        A_KEY_NAME,
        A_JUSTIFICATION,
        "AlphaSecretBucket",
        scan_id,
        waiver["waiver_id"],
        extra["key_id"],
        own_key_id,
        extra["shown"],
        *(k["shown"] for k in keys),
        *(f["finding_id"] for f in report["findings"]),
        *secret_messages,
        A_ACCOUNT,
        A_ROLE,
        account["external_id"],
        account_scan["scan_id"],
    }
    alpha = TenantA(
        key=a_key,
        key_id=own_key_id,
        extra_key=extra["api_key"],
        extra_key_id=extra["key_id"],
        scan_id=scan_id,
        finding_ids=[waived] + [f["finding_id"] for f in findings if f["finding_id"] != waived],
        waiver_id=waiver["waiver_id"],
        policy_version=policy["version"],
        audit_cursor=audit_cursor,
        findings_cursor=findings_cursor,
        account_scan_id=account_scan["scan_id"],
        needles=needles,
    )

    b_keys = {
        scope: b.request("POST", "/v1/keys", 201, json={"scopes": [scope], "name": f"b-{scope}"})[
            "api_key"
        ]
        for scope in TENANT_SCOPES
    }
    revoked = b.request("POST", "/v1/keys", 201, json={"scopes": list(TENANT_SCOPES)})
    b.request("DELETE", f"/v1/keys/{revoked['key_id']}", 200)
    gone = operator.request("POST", "/v1/admin/tenants", 201, json={"tenant_id": "iso-disabled"})
    operator.request("POST", "/v1/admin/tenants/iso-disabled/disable", 200)
    return World(
        url=url,
        a=alpha,
        b_admin=stack["api_keys"]["beta"],
        b_keys=b_keys,
        b_revoked=revoked["api_key"],
        disabled_tenant_key=gone["api_key"],
        operator=stack["operator_key"],
    )


# Operations whose body names A's data: B's request is refused as naming an unknown id.
NAMES_A_IN_BODY = {"create_waiver": 422}


def _expected_for_tenant_key(op: Operation, scopes: set[str]) -> int:
    if op.scope not in scopes:  # also every operator route
        return 403
    if set(op.path_params) - CATALOG_PATH_PARAMS:  # A's id: another tenant's data is not found
        return 404
    return NAMES_A_IN_BODY.get(op.operation_id, op.success)  # else B's own data


def _check(
    world: World,
    op: Operation,
    key: str | None,
    expected: int,
    who: str,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    own: set[str] | None = None,
) -> Iterator[str]:
    own = set() if own is None else own
    response, sent = _call(world, op, key, query, headers)
    where = f"{who} {op}" + (f" ?{query}" if query else "")
    if response.status_code != expected:
        yield f"{where}: {response.status_code} (expected {expected}): {response.text[:300]}"
    for problem in _conforms(op, response):
        yield f"{where}: {response.status_code} does not match the document: {problem}"
    leaked = _leaks(world, response, sent, own)
    if leaked:
        yield f"{where}: {response.status_code} leaks A's data {leaked}: {response.text[:300]}"
    if response.ok and op.method != "GET" and "requestBody" in op.spec:
        own.add(json.dumps(BODIES[op.operation_id](world)))


def test_the_matrix_covers_every_documented_operation() -> None:
    """Every path parameter and every body in the document has a value here."""
    assert len(OPERATIONS) >= 22
    for op in OPERATIONS:
        for name in op.path_params:
            assert name in PATH_VALUES, f"{op}: add A's value for {name!r} to PATH_VALUES"
        if "requestBody" in op.spec:
            assert op.operation_id in BODIES, f"{op}: add a request body to BODIES"
        assert op.scope in (*TENANT_SCOPES, "operator"), op
    assert set(QUERIES) | set(REFUSED_QUERIES) <= {op.operation_id for op in OPERATIONS}


def test_tenant_b_cannot_reach_tenant_a(world: World) -> None:
    before = snapshot(world)
    problems: list[str] = []
    own: set[str] = set()  # what B wrote into its own data: B may read it back
    for op in OPERATIONS:
        for scope, key in world.b_keys.items():
            expected = _expected_for_tenant_key(op, {scope})
            problems += _check(world, op, key, expected, f"B[{scope}]", own=own)
            if expected == op.success and op.method == "GET":
                for query in QUERIES.get(op.operation_id, lambda w: [])(world):
                    problems += _check(world, op, key, expected, f"B[{scope}]", query, own=own)
                for query in REFUSED_QUERIES.get(op.operation_id, lambda w: [])(world):
                    problems += _check(world, op, key, 404, f"B[{scope}]", query, own=own)
    assert not problems, "\n".join(problems)

    after = snapshot(world)
    for part in before:
        assert after[part] == before[part], f"A's {part} changed while B called every operation"
    # A's extra key still works, so B's DELETE of it did nothing
    extra = Client(world.url, world.a.extra_key)
    assert extra.get("/v1/findings", scan_id=world.a.scan_id)["findings"]


def test_the_same_pipeline_and_run_in_two_tenants_are_two_scans(world: World) -> None:
    """B submits A's pipeline name and run id: B gets its own scan, pipeline and findings."""
    before = snapshot(world)
    b = Client(world.url, world.b_admin)
    body = {
        "pipeline": A_PIPELINE,
        "run_id": A_RUN,
        "artifacts": [{"type": "dockerfile", "path": "Dockerfile", "content": B_DOCKERFILE}],
    }
    accepted = b.request("POST", "/v1/scans", 202, json=body)
    assert accepted["scan_id"] != world.a.scan_id
    again = b.request("POST", "/v1/scans", 202, json=body)
    assert again["scan_id"] == accepted["scan_id"]
    scan = _wait(
        lambda: (s := b.get(f"/v1/scans/{accepted['scan_id']}"))["status"] == "complete" and s,
        "B's scan to complete",
    )
    total = sum(artifact["findings"] for artifact in scan["artifacts"])
    _wait(
        lambda: len(b.get("/v1/findings", scan_id=scan["scan_id"])["findings"]) == total,
        "B's findings to be indexed",
    )
    view = b.get(f"/v1/pipelines/{A_PIPELINE}")
    assert [h["scan_id"] for h in view["history"]] == [accepted["scan_id"]]
    found = b.get("/v1/findings", pipeline=A_PIPELINE)
    counted = b.get("/v1/findings", pipeline=A_PIPELINE, facets=ALL_FACETS)["facets"]
    mine = _all_pages(b, "/v1/findings", "findings", pipeline=A_PIPELINE)
    assert counted["pipeline"] == [{"value": A_PIPELINE, "count": len(mine)}]
    assert sum(c["count"] for c in counted["severity"]) == len(mine)
    assert {c["value"] for c in counted["rule_id"]} == {f["rule_id"] for f in mine}
    text = json.dumps([view, found, counted], ensure_ascii=False)
    leaked = {n for n in world.a.needles if n in text and n not in json.dumps(body)}
    assert not leaked
    after = snapshot(world)
    for part in before:
        assert after[part] == before[part], f"A's {part} changed when B used A's pipeline name"


@pytest.mark.parametrize(
    "who",
    [
        "no key",
        "not a bearer token",
        "malformed key",
        "unknown key",
        "revoked key",
        "disabled tenant",
    ],
)
def test_missing_bad_and_revoked_keys_are_401_everywhere(world: World, who: str) -> None:
    key_or_header = {
        "no key": None,
        "not a bearer token": "Basic YWxwaGE6YWxwaGE=",
        "malformed key": "Bearer not-a-key",
        "unknown key": "Bearer pgk_" + "u" * 43,
        "revoked key": f"Bearer {world.b_revoked}",
        "disabled tenant": f"Bearer {world.disabled_tenant_key}",
    }[who]
    headers = {} if key_or_header is None else {"Authorization": key_or_header}
    problems: list[str] = []
    for op in OPERATIONS:
        problems += _check(world, op, None, 401, who, headers=headers)
    assert not problems, "\n".join(problems)


def test_the_operator_key_reads_and_writes_no_tenant_data(world: World) -> None:
    before = snapshot(world)
    problems: list[str] = []
    for op in OPERATIONS:
        if op.scope != "operator":
            problems += _check(world, op, world.operator, 403, "operator")
    assert not problems, "\n".join(problems)
    assert snapshot(world) == before


def test_tenant_keys_cannot_use_the_operator_routes(world: World) -> None:
    """Not A's own all-scope key, not B's: the admin scope is the tenant's, not the operator's."""
    problems: list[str] = []
    for op in OPERATIONS:
        if op.scope == "operator":
            problems += _check(world, op, world.a.key, 403, "A[all scopes]")
            problems += _check(world, op, world.b_admin, 403, "B[all scopes]")
    assert not problems, "\n".join(problems)
    operator = Client(world.url, world.operator)
    tenants = {t["tenant_id"]: t["status"] for t in operator.get("/v1/admin/tenants")["tenants"]}
    assert tenants["alpha"] == tenants["beta"] == "active"
