"""swagger/openapi.yaml is a valid OpenAPI 3.0 document that matches the app it describes."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate

from tests.conftest import REPO_ROOT

SPEC_PATH = REPO_ROOT / "swagger" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BEARER = "bearerAuth"
ERROR_REF = "#/components/schemas/Error"
# Constraints the models enforce in field validators (so not in their JSON schema).
VALIDATOR_CONSTRAINTS = {("ArtifactIn", "path"): ("pattern",)}


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


def examples_of(content: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for media, body in content.items():
        if "example" in body:
            yield media, body["example"]
        for name, example in body.get("examples", {}).items():
            yield f"{media} {name}", example["value"]


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


def _string_constraints(node: dict[str, Any]) -> dict[str, Any]:
    """The constraints of a pydantic or OpenAPI property, with pydantic's `X | None` unwrapped."""
    branches = [b for b in node.get("anyOf", [node]) if b.get("type") != "null"]
    assert len(branches) == 1, node
    keys = ("type", "minLength", "maxLength", "pattern", "minItems", "enum")
    constraints = {key: branches[0][key] for key in keys if key in branches[0]}
    constraints["nullable"] = "anyOf" in node or node.get("nullable", False)
    return constraints


@pytest.mark.parametrize("name", ["ScanRequest", "ArtifactIn"])
def test_request_schemas_mirror_the_pydantic_models(spec: dict[str, Any], name: str) -> None:
    from chalicelib import models

    model = getattr(models, name).model_json_schema()
    documented = schema(spec, name)
    assert documented["type"] == "object"
    assert documented["additionalProperties"] is False
    assert model["additionalProperties"] is False
    assert list(documented["properties"]) == list(model["properties"])
    assert set(documented["required"]) == set(model["required"])
    for field, node in model["properties"].items():
        prop = documented["properties"][field]
        if "$ref" in node or "items" in node:
            continue  # enums and nested models: checked by their own tests
        documented_constraints = _string_constraints(prop)
        for key in VALIDATOR_CONSTRAINTS.get((name, field), ()):
            documented_constraints.pop(key)
        assert documented_constraints == _string_constraints(node), (name, field)


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
    ("name", "enum"),
    [
        ("ArtifactType", "ArtifactType"),
        ("Severity", "Severity"),
        ("ScanStatus", "ScanStatus"),
    ],
)
def test_enums_match_the_models(spec: dict[str, Any], name: str, enum: str) -> None:
    from chalicelib import models

    assert schema(spec, name)["enum"] == [member.value for member in getattr(models, enum)]


def test_verdict_is_a_verdict_or_null(spec: dict[str, Any]) -> None:
    from chalicelib.models import Verdict

    verdict = schema(spec, "Scan")["properties"]["verdict"]
    assert verdict["nullable"] is True
    assert verdict["enum"] == [v.value for v in Verdict] + [None]


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
    assert params["q"]["schema"]["maxLength"] == _string_constraints(q)["maxLength"]
    assert params["severity"]["schema"] == {"$ref": "#/components/schemas/Severity"}
    assert params["artifact_type"]["schema"] == {"$ref": "#/components/schemas/ArtifactType"}


def test_response_schemas_match_what_the_code_returns(spec: dict[str, Any]) -> None:
    from chalicelib.ingest import accepted
    from chalicelib.models import Finding
    from chalicelib.queries import _SCAN_FIELDS
    from chalicelib.search.port import FindingPage

    def fields(name: str) -> set[str]:
        documented = schema(spec, name)
        assert set(documented["required"]) == set(documented["properties"]), name
        return set(documented["properties"])

    assert fields("ScanAccepted") == set(accepted("scn_x", "queued"))
    assert fields("Finding") == set(Finding.model_fields) - {"tenant_id"}
    assert fields("FindingPage") == set(FindingPage.model_fields)
    scan_extras = {"artifacts_total", "artifacts_done", "artifacts", "findings_url"}
    assert fields("Scan") == set(_SCAN_FIELDS) | scan_extras
    page = schema(spec, "FindingPage")["properties"]
    assert page["next_cursor"]["nullable"] is True
    assert page["findings"]["items"] == {"$ref": "#/components/schemas/Finding"}
    for field in ("commit", "resource", "line"):
        assert schema(spec, "Finding")["properties"][field]["nullable"] is True


def test_error_schema_is_the_error_body(spec: dict[str, Any]) -> None:
    from chalicelib.errors import NotFound, error_body

    check = validator(spec, {"$ref": ERROR_REF})
    check.validate(error_body("not_found", "no such route"))
    check.validate(NotFound("x", [{"field": "f", "message": "m"}]).body())
    assert not check.is_valid({"error": {"code": "x", "message": "m"}})
    assert not check.is_valid({"message": "Unauthorized"})


def _error_codes() -> dict[int, str]:
    from chalicelib import api, errors

    codes = dict(api._CHALICE_ERROR_CODES)
    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, errors.ApiError):
            codes[cls.status] = cls.code
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
                assert example["error"]["code"] == codes[int(status)], (method, path, where)


def test_authenticated_operations_declare_401(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        if {BEARER: []} not in operation.get("security", spec.get("security", [])):
            continue
        assert "401" in operation["responses"], (method, path)
        unauthorized = resolve(spec, operation["responses"]["401"])
        body = unauthorized["content"]["application/json"]
        assert body["schema"] == {"$ref": ERROR_REF}, (method, path)
        assert "403" in operation["responses"], (method, path)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        (
            "POST",
            "/v1/scans",
            {"202", "400", "401", "403", "409", "413", "415", "422", "500", "503"},
        ),
        ("GET", "/v1/scans/{scan_id}", {"200", "401", "403", "404", "500"}),
        ("GET", "/v1/scans/{scan_id}/report", {"200", "401", "403", "404", "409", "500"}),
        ("GET", "/v1/findings", {"200", "400", "401", "403", "422", "500"}),
        ("GET", "/v1/findings/{finding_id}", {"200", "401", "403", "404", "500"}),
        ("GET", "/v1/notifications", {"200", "401", "403", "500"}),
        ("PUT", "/v1/notifications", {"200", "400", "401", "403", "415", "422", "500"}),
    ],
)
def test_operations_declare_the_statuses_they_can_return(
    spec: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    assert set(spec["paths"][path][method.lower()]["responses"]) == statuses


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
    assert checked >= 15


def test_request_example_is_accepted_by_the_model(spec: dict[str, Any]) -> None:
    from chalicelib.models import ScanRequest

    operation = spec["paths"]["/v1/scans"]["post"]
    ScanRequest.model_validate(operation["requestBody"]["content"]["application/json"]["example"])


def test_nullable_fields_reject_wrong_values(spec: dict[str, Any]) -> None:
    """The validator used for the examples does enforce the nullable fields' types."""
    example = spec["paths"]["/v1/scans/{scan_id}"]["get"]["responses"]["200"]["content"]
    scan = example["application/json"]["examples"]["complete"]["value"]
    check = validator(spec, {"$ref": "#/components/schemas/Scan"})
    check.validate(scan)
    assert not check.is_valid({**scan, "verdict": "maybe"})
    assert not check.is_valid({**scan, "counts": {"high": 1}})
    assert not check.is_valid({**scan, "status": None})
    pending = {**scan["artifacts"][0], "counts": None, "findings": None, "status": "pending"}
    check.validate({**scan, "verdict": None, "counts": None, "artifacts": [pending]})
