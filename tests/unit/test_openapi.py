"""swagger/openapi.yaml is a valid OpenAPI 3.0 document that matches the app it describes."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate

from tests.conftest import REPO_ROOT

SPEC_PATH = REPO_ROOT / "swagger" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BEARER = "bearerAuth"
SCOPE = "x-pipeguard-scope"
ERROR_REF = "#/components/schemas/Error"
# Constraints the models enforce in field validators (so not in their JSON schema), by path
# inside the field's normalised constraints.
VALIDATOR_CONSTRAINTS = {
    ("ArtifactIn", "path"): [("pattern",)],
    ("NotificationSettings", "emails"): [("items", "pattern")],
}
# Constraints that come from the service settings, not the model (checked on their own).
SETTINGS_CONSTRAINTS = {("ScanRequest", "artifacts"): [("maxItems",)]}
# Fields the document describes in more detail than the model's JSON schema (checked on their
# own): the policy's custom rules are validated by `engine.custom.CustomRule`.
DETAILED_IN_THE_DOCUMENT = {("Policy", "custom_rules"): [("items",)]}
# Every request body, by operation: (components schema, the pydantic model that parses it).
REQUEST_MODELS = {
    "create_scan": ("ScanRequest", "chalicelib.models:ScanRequest"),
    "create_upload": ("UploadRequest", "chalicelib.models:UploadRequest"),
    "put_notifications": ("NotificationSettings", "chalicelib.notifications:NotificationSettings"),
    "put_policy": ("Policy", "chalicelib.policy:Policy"),
    "create_waiver": ("WaiverRequest", "chalicelib.waivers:WaiverRequest"),
    "create_key": ("NewKey", "chalicelib.views.keys:NewKey"),
    "create_tenant": ("NewTenant", "chalicelib.views.admin:NewTenant"),
    "reindex": ("ReindexRequest", "chalicelib.views.admin:ReindexRequest"),
    "create_account": ("AccountRequest", "chalicelib.accounts:AccountRequest"),
}
# Every status each operation can answer. 401, 403 (scope), 429 (rate limit) and 500 can
# happen anywhere; 415 on every operation but GET (its Content-Type is checked); 400/422 where
# a JSON body or query is parsed; the rest are the views' own.
COMMON = {"401", "403", "429", "500"}
STATUSES = {
    ("POST", "/v1/scans"): {"202", "400", "409", "413", "415", "422", "503"},
    ("POST", "/v1/uploads"): {"201", "400", "413", "415", "422", "503"},
    ("GET", "/v1/scans/{scan_id}"): {"200", "404"},
    ("GET", "/v1/scans/{scan_id}/report"): {"200", "404", "409"},
    ("GET", "/v1/findings"): {"200", "400", "422"},
    ("GET", "/v1/findings/{finding_id}"): {"200", "404"},
    ("GET", "/v1/trends"): {"200", "422"},
    ("GET", "/v1/notifications"): {"200"},
    ("PUT", "/v1/notifications"): {"200", "400", "413", "415", "422"},
    ("GET", "/v1/policy"): {"200", "404", "422"},
    ("PUT", "/v1/policy"): {"200", "400", "409", "413", "415", "422"},
    ("POST", "/v1/waivers"): {"201", "400", "413", "415", "422"},
    ("GET", "/v1/waivers"): {"200", "400", "422"},
    ("DELETE", "/v1/waivers/{waiver_id}"): {"200", "404", "409", "415"},
    ("GET", "/v1/pipelines/{name}"): {"200", "404"},
    ("GET", "/v1/compliance"): {"200", "404", "422"},
    ("GET", "/v1/compliance/{framework}"): {"200", "404", "422"},
    ("POST", "/v1/keys"): {"201", "400", "413", "415", "422"},
    ("GET", "/v1/keys"): {"200", "400", "422"},
    ("DELETE", "/v1/keys/{key_id}"): {"200", "404", "415", "422"},
    ("GET", "/v1/audit"): {"200", "400", "422"},
    ("POST", "/v1/admin/tenants"): {"201", "400", "409", "413", "415", "422"},
    ("GET", "/v1/admin/tenants"): {"200", "400", "422"},
    ("POST", "/v1/admin/tenants/{tenant_id}/disable"): {"200", "404", "409", "415"},
    ("POST", "/v1/admin/tenants/{tenant_id}/enable"): {"200", "404", "409", "415"},
    ("POST", "/v1/admin/reindex"): {"200", "400", "404", "413", "415", "422"},
    ("POST", "/v1/accounts"): {"201", "400", "409", "413", "415", "422"},
    ("GET", "/v1/accounts"): {"200", "400", "422"},
    ("GET", "/v1/accounts/{account_id}"): {"200", "404"},
    ("DELETE", "/v1/accounts/{account_id}"): {"204", "404", "415"},
    ("POST", "/v1/accounts/{account_id}/scans"): {"202", "404", "415", "503"},
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def routes() -> dict[str, dict[str, Any]]:
    import app
    from chalicelib.config import settings

    settings.cache_clear()  # importing the app read the settings; later tests read their own
    return app.app.routes


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s (`#/components/...`) until a node without one."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]


def validator(spec: dict[str, Any], node: dict[str, Any]) -> OAS30Validator:
    """A validator of `node` whose `#/components/...` references resolve in `spec`."""
    root = {"allOf": [node], "components": spec["components"]}
    return OAS30Validator(root, format_checker=oas30_format_checker)


def assert_valid(spec: dict[str, Any], name: str, document: Any) -> None:
    errors = list(validator(spec, {"$ref": f"#/components/schemas/{name}"}).iter_errors(document))
    assert not errors, (name, errors[0].message, list(errors[0].absolute_path))


def examples_of(content: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for media, body in content.items():
        if "example" in body:
            yield media, body["example"]
        for name, example in body.get("examples", {}).items():
            yield f"{media} {name}", example["value"]


def _import(target: str) -> Any:
    import importlib

    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def test_document_is_valid_openapi_3_0(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "Pipeguard API"
    assert "Authorization: Bearer <api key>" in spec["info"]["description"]
    assert "http://127.0.0.1:8000" in [server["url"] for server in spec["servers"]]
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert spec["info"]["version"] == project["project"]["version"]


def test_bearer_security_applies_to_every_operation(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"][BEARER]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert spec["security"] == [{BEARER: []}]
    for method, path, operation in operations(spec):
        assert operation.get("security", spec["security"]) == [{BEARER: []}], (method, path)


def test_operations_are_the_chalice_routes(
    spec: dict[str, Any], routes: dict[str, dict[str, Any]]
) -> None:
    documented = {(method, path): op["operationId"] for method, path, op in operations(spec)}
    served = {
        (method, path): entry.view_name
        for path, methods in routes.items()
        for method, entry in methods.items()
    }
    assert set(documented) == set(served)
    assert documented == served


def test_operations_are_the_route_table_with_its_scopes(spec: dict[str, Any]) -> None:
    """operationId is the view's name and `x-pipeguard-scope` the scope the route checks; the
    description says the scope too (and that only the operator's key has `operator`)."""
    from chalicelib.routes import ROUTES
    from chalicelib.tenancy import SCOPES

    documented = {
        (method, path): (op["operationId"], op[SCOPE]) for method, path, op in operations(spec)
    }
    table = {(r.method, r.path): (r.name, r.scope) for r in ROUTES}
    assert documented == table
    assert len({name for name, _ in table.values()}) == len(table), "operationIds are unique"
    for method, path, operation in operations(spec):
        scope = operation[SCOPE]
        assert scope in (*SCOPES, "operator"), (method, path)
        assert f"Scope: `{scope}`" in operation["description"], (method, path)
        key = "the operator's key" if scope == "operator" else "tenant key"
        assert key in operation["description"], (method, path)
        assert path.startswith("/v1/admin/") == (scope == "operator"), (method, path)


def test_path_parameters_are_the_view_arguments(
    spec: dict[str, Any], routes: dict[str, dict[str, Any]]
) -> None:
    for method, path, operation in operations(spec):
        declared = [
            resolve(spec, p)
            for p in spec["paths"][path].get("parameters", []) + operation.get("parameters", [])
        ]
        in_path = {p["name"] for p in declared if p["in"] == "path"}
        assert all(p["required"] for p in declared if p["in"] == "path")
        assert in_path == set(re.findall(r"\{(\w+)\}", path)), (method, path)
        assert in_path == set(routes[path][method].view_args), (method, path)


_KEYWORDS = (
    "type",
    "format",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "maxProperties",
    "enum",
    "minimum",
    "maximum",
)


def _constraints(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """The constraints of a pydantic or OpenAPI property in one comparable shape: pydantic's
    `X | None` and `exclusiveMinimum`, OpenAPI's `nullable` and `allOf: [$ref]` normalised,
    references to enums resolved, items and map values included."""
    branches = [b for b in node.get("anyOf", [node]) if b.get("type") != "null"]
    assert len(branches) == 1, node
    branch = branches[0]
    if len(branch.get("allOf", [])) == 1:
        branch = {**branch["allOf"][0], **{k: v for k, v in branch.items() if k != "allOf"}}
    if "$ref" in branch:
        name = branch["$ref"].rsplit("/", 1)[1]
        target = definitions[name]
        if "enum" not in target:
            return {"ref": name, "nullable": _nullable(node)}
        branch = {"type": target.get("type", "string"), "enum": target["enum"]}
    constraints = {key: branch[key] for key in _KEYWORDS if key in branch}
    if "exclusiveMinimum" in branch:  # pydantic's gt=n on an integer is minimum n + 1
        assert branch["type"] == "integer" and not isinstance(branch["exclusiveMinimum"], bool)
        constraints["minimum"] = branch["exclusiveMinimum"] + 1
    if "items" in branch:
        constraints["items"] = _constraints(branch["items"], definitions)
    if isinstance(branch.get("additionalProperties"), dict):
        constraints["values"] = _constraints(branch["additionalProperties"], definitions)
    constraints["nullable"] = _nullable(node)
    if "default" in node:
        constraints["default"] = node["default"]
    return constraints


def _nullable(node: dict[str, Any]) -> bool:
    return any(b.get("type") == "null" for b in node.get("anyOf", [])) or node.get(
        "nullable", False
    )


def _drop(constraints: dict[str, Any], path: tuple[str, ...]) -> None:
    *parents, last = path
    for part in parents:
        constraints = constraints[part]
    constraints.pop(last)


@pytest.mark.parametrize("operation_id", sorted(REQUEST_MODELS))
def test_request_schemas_mirror_the_pydantic_models(
    spec: dict[str, Any], operation_id: str
) -> None:
    name, target = REQUEST_MODELS[operation_id]
    model = _import(target).model_json_schema(by_alias=True)
    documented = schema(spec, name)
    assert documented["type"] == "object"
    assert documented["additionalProperties"] is False
    assert model["additionalProperties"] is False
    assert list(documented["properties"]) == list(model["properties"])
    assert set(documented.get("required", [])) == set(model.get("required", []))
    components = spec["components"]["schemas"]
    for field, node in model["properties"].items():
        ours = _constraints(documented["properties"][field], components)
        theirs = _constraints(node, model.get("$defs", {}))
        for path in VALIDATOR_CONSTRAINTS.get((name, field), []):
            _drop(ours, path)
        for path in SETTINGS_CONSTRAINTS.get((name, field), []):
            _drop(ours, path)
        for path in DETAILED_IN_THE_DOCUMENT.get((name, field), []):
            _drop(ours, path)
            _drop(theirs, path)
        assert ours == theirs, (name, field)


def test_every_request_body_is_a_known_model(spec: dict[str, Any]) -> None:
    bodies = {}
    for method, path, operation in operations(spec):
        if "requestBody" in operation:
            body = operation["requestBody"]
            assert body["required"] is True, (method, path)
            assert list(body["content"]) == ["application/json"], (method, path)
            reference = body["content"]["application/json"]["schema"]["$ref"]
            bodies[operation["operationId"]] = reference.rsplit("/", 1)[1]
    assert bodies == {op: name for op, (name, _) in REQUEST_MODELS.items()}


def test_custom_rule_schema_mirrors_the_engine_model(spec: dict[str, Any]) -> None:
    from chalicelib.engine.custom import CustomRule

    model = CustomRule.model_json_schema(by_alias=True)
    documented = schema(spec, "CustomRule")
    assert documented["additionalProperties"] is False
    assert list(documented["properties"]) == list(model["properties"])
    assert set(documented["required"]) == set(model["required"])
    for field in ("id", "title", "severity", "artifact_type", "description", "remediation"):
        ours = _constraints(documented["properties"][field], spec["components"]["schemas"])
        assert ours == _constraints(model["properties"][field], model["$defs"]), field
    for field in ("match", "assert"):  # nested models, documented as objects
        assert documented["properties"][field]["type"] == "object"


@pytest.mark.parametrize(
    ("value", "valid"),
    [("docker/Dockerfile", True), ("a b/ü.yaml", True), ("a\nb", False), ("\x00", False)],
)
def test_artifact_path_pattern_agrees_with_the_validator(
    spec: dict[str, Any], value: str, valid: bool
) -> None:
    """The model forbids control characters in a validator; the document says it by a pattern."""
    from pydantic import ValidationError

    from chalicelib.models import ArtifactIn

    pattern = schema(spec, "ArtifactIn")["properties"]["path"]["pattern"]
    assert bool(re.search(pattern, value)) is valid
    try:
        ArtifactIn(type="junit", path=value, content="")
    except ValidationError:
        assert not valid
    else:
        assert valid


def test_email_pattern_is_the_validators(spec: dict[str, Any]) -> None:
    from chalicelib import notifications

    emails = schema(spec, "NotificationSettings")["properties"]["emails"]
    assert emails["items"]["pattern"] == notifications._EMAIL.pattern


@pytest.mark.parametrize(
    ("artifact", "valid"),
    [
        ({"content": "FROM a\n"}, True),
        ({"upload_id": "upl_" + "0" * 24}, True),
        ({"content": None, "upload_id": "upl_" + "0" * 24}, True),
        ({"content": "FROM a\n", "upload_id": None}, True),
        ({"content": "FROM a\n", "upload_id": "upl_" + "0" * 24}, False),
        ({}, False),
        ({"content": None, "upload_id": None}, False),
    ],
)
def test_artifact_body_is_content_or_upload_like_the_model(
    spec: dict[str, Any], artifact: dict[str, Any], valid: bool
) -> None:
    from pydantic import ValidationError

    from chalicelib.models import ArtifactIn

    document = {"type": "dockerfile", "path": "Dockerfile", **artifact}
    check = validator(spec, {"$ref": "#/components/schemas/ArtifactIn"})
    assert check.is_valid(document) is valid
    try:
        ArtifactIn.model_validate(document)
    except ValidationError:
        assert not valid
    else:
        assert valid


@pytest.mark.parametrize(
    ("waiver", "valid"),
    [
        ({"rule_id": "DF-USER-001"}, True),
        ({"finding_id": "fnd_" + "a" * 24}, True),
        ({"finding_id": None, "rule_id": "DF-USER-001"}, True),
        ({}, False),
        ({"finding_id": None, "rule_id": None}, False),
    ],
)
def test_waiver_names_a_finding_or_a_rule_like_the_model(
    spec: dict[str, Any], waiver: dict[str, Any], valid: bool
) -> None:
    from pydantic import ValidationError

    from chalicelib.waivers import WaiverRequest

    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    document = {"justification": "j" * 10, "approver": "a", "expires_at": expires, **waiver}
    assert validator(spec, {"$ref": "#/components/schemas/WaiverRequest"}).is_valid(document) is (
        valid
    )
    try:
        WaiverRequest.model_validate(document)
    except ValidationError:
        assert not valid
    else:
        assert valid


def test_scan_request_artifacts_and_limits(spec: dict[str, Any], monkeypatch: Any) -> None:
    from chalicelib.config import Settings
    from chalicelib.models import ScanRequest

    monkeypatch.delenv("MAX_ARTIFACTS_PER_SCAN", raising=False)
    artifacts = schema(spec, "ScanRequest")["properties"]["artifacts"]
    model = ScanRequest.model_json_schema()["properties"]["artifacts"]
    assert artifacts["type"] == "array"
    assert artifacts["items"] == {"$ref": "#/components/schemas/ArtifactIn"}
    assert artifacts["minItems"] == model["minItems"] == 1
    assert artifacts["maxItems"] == Settings.from_env().max_artifacts_per_scan == 100
    artifact_type = schema(spec, "ArtifactIn")["properties"]["type"]
    assert artifact_type == {"$ref": "#/components/schemas/ArtifactType"}


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("ArtifactType", "chalicelib.models:ArtifactType"),
        ("Severity", "chalicelib.models:Severity"),
        ("ScanStatus", "chalicelib.models:ScanStatus"),
        ("FindingStatus", "chalicelib.queries:STATUSES"),
        ("TenantScope", "chalicelib.tenancy:SCOPES"),
        ("AccountStatus", "chalicelib.accounts:STATUSES"),
    ],
)
def test_enums_match_the_code(spec: dict[str, Any], name: str, values: str) -> None:
    expected = [getattr(v, "value", v) for v in _import(values)]
    assert schema(spec, name)["enum"] == expected


