"""Helpers shared by the CloudFormation rules: reading values that may be intrinsics, and the
common shapes of a check ("this property must be set / true / one of ...") so that a rule is
its metadata plus a line or two."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from chalicelib.engine.registry import Hit
from chalicelib.parsers.cloudformation import (
    NO_VALUE,
    UNRESOLVED,
    LineDict,
    Possible,
    Resource,
    Template,
    When,
    describe_when,
    is_intrinsic,
)

__all__ = [
    "MISSING",
    "POLICY_DOCUMENT_TYPES",
    "Possible",
    "as_list",
    "customer_key",
    "describe",
    "describe_when",
    "disabled",
    "each",
    "enabled",
    "flag_if_true",
    "group_parameter",
    "is_true",
    "is_world",
    "item_line",
    "none_of",
    "one_of",
    "param_unknown",
    "policy_documents",
    "possibilities",
    "present",
    "refers_to",
    "require_enabled",
    "require_set",
    "require_true",
    "require_value",
    "truthy",
    "when_text",
    "written",
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
        return Hit(f"{name} is not set, so {what} is off", res.prop_line(*path), res.logical_id)
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


POLICY_DOCUMENT_TYPES = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
)
"""The types whose identity policies `policy_documents` reads."""


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


# -- property shapes: a rule is its metadata plus one of these per resource -------------------


def param_unknown(tpl: Template, value: Any, could_be: str | None = None) -> bool:
    """True when `value` is (or, through `Fn::If`, may be) a parameter the template leaves open.

    With `could_be`, a parameter whose AllowedPattern rejects that text is not open. Other
    unresolvable expressions (`Fn::GetAtt`, `Fn::Sub` of pseudo parameters, ...) name
    something the template builds itself, never a wildcard or a world-open range.
    """
    if not is_intrinsic(value):
        return False
    ((key, arg),) = value.items()
    if key == "Ref":
        param = tpl.parameters.get(arg) if isinstance(arg, str) else None
        if not isinstance(param, dict):
            return False
        if not any(v is UNRESOLVED for v in tpl.possible_values(value)):
            return False
        pattern = param.get("AllowedPattern")
        if could_be is not None and isinstance(pattern, str):
            compiled = _compiled(pattern)
            return compiled is None or compiled.fullmatch(could_be) is not None
        return True
    if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
        return param_unknown(tpl, arg[1], could_be) or param_unknown(tpl, arg[2], could_be)
    return False


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def require_set(tpl: Template, res: Resource, *path: Any, what: str) -> Hit | None:
    """A hit when the property at `path` is missing, empty or removed by `AWS::NoValue`."""
    name = ".".join(str(p) for p in path)
    value = res.prop(*path, default=MISSING)
    if value is MISSING or value is None:
        return Hit(f"{name} is not set, so {what}", res.prop_line(*path), res.logical_id)
    values = tpl.possible_values(value)
    if any(v is NO_VALUE or v in ("", []) for v in values):
        return Hit(
            f"{name} can be empty or removed, so {what}",
            line=res.prop_line(*path),
            resource=res.logical_id,
        )
    return None


def require_value(
    tpl: Template, res: Resource, *path: Any, good: frozenset[str], what: str
) -> Hit | None:
    """A hit unless the string at `path` is one of `good` (case-insensitive) in every case."""
    name = ".".join(str(p) for p in path)
    value = res.prop(*path, default=MISSING)
    if value is MISSING or value is None:
        return Hit(f"{name} is not set, so {what}", res.prop_line(*path), res.logical_id)
    line = res.prop_line(*path)
    values = tpl.possible_values(value)
    bad = [v for v in values if v is not UNRESOLVED and str(v).strip().lower() not in good]
    if bad:
        shown = "removed" if bad[0] is NO_VALUE else repr(bad[0])
        return Hit(f"{name} can be {shown}, so {what}", line=line, resource=res.logical_id)
    if any(v is UNRESOLVED for v in values):
        return Hit(
            f"{name} comes from {describe(value)}, which cannot be resolved from the "
            f"template: make sure it is {' or '.join(sorted(good))}",
            line=line,
            resource=res.logical_id,
        )
    return None


def flag_if_true(tpl: Template, res: Resource, *path: Any, what: str) -> Hit | None:
    """A hit when the boolean at `path` may be true (or cannot be told); missing is fine."""
    name = ".".join(str(p) for p in path)
    value = res.prop(*path, default=MISSING)
    if value is MISSING or value is None:
        return None
    line = res.prop_line(*path)
    state = is_true(tpl, value)
    if state:
        return Hit(f"{name} can be true, so {what}", line=line, resource=res.logical_id)
    if state is None:
        return Hit(
            f"{name} comes from {describe(value)}, which cannot be resolved from the "
            f"template: make sure it is false",
            line=line,
            resource=res.logical_id,
        )
    return None


def require_enabled(
    tpl: Template, res: Resource, *path: Any, what: str, label: str | None = None
) -> Hit | None:
    """`require_true` for paths that go through list indexes (reported at the deepest
    existing key when the setting is missing); `label` names the setting in messages."""
    name = label or ".".join(str(p) for p in path)
    value = res.prop(*path, default=MISSING)
    if value is MISSING or value is None:
        return Hit(
            f"{name} is not set, so {what} is off",
            line=res.prop_line(*path),
            resource=res.logical_id,
        )
    line = res.prop_line(*path)
    values = tpl.possible_values(value)
    if any(v is NO_VALUE or truthy(v) is False for v in values):
        return Hit(f"{name} can be false, so {what} can be off", line=line, resource=res.logical_id)
    if any(v is UNRESOLVED for v in values):
        return Hit(
            f"{name} comes from {describe(value)}, which cannot be resolved from the "
            f"template: make sure {what} is on",
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


# -- shapes with the line of the offending property --------------------------------------------

Check = Callable[..., "Hit | None"]
AWS_MANAGED_KEY = re.compile(r"^(arn:[^:]+:kms:[^:]*:[^:]*:)?alias/aws/", re.IGNORECASE)
_MANAGED_ALIAS = re.compile(r"(^|:)alias/aws/", re.IGNORECASE)


def _fragments(value: Any, depth: int = 0) -> Iterator[str]:
    """The literal strings inside an expression (`Fn::Sub` text, `Fn::Join` parts...)."""
    if depth > 8:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _fragments(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _fragments(item, depth + 1)


def each(
    tpl: Template, types: str | tuple[str, ...], test: Check, *path: Any, **options: Any
) -> Iterator[Hit]:
    """The hits of `test(tpl, res, *path, **options)` on every resource of `types`."""
    for res in tpl.of_type(*((types,) if isinstance(types, str) else types)):
        hit = test(tpl, res, *path, **options)
        if hit:
            yield hit


def _name(path: tuple[Any, ...], label: str | None) -> str:
    return label or ".".join(str(p) for p in path)


def _absent(value: Any) -> bool:
    return value is MISSING or value is None


def enabled(
    tpl: Template,
    res: Resource,
    *path: Any,
    what: str,
    default: bool = False,
    label: str | None = None,
) -> Hit | None:
    """A hit unless the boolean at `path` is true in every case (missing counts as `default`).

    False, removed (`AWS::NoValue`), unresolvable or non-boolean values are reported at the
    property; a missing one (when `default` is false) at the deepest key that exists.
    """
    name = _name(path, label)
    value = res.prop(*path, default=MISSING)
    if _absent(value):
        if default:
            return None
        return Hit(f"{name} is not set, so {what} is off", res.prop_line(*path), res.logical_id)
    line = res.prop_line(*path)
    cases = possibilities(tpl, res, value)
    off = [c for c in cases if truthy(c.value) is False or (c.value is NO_VALUE and not default)]
    if off:
        return Hit(
            f"{name} can be false{when_text(off)}, so {what} can be off", line, res.logical_id
        )
    if any(c.value is UNRESOLVED for c in cases):
        return Hit(
            f"{name} comes from {describe(value)}, which cannot be resolved from the template: "
            f"make sure {what} is on",
            line,
            res.logical_id,
        )
    if any(truthy(c.value) is None and c.value is not NO_VALUE for c in cases):
        return Hit(
            f"{name} is not a boolean, so {what} is not known to be on", line, res.logical_id
        )
    return None


def disabled(
    tpl: Template, res: Resource, *path: Any, what: str, label: str | None = None
) -> Hit | None:
    """A hit when the boolean at `path` may be true; missing or false is fine."""
    name = _name(path, label)
    value = res.prop(*path, default=MISSING)
    if _absent(value):
        return None
    line = res.prop_line(*path)
    state = is_true(tpl, value)
    if state:
        return Hit(f"{name} can be true, so {what}", line, res.logical_id)
    if state is None:
        return Hit(
            f"{name} comes from {describe(value)}, which cannot be resolved from the template: "
            "make sure it is false",
            line,
            res.logical_id,
        )
    return None


def present(
    tpl: Template, res: Resource, *path: Any, what: str, label: str | None = None
) -> Hit | None:
    """A hit when the property at `path` is missing, empty, or can be removed."""
    name = _name(path, label)
    value = res.prop(*path, default=MISSING)
    if _absent(value):
        return Hit(f"{name} is not set, so {what}", res.prop_line(*path), res.logical_id)
    if any(v is NO_VALUE or v in ("", [], {}) for v in tpl.possible_values(value)):
        return Hit(
            f"{name} can be empty or removed, so {what}", res.prop_line(*path), res.logical_id
        )
    return None


def customer_key(
    tpl: Template, res: Resource, *path: Any, what: str, label: str | None = None
) -> Hit | None:
    """A hit unless the KMS key at `path` is set and is not an AWS managed key (`alias/aws/...`)."""
    hit = present(tpl, res, *path, what=what, label=label)
    if hit:
        return hit
    value = res.prop(*path)
    values = tpl.possible_values(value)
    managed = [v for v in values if isinstance(v, str) and AWS_MANAGED_KEY.match(v.strip())]
    if not managed and UNRESOLVED in values:  # e.g. Fn::Sub of the region and account
        managed = [t for t in _fragments(value) if _MANAGED_ALIAS.search(t)]
    if managed:
        return Hit(
            f"{_name(path, label)} can be the AWS managed key {managed[0]}, so {what}",
            res.prop_line(*path),
            res.logical_id,
        )
    return None


def one_of(
    tpl: Template,
    res: Resource,
    *path: Any,
    good: Iterable[str],
    what: str,
    missing_ok: bool = False,
    label: str | None = None,
) -> Hit | None:
    """A hit unless the string at `path` is one of `good` (case-insensitive) in every case."""
    allowed = {g.lower() for g in good}
    name = _name(path, label)
    value = res.prop(*path, default=MISSING)
    if _absent(value):
        if missing_ok:
            return None
        return Hit(f"{name} is not set, so {what}", res.prop_line(*path), res.logical_id)
    line = res.prop_line(*path)
    values = tpl.possible_values(value)
    bad = [
        v
        for v in values
        if v is not UNRESOLVED
        and not (missing_ok and v is NO_VALUE)
        and str(v).strip().lower() not in allowed
    ]
    if bad:
        shown = "removed" if bad[0] is NO_VALUE else repr(bad[0])
        return Hit(f"{name} can be {shown}, so {what}", line, res.logical_id)
    if any(v is UNRESOLVED for v in values):
        return Hit(
            f"{name} comes from {describe(value)}, which cannot be resolved from the template: "
            f"make sure it is {' or '.join(sorted(good))}",
            line,
            res.logical_id,
        )
    return None


def none_of(
    tpl: Template,
    res: Resource,
    *path: Any,
    bad: Iterable[str],
    what: str,
    label: str | None = None,
) -> Hit | None:
    """A hit when the string at `path` may be one of `bad` (case-insensitive); missing is fine."""
    banned = {b.lower() for b in bad}
    value = res.prop(*path, default=MISSING)
    if _absent(value):
        return None
    found = [
        v
        for v in tpl.possible_values(value)
        if isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip().lower() in banned
    ]
    if found:
        return Hit(
            f"{_name(path, label)} can be {found[0]!r}, so {what}",
            res.prop_line(*path),
            res.logical_id,
        )
    return None


def item_line(item: Any, key: str | None = None) -> int | None:
    """The line of `key` in a mapping read from the template, or of the mapping itself."""
    if isinstance(item, LineDict):
        if key is not None and key in item.lines:
            return item.lines[key]
        return item.first_line
    return None


def written(value: Any, depth: int = 0) -> bool:
    """True if `value` is (or can be) a non-empty literal written in the template itself.

    Plain strings and numbers count, as do `Fn::Join` / `Fn::Sub` / `Fn::Base64` built from
    literals only, and a `Fn::If` branch that is one. Dynamic references (`{{resolve:...}}`)
    and anything involving a parameter, resource or import are supplied at deploy time.
    """
    if depth > 16 or isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        text = value.strip()
        return bool(text) and not text.startswith("{{resolve:")
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((key, arg),) = value.items()
    if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
        return written(arg[1], depth + 1) or written(arg[2], depth + 1)
    if key == "Fn::Base64":
        return written(arg, depth + 1)
    if key == "Fn::Sub" and isinstance(arg, str):
        return "${" not in arg.replace("${!", "") and written(arg, depth + 1)
    if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
        parts = arg[1]
        return (
            bool(parts)
            and all(isinstance(p, str | int | float) or written(p, depth + 1) for p in parts)
            and any(written(p, depth + 1) for p in parts)
        )
    return False


def group_parameter(tpl: Template, res: Resource, name: str) -> tuple[list[Any], int | None]:
    """The values a parameter group's `Parameters` give `name` (case-insensitive), and the
    line to report; ([], None) when the group does not set it.

    Handles both shapes CloudFormation uses: a mapping of names to values (RDS, DocumentDB,
    Neptune, ElastiCache) and a list of ParameterName / ParameterValue items (Redshift).
    """
    wanted = name.lower()
    parameters = res.prop("Parameters")
    if isinstance(parameters, dict) and not is_intrinsic(parameters):
        for key, value in parameters.items():
            if isinstance(key, str) and key.lower() == wanted:
                return tpl.possible_values(value), item_line(parameters, key)
        return [], None
    for item in as_list(parameters):
        if not isinstance(item, dict):
            continue
        names = tpl.possible_values(item.get("ParameterName"))
        if any(isinstance(n, str) and n.lower() == wanted for n in names):
            values = tpl.possible_values(item.get("ParameterValue"))
            return values, item_line(item, "ParameterValue") or res.prop_line("Parameters")
    return [], None
