"""Property-based tests of the running embedded stack against swagger/openapi.yaml (schemathesis).

Every documented operation gets a bounded, derandomized set of requests: valid ones generated
from its schemas (with the stack's real ids in the path, so success responses are checked too),
invalid ones where it takes a body or a query, and the document's examples. Each response must
not be a server error and must conform to the document: a documented status, its content type,
its headers and its schema. Tenant operations run with a fresh tenant's key (all scopes), the
operator's under `/v1/admin` with the operator's key.

A second test sends inputs that generators rarely produce (deep nesting, non-finite numbers,
Unicode digits, hostile path segments) and checks the same, and that the tenant still works.
Two more send large bodies: generated ones with every string and list grown to its documented
maximum, and hand-made ones at and just past each limit (policies of 256 KiB replacing each
other, 100 custom rules with long texts, a scan of 100 templates just under 5 MiB).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from schemathesis import GenerationMode, checks

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e

SPEC_PATH = REPO_ROOT / "swagger" / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
OPERATION_IDS = [
    op["operationId"]
    for item in SPEC["paths"].values()
    for method, op in item.items()
    if method in ("get", "put", "post", "delete", "patch")
]
MAX_EXAMPLES = 25
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
DOCKERFILE = 'FROM ubuntu:latest\nRUN apt-get update\nCMD ["bash"]\n'


@dataclass(frozen=True)
class Fuzzing:
    url: str
    tenant_key: str
    operator_key: str
    path_values: dict[str, str]  # real ids of the fuzzing tenant, by path parameter

    def headers(self, scope: str) -> dict[str, str]:
        key = self.operator_key if scope == "operator" else self.tenant_key
        return {"Authorization": f"Bearer {key}"}


def _request(url: str, key: str, method: str, path: str, expect: int, **kwargs: Any) -> Any:
    response = requests.request(
        method, url + path, headers={"Authorization": f"Bearer {key}"}, timeout=30, **kwargs
    )
    assert response.status_code == expect, (method, path, response.status_code, response.text)
    return response.json()


def _new_tenant(stack: dict[str, Any], tenant_id: str) -> str:
    created = _request(
        stack["api_url"],
        stack["operator_key"],
        "POST",
        "/v1/admin/tenants",
        201,
        json={"tenant_id": tenant_id},
    )
    return created["api_key"]


def _seed(url: str, key: str, operator_key: str, spare_tenant: str) -> dict[str, str]:
    """A complete scan with findings, a waiver, a spare key and a spare tenant: real path ids."""
    body = {
        "pipeline": "fuzz-web",
        "run_id": "fuzz-1",
        "artifacts": [{"type": "dockerfile", "path": "Dockerfile", "content": DOCKERFILE}],
    }
    scan_id = _request(url, key, "POST", "/v1/scans", 202, json=body)["scan_id"]
    deadline = time.monotonic() + 60
    findings: list[dict] = []
    while not findings:
        scan = _request(url, key, "GET", f"/v1/scans/{scan_id}", 200)
        if scan["status"] == "complete":
            findings = _request(url, key, "GET", "/v1/findings", 200, params={"scan_id": scan_id})[
                "findings"
            ]
        assert time.monotonic() < deadline, "the fuzzing tenant's scan did not complete"
        time.sleep(0.2)
    waiver = {
        "rule_id": findings[0]["rule_id"],
        "justification": "accepted while fuzzing the API",
        "approver": "fuzz",
        "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86400)),
    }
    waiver_id = _request(url, key, "POST", "/v1/waivers", 201, json=waiver)["waiver_id"]
    spare = _request(url, key, "POST", "/v1/keys", 201, json={"scopes": ["read"], "name": "spare"})
    _request(url, operator_key, "POST", "/v1/admin/tenants", 201, json={"tenant_id": spare_tenant})
    account = {"account_id": "333344445555", "role_arn": "arn:aws:iam::333344445555:role/fuzz"}
    _request(url, key, "POST", "/v1/accounts", 201, json=account)
    return {
        "account_id": account["account_id"],
        "scan_id": scan_id,
        "finding_id": findings[0]["finding_id"],
        "waiver_id": waiver_id,
        "key_id": spare["key_id"],
        "name": "fuzz-web",
        "tenant_id": spare_tenant,
        "framework": "cis-docker-1.6",
    }


@pytest.fixture(scope="module")
def fuzzing(stack: dict[str, Any]) -> Fuzzing:
    key = _new_tenant(stack, "fuzz")
    values = _seed(stack["api_url"], key, stack["operator_key"], "fuzz-spare")
    return Fuzzing(stack["api_url"], key, stack["operator_key"], values)


@pytest.fixture(scope="module")
def schema() -> Any:
    # The Authorization header is the test's: schemathesis generates no security parameters.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    return schemathesis.openapi.from_path(str(SPEC_PATH), config=config)


def _path_params(operation: Any) -> list[str]:
    return re.findall(r"\{(\w+)\}", operation.path)


def _can_be_invalid(operation: Any) -> bool:
    """Negative examples need something to break besides a path segment (an empty one would
    be another route): a body or a query parameter."""
    raw = operation.definition.raw
    queries = [p for p in map(_resolve, raw.get("parameters", [])) if p["in"] == "query"]
    return "requestBody" in raw or bool(queries)


def _strategy(schema: Any, operation: Any, fuzzing: Fuzzing) -> st.SearchStrategy:
    params = _path_params(operation)
    missing = [p for p in params if p not in fuzzing.path_values]
    assert not missing, f"{operation.label}: seed a real value for {missing} in _seed()"
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    if params:  # the fuzzing tenant's real ids, so that success responses are checked too
        real = {p: fuzzing.path_values[p] for p in params}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real))
    if _can_be_invalid(operation):
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    strategies += schema.get_strategies_from_examples(operation)
    return st.one_of(strategies)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_operation_conforms_to_the_document(
    schema: Any, fuzzing: Fuzzing, operation_id: str
) -> None:
    operation = schema.find_operation_by_id(operation_id)
    headers = fuzzing.headers(operation.definition.raw["x-pipeguard-scope"])
    statuses: dict[int, int] = {}

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time, failing case shown
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=_strategy(schema, operation, fuzzing))
    def check(case: Any) -> None:
        response = case.call(base_url=fuzzing.url, headers=headers, timeout=30)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(
            response, checks=CHECKS, headers=headers, transport_kwargs={"base_url": fuzzing.url}
        )

    check()
    # an operation without inputs has one request to make; the others many distinct ones
    has_inputs = bool(_path_params(operation)) or _can_be_invalid(operation)
    assert sum(statuses.values()) >= (10 if has_inputs else 1), statuses
    assert 401 not in statuses, f"the test's key was refused: {statuses}"


# --- inputs generators rarely produce ---------------------------------------------------------


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in SPEC["paths"].items()
        for method, op in item.items()
        if method in ("get", "put", "post", "delete", "patch")
    ]


def _operation_reached(method: str, path_url: str) -> dict[str, Any] | None:
    """The documented operation a request reached: the client resolves a `..` segment
    (`/v1/accounts/../scans` is `POST /v1/scans`), so that operation's responses apply."""
    path = path_url.split("?", 1)[0]
    for documented, item in sorted(SPEC["paths"].items(), key=lambda p: p[0].count("{")):
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(documented))
        if re.fullmatch(pattern, path) and method.lower() in item:
            return item[method.lower()]
    return None