def test_finding_lifecycle_and_status_match_the_lifecycle(spec: dict[str, Any]) -> None:
    from chalicelib import lifecycle

    lifecycles = schema(spec, "FindingLifecycle")["enum"]
    assert set(lifecycles) == {*lifecycle.ACTIVE, "fixed"}
    assert set(schema(spec, "FindingStatus")["enum"]) == {*lifecycles, *lifecycle.NOT_COUNTED}


def test_verdict_is_a_verdict_or_null(spec: dict[str, Any]) -> None:
    from chalicelib.models import Verdict

    for name in ("Scan", "PipelineScan", "Pipeline"):
        verdict = schema(spec, name)["properties"]["verdict"]
        assert verdict["nullable"] is True
        assert verdict["enum"] == [v.value for v in Verdict] + [None]
    assert schema(spec, "ScanReport")["properties"]["verdict"]["enum"] == [v.value for v in Verdict]


def test_findings_query_parameters_match_finding_query(spec: dict[str, Any]) -> None:
    from chalicelib.search.port import FindingQuery

    operation = spec["paths"]["/v1/findings"]["get"]
    params = {p["name"]: p for p in (resolve(spec, p) for p in operation["parameters"])}
    assert all(p["in"] == "query" and not p.get("required") for p in params.values())
    assert list(params) == list(FindingQuery.model_fields)
    limit = FindingQuery.model_json_schema()["properties"]["limit"]
    documented = params["limit"]["schema"]
    assert documented["type"] == "integer"
    assert (documented["minimum"], documented["maximum"], documented["default"]) == (
        limit["minimum"],
        limit["maximum"],
        limit["default"],
    )
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 500, 50)
    q = FindingQuery.model_json_schema()["properties"]["q"]
    assert params["q"]["schema"]["maxLength"] == _constraints(q, {})["maxLength"]
    assert params["severity"]["schema"] == {"$ref": "#/components/schemas/Severity"}
    assert params["artifact_type"]["schema"] == {"$ref": "#/components/schemas/ArtifactType"}
    assert params["status"]["schema"] == {"$ref": "#/components/schemas/FindingStatus"}


