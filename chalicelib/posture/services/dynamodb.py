"""DynamoDB: every table with its description and point-in-time recovery status (one read
each per table: DynamoDB has no batch describe)."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    names = scope.pages("list_tables", "TableNames", feeds=["AWS::DynamoDB::Table"])
    if names is NOT_READ:
        return
    scope.each(names, lambda name: _table(scope, name))


def _table(scope: Scope, name: str) -> None:
    described = scope.call("describe_table", feeds=["AWS::DynamoDB::Table"], TableName=name)
    if not described:
        return
    config: dict[str, Any] = dict(described.get("Table") or {})
    arn = config.get("TableArn") or scope.arn(f"table/{name}")
    missing: dict[str, str] = {}
    scope.section(
        config,
        missing,
        "ContinuousBackups",
        "describe_continuous_backups",
        pick=lambda r: r.get("ContinuousBackupsDescription"),
        resource=arn,
        TableName=name,
    )
    tags = scope.tags(arn, lambda: scope.pages("list_tags_of_resource", "Tags", ResourceArn=arn))
    scope.add("AWS::DynamoDB::Table", arn, name, config, tags=tags or [], not_assessed=missing)
