"""KMS: every key with its metadata; customer managed keys also with their rotation status
and key policy (KMS has no batch describe: one read per key and section)."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope, decoded

GLOBAL = False


def collect(scope: Scope) -> None:
    keys = scope.pages("list_keys", "Keys", feeds=["AWS::KMS::Key"])
    if keys is NOT_READ:
        return
    scope.each(keys, lambda key: _key(scope, key))


def _key(scope: Scope, key: dict[str, Any]) -> None:
    arn = key["KeyArn"]
    described = scope.call("describe_key", resource=arn, feeds=["AWS::KMS::Key"], KeyId=arn)
    if not described:
        return
    config: dict[str, Any] = dict(described.get("KeyMetadata") or {})
    missing: dict[str, str] = {}
    if config.get("KeyManager") == "CUSTOMER":
        scope.section(
            config,
            missing,
            "KeyRotationEnabled",
            "get_key_rotation_status",
            pick=lambda r: r.get("KeyRotationEnabled"),
            resource=arn,
            KeyId=arn,
        )
        scope.section(
            config,
            missing,
            "KeyPolicy",
            "get_key_policy",
            pick=lambda r: decoded(r.get("Policy")),
            resource=arn,
            KeyId=arn,
            PolicyName="default",
        )
    customer = config.get("KeyManager") == "CUSTOMER"
    tags = (
        scope.tags(arn, lambda: scope.pages("list_resource_tags", "Tags", resource=arn, KeyId=arn))
        if customer
        else []
    )
    scope.add("AWS::KMS::Key", arn, key["KeyId"], config, tags=tags or [], not_assessed=missing)
