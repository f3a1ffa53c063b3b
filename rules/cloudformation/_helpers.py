"""Helpers shared by the CloudFormation rules: reading values that may be intrinsics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit
from chalicelib.parsers.cloudformation import NO_VALUE, UNRESOLVED, Resource, Template

MISSING: Any = object()


def truthy(value: Any) -> bool | None:
    """CloudFormation booleans: True/False or the strings "true"/"false"; None otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def describe(value: Any) -> str:
    """A short human description of an intrinsic, for messages."""
    if isinstance(value, dict) and len(value) == 1:
        key, arg = next(iter(value.items()))
        if key == "Ref":
            return f"parameter {arg}" if isinstance(arg, str) else "a Ref"
        return str(key)
    return repr(value)


def require_true(tpl: Template, res: Resource, *path: str, what: str) -> Hit | None:
    """A hit unless the boolean at `path` is true in every case the template allows.

    Missing, false, or an expression that cannot be resolved from the template (a parameter
    without default, a `Fn::GetAtt`, `Fn::If` with a false branch...) are all reported.
    """
    name = ".".join(path)
    value = res.prop(*path, default=MISSING)
    if value is MISSING or value is None:
        return Hit(f"{name} is not set, so {what} is off", line=res.line, resource=res.logical_id)
    line = res.prop_line(*path)
    values = tpl.possible_values(value)
    if any(v is NO_VALUE or truthy(v) is False for v in values):
        shown = "" if values == [value] else f" (via {describe(value)})"
        return Hit(
            f"{name} can be false{shown}, so {what} can be off", line=line, resource=res.logical_id
        )
    if any(v is UNRESOLVED for v in values):
        return Hit(
            f"{name} comes from {describe(value)}, which cannot be resolved from the template: "
            f"make sure {what} is on",
            line=line,
            resource=res.logical_id,
        )
    if any(truthy(v) is None for v in values):
        return Hit(
            f"{name} is not a boolean, so {what} is not known to be on",
            line=line,
            resource=res.logical_id,
        )
    return None


def is_true(tpl: Template, value: Any) -> bool | None:
    """True if the value is true in some case the template allows, None if unknowable."""
    values = tpl.possible_values(value)
    if any(truthy(v) is True for v in values):
        return True
    if any(v is UNRESOLVED for v in values):
        return None
    return False


def as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def policy_documents(res: Resource) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """The IAM policy documents a resource carries, with their property path."""
    if res.type in (
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::UserPolicy",
        "AWS::IAM::GroupPolicy",
    ):
        yield _document(res.prop("PolicyDocument")), ("PolicyDocument",)
    elif res.type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        for index, policy in enumerate(as_list(res.prop("Policies"))):
            if isinstance(policy, dict):
                yield _document(policy.get("PolicyDocument")), ("Policies", index, "PolicyDocument")


def _document(value: Any) -> Any:
    if isinstance(value, str):  # some templates hold the policy as a JSON string
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value
