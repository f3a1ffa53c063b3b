"""What every mapping uses: the `Shape` it returns, the `Context` it looks across resources
with, and small helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.posture.inventory import Inventory, InventoryResource

__all__ = [
    "Context",
    "Mapping",
    "Shape",
    "bool_text",
    "decoded",
    "drop_none",
    "policy_of",
    "ref",
    "tags_of",
]


@dataclass(frozen=True)
class Shape:
    """One CloudFormation resource made from a live one."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    label: str | None = None
    """What part of the live resource it is (`bucket policy`), for messages; None for the
    resource itself."""
    keeps_id: bool = False
    """Report hits on `logical_id` (an ARN of its own) rather than on the resource's ARN."""


@dataclass
class Context:
    """What mappings look up across resources: the default VPCs, AWS managed keys, buckets."""

    inventory: Inventory
    default_vpcs: set[str] = field(default_factory=set)
    default_subnets: set[str] = field(default_factory=set)
    aws_managed_keys: set[str] = field(default_factory=set)
    buckets: dict[str, str] = field(default_factory=dict)  # name → ARN
    logins: dict[str, bool] | None = None  # user ARN → has a console password (None: unread)

    @classmethod
    def of(cls, inventory: Inventory) -> Context:
        ctx = cls(inventory)
        for vpc in inventory.of_type("AWS::EC2::VPC"):
            if vpc.configuration.get("IsDefault"):
                ctx.default_vpcs.add(vpc.id)
        for subnet in inventory.of_type("AWS::EC2::Subnet"):
            if subnet.configuration.get("VpcId") in ctx.default_vpcs:
                ctx.default_subnets.add(subnet.id)
        for key in inventory.of_type("AWS::KMS::Key"):
            if key.configuration.get("KeyManager") == "AWS":
                ctx.aws_managed_keys.update({key.arn, key.id})
        ctx.buckets = {b.id: b.arn for b in inventory.of_type("AWS::S3::Bucket")}
        if inventory.has_fact("global", "iam.credential_report"):
            rows = inventory.fact("global", "iam.credential_report") or []
            ctx.logins = {
                str(r.get("arn")): str(r.get("password_enabled")).lower() == "true"
                for r in rows
                if isinstance(r, dict)
            }
        return ctx


Mapping = Callable[[InventoryResource, Context], list[Shape]]


def drop_none(values: dict[str, Any]) -> dict[str, Any]:
    """`values` without the keys that hold nothing (None, [] or {}): properties not set."""
    return {k: v for k, v in values.items() if v is not None and v != [] and v != {}}


def tags_of(res: InventoryResource) -> list[dict[str, str]] | None:
    """The resource's tags as a template's `Tags` list."""
    return [{"Key": k, "Value": v} for k, v in res.tags.items()] or None


def ref(arn: str) -> dict[str, str]:
    """A `Ref` to the shape whose logical id is `arn`."""
    return {"Ref": arn}


def bool_text(value: Any) -> bool | None:
    """A boolean the API gives as text ("true"), None when it is neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def decoded(value: Any) -> Any:
    """JSON text parsed (a domain's access policy); anything else as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def policy_of(document: Any) -> Any:
    """A policy document as CloudFormation holds it (already parsed by the collection)."""
    return document if isinstance(document, dict | str) else None