# The query model of every operation that reads a query string; every other one declares none.
QUERY_MODELS = {
    "list_findings": "chalicelib.search.port:FindingQuery",
    "list_waivers": "chalicelib.paging:PageQuery",
    "list_keys": "chalicelib.paging:PageQuery",
    "list_audit": "chalicelib.paging:PageQuery",
    "list_tenants": "chalicelib.paging:PageQuery",
    "list_accounts": "chalicelib.paging:PageQuery",
    "get_policy": "chalicelib.views.policy:PolicyQuery",
    "get_compliance": "chalicelib.views.compliance:OverviewQuery",
    "get_compliance_report": "chalicelib.views.compliance:ReportQuery",
    "get_trends": "chalicelib.trend_series:TrendQuery",
}


def test_query_parameters_are_the_query_models(spec: dict[str, Any]) -> None:
    """Each operation documents exactly its query model's parameters, integers with the
    model's range; list operations page with `limit` and `cursor`."""
    for _, _, operation in operations(spec):
        params = {
            p["name"]: p
            for p in (resolve(spec, p) for p in operation.get("parameters", []))
            if p["in"] == "query"
        }
        target = QUERY_MODELS.get(operation["operationId"])
        if target is None:
            assert not params, operation["operationId"]
            continue
        model = _import(target)
        names = [field.alias or name for name, field in model.model_fields.items()]
        assert list(params) == names, operation["operationId"]
        properties = model.model_json_schema()["properties"]
        for name, param in params.items():
            assert not param.get("required"), (operation["operationId"], name)
            if param["schema"].get("type") == "integer":
                ours = {k: param["schema"].get(k) for k in ("minimum", "maximum", "default")}
                node = _constraints(properties[name], {})
                theirs = {k: node.get(k) for k in ("minimum", "maximum", "default")}
                assert ours == theirs, (operation["operationId"], name)
        if operation["operationId"].startswith("list_"):
            assert {"limit", "cursor"} <= set(params), operation["operationId"]
            assert {"400", "422"} <= set(operation["responses"]), operation["operationId"]


