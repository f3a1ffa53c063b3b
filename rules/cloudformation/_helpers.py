"""Helpers shared by the CloudFormation rules: reading values that may be intrinsics."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from chalicelib.engine.registry import Hit
from chalicelib.parsers.cloudformation import (
    NO_VALUE,
    UNRESOLVED,
    Possible,
    Resource,
    Template,
    When,
    describe_when,
)

__all__ = [
    "MISSING",
    "Possible",
    "as_list",
    "describe",
    "describe_when",
    "is_true",
    "policy_documents",
    "possibilities",
    "require_true",
    "truthy",
    "when_text",
]

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
        if key == "Fn::If" and isinstance(arg, list) and arg and isinstance(arg[0], str):
            return f"Fn::If on condition {arg[0]}"
        return str(key)
    return repr(value)


def possibilities(tpl: Template, res: Resource, value: Any) -> list[Possible]:
    """The values a property of `res` may take, each with the conditions it depends on.

    The resource's own `Condition` is taken as true (the property only exists if it is).
    """
    assume = {res.condition: True} if res.condition else None
    return tpl.possible_values_with_conditions(value, assume)


def when_text(cases: Iterable[Possible], limit: int = 3) -> str:
    """` when condition IsProd is false` (leading space) for the given cases; `` if any of
    them holds unconditionally."""
    whens: list[When] = []
    for case in cases:
        if not case.when:
            return ""
        if case.when not in whens:
            whens.append(case.when)
    if not whens:
        return ""
    shown = [describe_when(when) for when in whens[:limit]]
    more = ", ..." if len(whens) > limit else ""
    return " " + ", or ".join(shown) + more


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
    cases = possibilities(tpl, res, value)
    false = [c for c in cases if c.value is NO_VALUE or truthy(c.value) is False]
    if false:
        shown = "" if [c.value for c in cases] == [value] else f" (via {describe(value)})"
        return Hit(
            f"{name} can be false{shown}{when_text(false)}, so {what} can be off",
            line=line,
            resource=res.logical_id,
        )
    unresolved = [c for c in cases if c.value is UNRESOLVED]
    if unresolved:
        return Hit(
            f"{name} comes from {describe(value)}, which cannot be resolved from the template"
            f"{when_text(unresolved)}: make sure {what} is on",
            line=line,
            resource=res.logical_id,
        )
    if any(truthy(c.value) is None for c in cases):
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
    """The IAM policy documents a resource carries, with their property path.

    Includes the inline statements of a SAM function's or state machine's `Policies` (SAM
    turns them into the policies of the role it creates).
    """
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
    elif res.type in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
        policies = res.prop("Policies")
        if isinstance(policies, dict) and "Statement" in policies:
            yield policies, ("Policies",)
            return
        for index, policy in enumerate(as_list(policies)):
            if isinstance(policy, dict) and "Statement" in policy:
                yield policy, ("Policies", index)


def _document(value: Any) -> Any:
    if isinstance(value, str):  # some templates hold the policy as a JSON string
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def refers_to(value: Any, logical_id: str, depth: int = 0) -> bool:
    """True if `value` is, or contains, a Ref / GetAtt / Sub reference to `logical_id`."""
    if depth > 16:
        return False
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        target = value.get("Fn::GetAtt")
        if (isinstance(target, list) and target[:1] == [logical_id]) or (
            isinstance(target, str) and target.split(".", 1)[0] == logical_id
        ):
            return True
        sub = value.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str) and re.search(r"\$\{" + re.escape(logical_id) + r"[.}]", text):
            return True
        return any(refers_to(v, logical_id, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(refers_to(v, logical_id, depth + 1) for v in value)
    return False


def is_world(cidr: str) -> bool:
    """True for a CIDR that covers every address (0.0.0.0/0, ::/0, in any spelling)."""
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False
