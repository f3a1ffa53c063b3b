"""API Gateway (REST APIs): every API with its stages and its resources' methods (one
paginated read each per API; the methods come embedded with the resources)."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    apis = scope.pages("get_rest_apis", "items", feeds=["AWS::ApiGateway::RestApi"])
    if apis is NOT_READ:
        return
    scope.each(apis, lambda api: _api(scope, api))


def _api(scope: Scope, api: dict[str, Any]) -> None:
    api_id = api["id"]
    arn = f"arn:{scope.partition}:apigateway:{scope.region}::/restapis/{api_id}"
    config = dict(api)
    missing: dict[str, str] = {}
    scope.section(
        config,
        missing,
        "Stages",
        "get_stages",
        pick=lambda r: r.get("item") or [],
        resource=arn,
        restApiId=api_id,
    )
    resources = scope.pages(
        "get_resources", "items", feeds=["AWS::ApiGateway::Method"], restApiId=api_id,
        embed=["methods"],
    )  # fmt: skip
    if resources is NOT_READ:
        missing["Resources"] = "apigateway:GET"
    else:
        config["Resources"] = resources
    scope.add("AWS::ApiGateway::RestApi", arn, api_id, config, tags=api.get("tags"),
              not_assessed=missing)  # fmt: skip
