"""Lambda: every function (one paginated list carries their configuration), with its
resource policy and function URL (one read each: Lambda has no batch call for them)."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope, decoded

GLOBAL = False


def collect(scope: Scope) -> None:
    functions = scope.pages("list_functions", "Functions", feeds=["AWS::Lambda::Function"])
    if functions is NOT_READ:
        return
    scope.each(functions, lambda function: _function(scope, function))


def _function(scope: Scope, function: dict[str, Any]) -> None:
    arn = function["FunctionArn"]
    config = dict(function)
    missing: dict[str, str] = {}
    name = function["FunctionName"]
    scope.section(
        config,
        missing,
        "Policy",
        "get_policy",
        pick=lambda r: decoded(r.get("Policy")),
        absent=("ResourceNotFoundException",),
        resource=arn,
        FunctionName=name,
    )
    scope.section(
        config,
        missing,
        "Url",
        "get_function_url_config",
        absent=("ResourceNotFoundException",),
        resource=arn,
        FunctionName=name,
    )
    concurrency = scope.call("get_function_concurrency", resource=arn, FunctionName=name)
    if concurrency is not NOT_READ:
        config["ReservedConcurrentExecutions"] = (concurrency or {}).get(
            "ReservedConcurrentExecutions"
        )
    tags = scope.tags(arn, lambda: _own_tags(scope, arn))
    scope.add(
        "AWS::Lambda::Function",
        arn,
        name,
        config,
        tags=tags,
        not_assessed=missing,
    )


def _own_tags(scope: Scope, arn: str) -> Any:
    tags = scope.call("list_tags", resource=arn, Resource=arn)
    return (tags or {}).get("Tags") if tags is not NOT_READ else None