def _numbers_to(text: str, literal: str) -> str:
    """The JSON text with every number replaced by `literal` (outside strings)."""
    return re.sub(
        r'("(?:[^"\\]|\\.)*")|-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b',
        lambda m: m.group(1) or literal,
        text,
    )


def _hostile_bodies(example: Any) -> list[tuple[str, bytes]]:
    text = json.dumps(example)
    bodies = [
        ("deeply nested array", b"[" * 5000 + b"]" * 5000),
        ("deeply nested object", b'{"a":' * 5000 + b"1" + b"}" * 5000),
        ("not UTF-8", b'{"\xff\xfe": 1}'),
    ]
    if re.search(r'(?<!["\w])\d', text):  # the example has numbers: make them non-finite
        for literal in ("1e400", "NaN", "-Infinity"):
            bodies.append((f"numbers as {literal}", _numbers_to(text, literal).encode()))
    return bodies


HOSTILE_QUERY_VALUES = ["²", "١", "1e400", "NaN", "-0", " 1", "\u00a0", "9" * 400]
HOSTILE_PATH_VALUES = ["%00", "..", "x" * 3000, "ü€😀", "a%2Fb", "%25", " "]


def _problems(method: str, path: str, op: dict[str, Any], response: requests.Response) -> list:
    where = f"{method} {response.request.path_url[:120]}"
    documented = op["responses"].get(str(response.status_code))
    if response.status_code >= 500 or documented is None:
        return [f"{where}: {response.status_code} {response.text[:200]}"]
    contents = _resolve(documented).get("content", {})
    media = response.headers.get("Content-Type", "").split(";")[0].strip()
    if not contents:
        return []
    if media not in contents:
        return [f"{where}: Content-Type {media!r} is not documented"]
    if media != "application/json":
        return []
    schema = {"allOf": [contents[media]["schema"]], "components": SPEC["components"]}
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    return [f"{where}: {e.message[:200]}" for e in validator.iter_errors(response.json())]


