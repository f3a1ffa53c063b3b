"""Check real responses against the schemas of swagger/openapi.yaml."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.conftest import REPO_ROOT


@cache
def _spec() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "swagger" / "openapi.yaml").read_text(encoding="utf-8"))


def assert_matches(schema_name: str, document: Any) -> None:
    """Fail with the first violation if `document` does not fit components/schemas/<name>."""
    spec = _spec()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    OAS30Validator(schema, format_checker=oas30_format_checker).validate(document)