def test_list_views_take_only_their_query(spec: dict[str, Any], monkeypatch: Any) -> None:
    """`list_audit` passes `limit` (1..200, default 50) and `cursor` on, and refuses the rest."""
    from chalicelib import audit
    from chalicelib.errors import ValidationFailed
    from chalicelib.views import keys

    limit = resolve(spec, {"$ref": "#/components/parameters/Limit"})["schema"]
    asked: list[tuple] = []
    monkeypatch.setattr(audit, "entries", lambda *args: asked.append(args) or {})
    keys.list_audit(_call())
    keys.list_audit(_call(query={"limit": str(limit["minimum"]), "cursor": "c"}))
    keys.list_audit(_call(query={"limit": str(limit["maximum"]), "cursor": ""}))
    assert [a[1:] for a in asked] == [(limit["default"], None), (1, "c"), (200, None)]
    for query in (
        {"limit": str(limit["minimum"] - 1)},
        {"limit": str(limit["maximum"] + 1)},
        {"limit": "abc"},
        {"limit": " 1"},
        {"limit": "1_0"},
        {"limit": "\u00b2"},
        {"colour": "red"},
    ):
        with pytest.raises(ValidationFailed) as refused:
            keys.list_audit(_call(query=query))
        assert refused.value.details[0]["field"] == next(iter(query))