def _url(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe="%"))
    return path


def test_hostile_inputs_are_refused_cleanly(stack: dict[str, Any]) -> None:
    """Deep nesting, non-finite numbers, Unicode digits and odd path segments: a documented 4xx
    (or a success), never a 5xx, and the tenant keeps working afterwards."""
    url = stack["api_url"]
    key = _new_tenant(stack, "fuzz-hostile")
    values = _seed(url, key, stack["operator_key"], "fuzz-hostile-spare")

    def send(method: str, path: str, op: dict[str, Any], **kwargs: Any) -> requests.Response:
        scope = op["x-pipeguard-scope"]
        auth = stack["operator_key"] if scope == "operator" else key
        headers = {"Authorization": f"Bearer {auth}", **kwargs.pop("headers", {})}
        return requests.request(method, url + path, headers=headers, timeout=60, **kwargs)

    problems: list[str] = []
    sent = 0
    for method, path, op in _operations():
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            for what, raw in _hostile_bodies(body.get("example", {})):
                response = send(
                    method,
                    _url(path, values),
                    op,
                    data=raw,
                    headers={"Content-Type": "application/json"},
                )
                sent += 1
                problems += [f"{what}: {p}" for p in _problems(method, path, op, response)]
        params = [_resolve(p) for p in op.get("parameters", [])]
        for param in (p for p in params if p["in"] == "query"):
            for value in HOSTILE_QUERY_VALUES:
                response = send(method, _url(path, values), op, params={param["name"]: value})
                sent += 1
                problems += _problems(method, path, op, response)
        for name in re.findall(r"\{(\w+)\}", path):
            for value in HOSTILE_PATH_VALUES:
                response = send(method, _url(path, {**values, name: value}), op)
                sent += 1
                reached = _operation_reached(method, response.request.path_url) or op
                problems += _problems(method, path, reached, response)
    assert sent > 100

    # the tenant still works: every operation without parameters answers as it did
    for method, path, op in _operations():
        if method == "GET" and "{" not in path:
            response = send(method, path, op)
            if response.status_code != 200:
                problems.append(f"afterwards {method} {path}: {response.status_code}")
    assert not problems, "\n".join(problems)


# --- large bodies near the limits ------------------------------------------------------------

MAX_REQUEST = 5 * 1024 * 1024
MAX_POLICY = 256 * 1024
WIDE = "\U0001f600"  # 4 bytes of UTF-8, 12 of ASCII-escaped JSON


def _long_rule(i: int, values: int = 1, text: str = "x") -> dict[str, Any]:
    """A valid custom rule with its texts at their longest."""
    return {
        "id": f"X-BIG-{i:03d}",
        "title": "T" * 200,
        "severity": "high",
        "artifact_type": "dockerfile",
        "description": "d" * 1000,
        "remediation": "r" * 1000,
        "match": {"target": "base_images"},
        "assert": {
            "path": "registry",
            "op": "in",
            "value": [f"{text}{v}" * 500 for v in range(values)],
        },
    }