def _fields(spec: dict[str, Any], name: str, produced: dict[str, Any], optional: set[str]) -> None:
    """The schema lists exactly the fields the code produced (plus `optional` ones it may add),
    requires all but `optional`, and the produced document is valid."""
    documented = schema(spec, name)
    assert documented["additionalProperties"] is False, name
    assert set(documented["properties"]) == set(produced) | optional, name
    assert set(documented["required"]) == set(documented["properties"]) - optional, name
    assert_valid(spec, name, produced)


def _call(body: Any = None, query: dict[str, str] | None = None, key_id: str = "key_self") -> Any:
    import json

    from chalicelib.tenancy import Principal
    from chalicelib.views.call import Call

    principal = Principal("acme", key_id, frozenset({"ingest", "read", "admin"}))
    raw = None if body is None else json.dumps(body).encode()
    return Call(principal=principal, body=raw, query=query or {}, correlation_id="c" * 8)


NOW = "2026-11-28T09:41:32.431+00:00"
COUNTS = {"info": 0, "low": 1, "medium": 0, "high": 1, "critical": 0}


def _finding(**changes: Any) -> dict[str, Any]:
    from chalicelib.models import Finding

    finding = Finding(
        tenant_id="acme",
        finding_id="fnd_" + "a" * 24,
        scan_id="scn_" + "b" * 24,
        pipeline="web",
        run_id="r1",
        artifact_type="dockerfile",
        path="Dockerfile",
        rule_id="DF-USER-001",
        title="Container runs as root",
        severity="high",
        message="never sets USER",
        first_seen=NOW,
        last_seen=NOW,
    ).public()
    return {**finding, **changes}


def test_finding_schema_is_the_model(spec: dict[str, Any]) -> None:
    """Every view has every field but `fixed_at`/`fixed_in_scan`, which only fixed findings (and
    `GET /v1/findings/{id}`, as null) carry."""
    from chalicelib.models import Finding

    one = _finding()
    assert set(one) == set(Finding.model_fields) - {"tenant_id"}
    _fields(spec, "Finding", one, {"fixed_at", "fixed_in_scan"})
    listed = {k: v for k, v in one.items() if k not in ("fixed_at", "fixed_in_scan")}
    assert_valid(spec, "Finding", listed)
    fixed = _finding(status="fixed", lifecycle="fixed", fixed_at=NOW, fixed_in_scan="scn_x")
    assert_valid(spec, "Finding", fixed)
    for field in ("commit", "resource", "line", "suppression", "waiver_id", "fixed_at"):
        assert schema(spec, "Finding")["properties"][field]["nullable"] is True


def test_scan_schemas_match_what_the_code_returns(spec: dict[str, Any]) -> None:
    from chalicelib.ingest import accepted
    from chalicelib.queries import _SCAN_FIELDS
    from chalicelib.search.port import FACET_FIELDS, FacetCount, FindingPage

    _fields(spec, "ScanAccepted", accepted("scn_" + "0" * 24, "queued"), set())
    scan_extras = {"artifacts_total", "artifacts_done", "artifacts", "findings_url"}
    documented = schema(spec, "Scan")
    assert set(documented["properties"]) == set(_SCAN_FIELDS) | scan_extras
    assert set(documented["required"]) == set(documented["properties"])
    assert documented["additionalProperties"] is False
    page = FindingPage(findings=[_finding()], next_cursor=None).model_dump(exclude={"facets"})
    _fields(spec, "FindingPage", page, {"facets"})
    counted = {field: [FacetCount(value="x", count=1)] for field in FACET_FIELDS}
    with_facets = FindingPage(findings=[], next_cursor=None, facets=counted).model_dump()
    assert_valid(spec, "FindingPage", with_facets)
    documented_facets = schema(spec, "FindingPage")["properties"]["facets"]["properties"]
    assert set(documented_facets) == set(FACET_FIELDS)
    assert schema(spec, "FindingPage")["properties"]["next_cursor"]["nullable"] is True


def test_report_schema_matches_the_report_evaluate_writes(
    spec: dict[str, Any], monkeypatch: Any
) -> None:
    from chalicelib import evaluate

    fixed = _finding(status="fixed", lifecycle="fixed", fixed_at=NOW, fixed_in_scan="scn_y")
    part = {"findings": [_finding()], "fixed": [fixed]}
    monkeypatch.setattr(evaluate.blobs, "get_json", lambda tenant_id, key: part)
    scan = {
        "tenant_id": "acme",
        "scan_id": "scn_" + "b" * 24,
        "pipeline": "web",
        "run_id": "r1",
        "commit": None,
        "fail_on": "high",
        "received_at": NOW,
        "policy_version": 2,
        "artifacts": [
            {"index": 0, "type": "dockerfile", "path": "D", "sha256": "0" * 64, "size": 3}
        ],
        "results": {"0": {"status": "evaluated", "error": None, "counts": COUNTS, "findings": 1}},
    }
    fields = {
        "verdict": "fail",
        "counts": COUNTS,
        "missing_artifact_types": ["junit"],
        "completed_at": NOW,
    }
    _fields(spec, "ScanReport", evaluate._report(scan, fields), set())


def test_pipeline_schema_matches_the_view(spec: dict[str, Any], monkeypatch: Any) -> None:
    from chalicelib.views import policy as view

    scan = {
        "scan_id": "scn_" + "b" * 24,
        "run_id": "r1",
        "commit": "abc",
        "received_at": NOW,
        "status": "complete",
        "verdict": "fail",
        "counts": COUNTS,
        "policy_version": 0,
        "tenant_id": "acme",
        "pipeline_key": "acme#x",
        "results": {},
    }
    stored = {**_finding(), "tenant_id": "acme", "artifact_key": "k", "pipeline_key": "p"}
    stored.pop("fixed_at"), stored.pop("fixed_in_scan")
    waived = {**stored, "finding_id": "fnd_" + "c" * 24, "status": "waived"}
    monkeypatch.setattr(view.scans, "of_pipeline", lambda tenant_id, key: [scan])
    monkeypatch.setattr(
        view.findings, "of_pipeline", lambda tenant_id, key: [dict(stored), dict(waived)]
    )
    pipeline = view.get_pipeline(_call(), "web")
    _fields(spec, "Pipeline", pipeline, set())
    assert len(pipeline["open_findings"]) == len(pipeline["accepted_findings"]) == 1
    _fields(spec, "PipelineScan", pipeline["history"][0], set())


def test_policy_and_notification_responses_match_the_models(
    spec: dict[str, Any], monkeypatch: Any
) -> None:
    from chalicelib import notifications
    from chalicelib import policy as policies
    from chalicelib.views import policy as view

    monkeypatch.setattr(policies, "current_version", lambda tenant_id: 0)
    current = view.get_policy(_call())
    _fields(spec, "PolicyVersion", current, set())
    assert set(current) == {"version"} | set(policies.Policy.model_fields)
    settings = notifications.NotificationSettings().model_dump(mode="json")
    _fields(spec, "NotificationSettingsOut", settings, set())


def _written(monkeypatch: Any) -> list[dict[str, Any]]:
    """The items the code writes, deserialised: every write goes through `dynamo.transact`,
    which is replaced by a recorder here (no AWS in unit tests)."""
    from chalicelib.stores import dynamo

    items: list[dict[str, Any]] = []

    def record(actions: list[dict[str, Any]]) -> None:
        items.extend(dynamo.deserialize(a["Put"]["Item"]) for a in actions if "Put" in a)

    monkeypatch.setattr(dynamo, "transact", record)
    return items