def _compact(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _policy_of_size(target: int, fail_on: str) -> dict[str, Any]:
    """A valid policy whose compact JSON is exactly `target` bytes."""
    policy: dict[str, Any] = {
        "fail_on": fail_on,
        "custom_rules": [_long_rule(i) for i in range(target // 3400 - 2)],
    }
    values = policy["custom_rules"][-1]["assert"]["value"]
    while len(_compact(policy)) < target:
        values.append("x" * 1000)
    values[-1] = values[-1][: len(values[-1]) - (len(_compact(policy)) - target)]
    assert len(_compact(policy)) == target
    return policy


def _scan_near_the_limit() -> bytes:
    """100 templates with the longest paths and parameters a scan takes, just under 5 MiB."""
    artifacts = []
    for i in range(100):
        artifacts.append(
            {
                "type": "cloudformation",
                "path": f"{i:03d}/" + WIDE * 254,  # 1020 bytes of UTF-8
                "content": "Resources: {}\n",
                "parameters": {f"P{i:03d}": "v" * 640},  # 100 x 651 bytes of JSON < 64 KiB
            }
        )
    body = {"pipeline": "fuzz-large", "run_id": "large-1", "artifacts": artifacts}
    room = MAX_REQUEST - 20_000 - len(_compact(body))
    for artifact in artifacts:
        artifact["content"] += "#" * (room // 100) + "\n"
    raw = _compact(body)
    assert MAX_REQUEST - 25_000 < len(raw) < MAX_REQUEST
    return raw


def test_large_bodies_near_the_limits_are_answered_without_a_server_error(
    either_stack: dict[str, Any],
) -> None:
    """Every write operation with bodies at or near its limits, on both backends (DynamoDB's
    items and transactions have limits of their own): a documented 2xx or 4xx that conforms to
    the document, never a 5xx; what is accepted is live and audited."""
    stack = either_stack
    url = stack["api_url"]
    key = _new_tenant(stack, "fuzz-large")
    ops = {(m, p): op for m, p, op in _operations()}
    problems: list[str] = []

    def send(method: str, template: str, raw: bytes, expect: int, **ids: str) -> requests.Response:
        op = ops[(method, template)]
        path = _url(template, ids)
        auth = stack["operator_key"] if op["x-pipeguard-scope"] == "operator" else key
        headers = {"Authorization": f"Bearer {auth}", "Content-Type": "application/json"}
        response = requests.request(method, url + path, headers=headers, data=raw, timeout=120)
        problems.extend(_problems(method, path, op, response))
        if response.status_code != expect:
            problems.append(
                f"{method} {path} ({len(raw)} bytes): {response.status_code}, expected "
                f"{expect}: {response.text[:200]}"
            )
        return response

    # the policies: 100 rules with long texts (~440 KB) are refused naming the limit
    largest = {"custom_rules": [_long_rule(i, values=2) for i in range(100)]}
    assert 430_000 < len(_compact(largest)) < 460_000
    refused = send("PUT", "/v1/policy", _compact(largest), 422)
    assert str(MAX_POLICY) in refused.json()["error"]["message"]
    # policies at the limit replace each other, each version with its audit entry
    for fail_on in ("low", "critical"):
        send("PUT", "/v1/policy", _compact(_policy_of_size(MAX_POLICY, fail_on)), 200)
    send("PUT", "/v1/policy", _compact(_policy_of_size(MAX_POLICY + 1, "high")), 422)
    # the same long rules as multi-byte text, and a small policy padded to near 5 MiB
    wide = {"custom_rules": [_long_rule(i, text=WIDE) for i in range(15)]}
    send("PUT", "/v1/policy", json.dumps(wide).encode(), 200)  # 4-byte text, sent ASCII-escaped
    padded = b'{"fail_on": "medium"' + b" " * (MAX_REQUEST - 100) + b"}"
    send("PUT", "/v1/policy", padded, 200)
    send("PUT", "/v1/policy", _compact({"disabled_rules": ["x" * 1000] * 5000}), 422)
    send("PUT", "/v1/policy", b'{"fail_on": "low"' + b" " * MAX_REQUEST + b"}", 413)

    # a scan of 100 templates with the longest paths and parameters, just under 5 MiB
    accepted = send("POST", "/v1/scans", _scan_near_the_limit(), 202)

    # every other write with each string at its longest, in 4-byte characters where free text
    waiver = {
        "rule_id": "DF-USER-001",
        "pipeline": "p" * 200,
        "path": WIDE * 1024,
        "resource": WIDE * 512,
        "justification": WIDE * 2000,
        "approver": WIDE * 200,
        "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400)),
    }
    waiver_id = send("POST", "/v1/waivers", _compact(waiver), 201).json().get("waiver_id", "")
    send("DELETE", "/v1/waivers/{waiver_id}", b"", 200, waiver_id=waiver_id)
    spare = send("POST", "/v1/keys", _compact({"scopes": ["read"], "name": WIDE * 100}), 201)
    send("DELETE", "/v1/keys/{key_id}", b"", 200, key_id=spare.json().get("key_id", ""))
    emails = [f"{i:02d}" + "a" * 62 + "@" + "b" * 253 + "." + "c" * 63 for i in range(20)]
    send("PUT", "/v1/notifications", _compact({"emails": emails, "min_severity": "low"}), 200)
    tenant = {"tenant_id": "fuzz-large-" + "x" * 52, "name": WIDE * 200}
    send("POST", "/v1/admin/tenants", _compact(tenant), 201)
    send("POST", "/v1/admin/tenants/{tenant_id}/disable", b"", 200, tenant_id=tenant["tenant_id"])
    assert not problems, "\n".join(problems)

    def get(path: str, **params: str) -> Any:
        return _request(url, key, "GET", path, 200, params=params)

    current = get("/v1/policy")
    assert (current["version"], current["fail_on"]) == (4, "medium")
    log = get("/v1/audit", limit="200")["entries"]
    versions = [e["after"]["version"] for e in log if e["action"] == "policy.update"]
    assert versions == [4, 3, 2, 1]
    assert [e["action"] for e in log if e["action"] != "policy.update"] == [
        "notifications.update", "key.revoke", "key.issue", "waiver.revoke", "waiver.create",
        "tenant.create",
    ]  # fmt: skip
    scan_url = accepted.json()["status_url"]
    deadline = time.monotonic() + 180
    while (scan := get(scan_url))["status"] != "complete":
        assert scan["status"] in ("queued", "running"), scan
        assert time.monotonic() < deadline, f"the large scan did not complete: {scan['status']}"
        time.sleep(0.5)
    assert scan["artifacts_done"] == 100


WRITE_OPERATION_IDS = [
    op["operationId"]
    for item in SPEC["paths"].values()
    for method, op in item.items()
    if method in ("put", "post") and "requestBody" in op
]


class _Stretcher:
    """Grows a generated body to the schema's limits: every string with a `maxLength` to that
    length (each value distinct; every other body in 4-byte characters where the pattern
    allows them, which some fields refuse as over their limit in bytes), every non-empty array
    with a `maxItems` to that many items, and date-times to tomorrow."""

    def __init__(self) -> None:
        self.count = 0
        self.fill = "a"

    def body(self, value: Any, schema: dict[str, Any]) -> Any:
        self.fill = WIDE if self.fill == "a" else "a"
        return self(value, schema)

    def __call__(self, value: Any, schema: dict[str, Any]) -> Any:
        schema = _resolve(schema)
        if len(schema.get("allOf", [])) == 1:
            schema = {**_resolve(schema["allOf"][0]), **schema}
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            return {
                k: self(v, properties.get(k, extra if isinstance(extra, dict) else {}))
                for k, v in value.items()
            }
        if isinstance(value, list):
            items = list(value)
            if items and "maxItems" in schema:
                items = [items[i % len(items)] for i in range(schema["maxItems"])]
            return [self(v, schema.get("items", {})) for v in items]
        if isinstance(value, str) and schema.get("format") == "date-time":
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
        if isinstance(value, str) and "maxLength" in schema and "format" not in schema:
            return self._string(value, schema)
        return value

    def _string(self, value: str, schema: dict[str, Any]) -> str:
        self.count += 1
        tag = f"{self.count}"
        pattern = schema.get("pattern")
        for fill in (self.fill, "a"):
            grown = tag + fill * (schema["maxLength"] - len(tag))
            if pattern is None or re.search(pattern, grown):
                return grown
        return value


@pytest.mark.parametrize("operation_id", WRITE_OPERATION_IDS)
def test_generated_bodies_stretched_to_their_limits_are_not_server_errors(
    schema: Any, fuzzing: Fuzzing, operation_id: str
) -> None:
    """Schemathesis' valid bodies of every write operation, each string and list grown to its
    documented maximum: a documented answer that conforms to the document, never a 5xx."""
    operation = schema.find_operation_by_id(operation_id)
    raw = operation.definition.raw
    body_schema = raw["requestBody"]["content"]["application/json"]["schema"]
    headers = fuzzing.headers(raw["x-pipeguard-scope"])
    stretch = _Stretcher()
    statuses: dict[int, int] = {}

    def stretched(case: Any) -> Any:
        case.body = stretch.body(case.body, body_schema)
        return case

    @settings(
        max_examples=10,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(GenerationMode.POSITIVE).map(stretched))
    def check(case: Any) -> None:
        response = case.call(base_url=fuzzing.url, headers=headers, timeout=60)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(
            response, checks=CHECKS, headers=headers, transport_kwargs={"base_url": fuzzing.url}
        )

    check()
    assert sum(statuses.values()) >= 5, statuses