@pytest.fixture
def embedded(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The embedded backend on a temporary state directory (no AWS in unit tests)."""
    from chalicelib.config import settings

    monkeypatch.setenv("PIPEGUARD_BACKEND", "embedded")
    monkeypatch.setenv("PIPEGUARD_HOME", str(tmp_path))
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_key_schemas_match_what_the_code_stores_and_returns(
    spec: dict[str, Any], embedded: None
) -> None:
    from chalicelib import tenancy
    from chalicelib.views import keys

    tenancy.issue_key("acme", ["read"], "ci")
    (shown,) = tenancy.list_keys("acme")
    _fields(spec, "Key", shown, {"revoked_at"})  # what GET /v1/keys lists

    issued = keys.create_key(_call({"scopes": ["ingest", "read"], "name": "ci"}))
    assert issued.status == 201
    _fields(spec, "IssuedKey", issued.body, set())

    revoked = keys.revoke_key(_call(), shown["key_id"])
    _fields(spec, "Key", revoked, {"revoked_at"})
    assert "revoked_at" in revoked
    page = keys.list_keys(_call())
    _fields(spec, "KeyList", page, set())
    assert page["next_cursor"] is None and len(page["keys"]) == 2
    assert revoked in page["keys"]
    first = keys.list_keys(_call(query={"limit": "1"}))
    assert_valid(spec, "KeyList", first)
    assert first["next_cursor"]


def test_audit_schema_matches_the_log(spec: dict[str, Any]) -> None:
    from chalicelib import audit

    items = [
        audit.new_entry(*args)
        for args in (
            ("acme", "key_x", "policy.update", "policy", {"version": 0}, {"version": 1}),
            ("acme", "operator", "tenant.create", "acme", None, {"tenant_id": "acme"}),
            ("acme", "key_x", "policy.update", "policy", {"version": 1, "x": "y" * 70_000}),
        )
    ]
    page = {"entries": [audit.shown(i) for i in items], "next_cursor": audit.cursor_of(items[-1])}
    _fields(spec, "AuditPage", page, set())
    _fields(spec, "AuditEntry", page["entries"][0], set())
    truncated = page["entries"][2]["before"]
    assert truncated["version"] == 1 and truncated["truncated"]["fields"] == ["x"]
    assert_valid(spec, "TruncatedState", truncated["truncated"])


def test_waiver_schemas_match_what_the_code_stores(spec: dict[str, Any], monkeypatch: Any) -> None:
    from chalicelib import waivers

    written = _written(monkeypatch)
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    request = waivers.WaiverRequest(
        rule_id="DF-USER-001", justification="j" * 10, approver="a", expires_at=expires
    )
    created = waivers.create("acme", request, "key_x", NOW)
    stored = next(i for i in written if i["sk"].startswith("WAIVER#"))
    assert {k: v for k, v in stored.items() if k not in ("pk", "sk")} == created
    _fields(spec, "Waiver", created, {"revoked_at"})
    revoked = {**created, "status": "revoked", "revoked_at": NOW}  # as revoke_waiver answers
    _fields(spec, "Waiver", revoked, {"revoked_at"})
    assert "revoked_at" in revoked and "revoked_at" not in created
    _fields(spec, "WaiverList", {"waivers": [created, revoked], "next_cursor": None}, set())


def test_tenant_schemas_match_what_the_code_stores(spec: dict[str, Any], embedded: None) -> None:
    from chalicelib import tenancy
    from chalicelib.views import admin

    created = admin.create_tenant(_call({"tenant_id": "initech", "name": "Initech"}))
    assert created.status == 201
    _fields(spec, "CreatedTenant", created.body, set())
    stored = tenancy.get_tenant("initech")
    assert stored is not None
    _fields(spec, "Tenant", stored, set())
    _fields(spec, "Tenant", admin.disable_tenant(_call(), "initech"), set())
    _fields(spec, "TenantList", admin.list_tenants(_call()), set())


def test_account_schemas_match_what_the_code_stores_and_returns(
    spec: dict[str, Any], embedded: None
) -> None:
    from chalicelib.stores.backend import stores
    from chalicelib.views import accounts

    for account_id in ("111122223333", "444455556666"):
        request = {"account_id": account_id, "role_arn": f"arn:aws:iam::{account_id}:role/r"}
        created = accounts.create_account(_call(request))
        assert created.status == 201
        _fields(spec, "Account", created.body, set())
    stored = stores().accounts.get("acme", "111122223333")
    assert stored is not None and stored["tenant_id"] == "acme"
    done = {"status": "ok", "last_scan_at": NOW, "last_scan_id": "scn_" + "0" * 24}
    stores().accounts.record_scan("acme", "111122223333", done)
    _fields(spec, "Account", accounts.get_account(_call(), "111122223333"), set())
    _fields(spec, "AccountList", accounts.list_accounts(_call()), set())
    first = accounts.list_accounts(_call(query={"limit": "1"}))
    assert_valid(spec, "AccountList", first)
    assert first["next_cursor"]


def test_upload_schema_matches_the_presigned_form(
    spec: dict[str, Any], monkeypatch: Any, tmp_path: Any
) -> None:
    """The embedded backend's signed form (the S3 one is checked on moto in the e2e tests)."""
    from chalicelib import uploads
    from chalicelib.config import settings
    from chalicelib.models import UploadRequest
    from chalicelib.stores import backend

    monkeypatch.setenv("PIPEGUARD_BACKEND", "embedded")
    monkeypatch.setenv("PIPEGUARD_HOME", str(tmp_path))
    monkeypatch.setenv("PIPEGUARD_PUBLIC_URL", "http://127.0.0.1:8000")
    settings.cache_clear()
    backend.reset()
    try:
        form = uploads.start("acme", UploadRequest(path="big.yaml", size=10))
    finally:
        backend.reset()
        monkeypatch.undo()
        settings.cache_clear()
    _fields(spec, "Upload", form, set())


def test_error_schema_is_the_error_body(spec: dict[str, Any]) -> None:
    from chalicelib.errors import NotFound, error_body

    check = validator(spec, {"$ref": ERROR_REF})
    check.validate(error_body("not_found", "no such route"))
    check.validate(NotFound("x", [{"field": "f", "message": "m"}]).body())
    assert not check.is_valid({"error": {"code": "x", "message": "m"}})
    assert not check.is_valid({"message": "Unauthorized"})


def _error_codes() -> dict[int, set[str]]:
    """The codes each error status is sent with (503: the queue's or the storage's)."""
    from chalicelib import api, errors, ratelimit

    codes = {status: {code} for status, code in api._CHALICE_ERROR_CODES.items()}
    for module in (errors, ratelimit):
        for cls in vars(module).values():
            if isinstance(cls, type) and issubclass(cls, errors.ApiError):
                codes.setdefault(cls.status, set()).add(cls.code)
    return codes


def test_every_error_response_is_an_error_body_with_its_code(spec: dict[str, Any]) -> None:
    codes = _error_codes()
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            response = resolve(spec, response)
            content = response["content"]
            assert list(content) == ["application/json"], (method, path, status)
            assert content["application/json"]["schema"] == {"$ref": ERROR_REF}
            for where, example in examples_of(content):
                assert example["error"]["code"] in codes[int(status)], (method, path, where)
    description = schema(spec, "Error")["properties"]["error"]["properties"]["code"]
    for code in set().union(*codes.values()):
        assert f"`{code}`" in description["description"], code


def test_authenticated_operations_declare_401_403_429_and_500(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        assert {BEARER: []} in operation.get("security", spec.get("security", []))
        responses = operation["responses"]
        assert set(responses) >= COMMON, (method, path)
        for status, name in (
            ("401", "Unauthorized"),
            ("403", "Forbidden"),
            ("429", "TooManyRequests"),
            ("500", "InternalError"),
        ):
            assert responses[status] == {"$ref": f"#/components/responses/{name}"}
        too_many = resolve(spec, responses["429"])
        assert too_many["headers"]["Retry-After"]["required"] is True


def test_rate_limit_error_is_documented(spec: dict[str, Any]) -> None:
    from chalicelib.ratelimit import RateLimited

    assert (RateLimited.status, RateLimited.code) == (429, "rate_limited")
    example = spec["components"]["responses"]["TooManyRequests"]["content"]["application/json"]
    assert example["example"]["error"]["code"] == RateLimited.code


@pytest.mark.parametrize(("method", "path"), sorted(STATUSES))
def test_operations_declare_the_statuses_they_can_return(
    spec: dict[str, Any], method: str, path: str
) -> None:
    assert set(spec["paths"][path][method.lower()]["responses"]) == STATUSES[method, path] | COMMON


def test_the_status_table_covers_every_operation(spec: dict[str, Any]) -> None:
    assert {(method, path) for method, path, _ in operations(spec)} == set(STATUSES)


def test_content_type_and_body_statuses_follow_the_method(spec: dict[str, Any]) -> None:
    """Chalice checks Content-Type on every route but GET (415); a JSON body can be unparsable
    (400) or invalid (422)."""
    import app

    for method, path, operation in operations(spec):
        content_types = app.app.routes[path][method].content_types
        responses = operation["responses"]
        assert ("415" in responses) == (content_types != ["*/*"]), (method, path)
        assert (method == "GET") == (content_types == ["*/*"]), (method, path)
        if "requestBody" in operation:
            assert {"400", "422"} <= set(responses), (method, path)


def test_examples_match_their_schemas(spec: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in operations(spec):
        body = operation.get("requestBody", {}).get("content", {})
        for where, example in examples_of(body):
            validator(spec, body[where.split()[0]]["schema"]).validate(example)
            checked += 1
        for param in operation.get("parameters", []):
            param = resolve(spec, param)
            if "example" in param:
                validator(spec, param["schema"]).validate(param["example"])
        for status, response in operation["responses"].items():
            content = resolve(spec, response).get("content", {})
            for where, example in examples_of(content):
                media = content[where.split()[0]]
                errors = list(validator(spec, media["schema"]).iter_errors(example))
                assert not errors, (method, path, status, where, errors[0].message)
                checked += 1
    assert checked >= 40


@pytest.mark.parametrize("operation_id", sorted(REQUEST_MODELS))
def test_request_examples_are_accepted_by_the_models(
    spec: dict[str, Any], operation_id: str
) -> None:
    """Each operation's request example is one its model accepts (a waiver's date is moved into
    the allowed window: the example's fixed date will be past one day)."""
    from chalicelib import policy

    example = next(
        op["requestBody"]["content"]["application/json"]["example"]
        for _, _, op in operations(spec)
        if op["operationId"] == operation_id
    )
    if operation_id == "create_waiver":
        example = {**example, "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat()}
    if operation_id == "put_policy":
        policy.parse(example)  # the custom rules too
    _import(REQUEST_MODELS[operation_id][1]).model_validate(example)


def test_nullable_fields_reject_wrong_values(spec: dict[str, Any]) -> None:
    """The validator used for the examples does enforce the nullable fields' types."""
    example = spec["paths"]["/v1/scans/{scan_id}"]["get"]["responses"]["200"]["content"]
    scan = example["application/json"]["examples"]["complete"]["value"]
    check = validator(spec, {"$ref": "#/components/schemas/Scan"})
    check.validate(scan)
    assert not check.is_valid({**scan, "verdict": "maybe"})
    assert not check.is_valid({**scan, "counts": {"high": 1}})
    assert not check.is_valid({**scan, "status": None})
    assert not check.is_valid({**scan, "unexpected": 1})
    assert not check.is_valid({**scan, "missing_artifact_types": ["helm"]})
    pending = {**scan["artifacts"][0], "counts": None, "findings": None, "status": "pending"}
    check.validate({**scan, "verdict": None, "counts": None, "artifacts": [pending]})
