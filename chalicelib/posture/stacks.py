"""Named CloudFormation stacks as deployed: each stack's template (`GetTemplate`, the processed
stage where there is one) and resources (`ListStackResources`, paginated), with the template's
properties resolved as far as the stack tells: its parameter values, pseudo parameters, and
`Ref` / `Fn::GetAtt` / `${...}` to its own resources (their physical ids). What cannot be
resolved stays an intrinsic, which drift treats as not comparable.

Nested stacks (`AWS::CloudFormation::Stack` resources of a named stack) are read too, as
stacks of their own named by their path (`parent/Logical`), so drift judges their resources
and none of them counts as unmanaged; at most `MAX_NESTING` levels and `MAX_STACKS` stacks.

A stack that does not exist, or cannot be read, is a `not_assessed` entry, never an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.parsers import ParseError
from chalicelib.parsers import cloudformation as cfn
from chalicelib.posture import inventory as inv
from chalicelib.posture.aws import Reader, classify, error_code, permission

__all__ = ["FEED", "read_stacks", "resolve_properties"]

FEED = "cloudformation.stacks"
"""What a stack's `not_assessed` entry feeds: the drift checks."""
_NO_ECHO = "****"
NESTED = "AWS::CloudFormation::Stack"
MAX_NESTING = 5
MAX_STACKS = 200
_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")

# (type, attribute) → its value from (physical id, region, account, partition)
_ATTRIBUTES: dict[tuple[str, str], Callable[[str, str, str, str], str]] = {
    ("AWS::EC2::SecurityGroup", "GroupId"): lambda p, r, a, n: p,
    ("AWS::S3::Bucket", "Arn"): lambda p, r, a, n: f"arn:{n}:s3:::{p}",
    ("AWS::SQS::Queue", "Arn"): lambda p, r, a, n: f"arn:{n}:sqs:{r}:{a}:{p.rsplit('/', 1)[-1]}",
    ("AWS::SQS::Queue", "QueueName"): lambda p, r, a, n: p.rsplit("/", 1)[-1],
    ("AWS::SQS::Queue", "QueueUrl"): lambda p, r, a, n: p,
    ("AWS::SNS::Topic", "TopicArn"): lambda p, r, a, n: p,
    ("AWS::SNS::Topic", "TopicName"): lambda p, r, a, n: p.rsplit(":", 1)[-1],
    ("AWS::KMS::Key", "Arn"): lambda p, r, a, n: f"arn:{n}:kms:{r}:{a}:key/{p}",
    ("AWS::KMS::Key", "KeyId"): lambda p, r, a, n: p,
}


class _Known:
    """What the stack tells about its own resources: physical ids and a few attributes."""

    def __init__(
        self,
        summaries: Iterable[dict[str, Any]],
        region: str,
        account: str,
        partition: str,
    ) -> None:
        self.region, self.account, self.partition = region, account, partition
        self.physical: dict[str, str] = {}
        self.types: dict[str, str] = {}
        for item in summaries:
            if item.get("PhysicalResourceId"):
                self.physical[item["LogicalResourceId"]] = item["PhysicalResourceId"]
                self.types[item["LogicalResourceId"]] = item.get("ResourceType", "")

    def attribute(self, logical_id: str, name: str) -> str | None:
        physical = self.physical.get(logical_id)
        make = _ATTRIBUTES.get((self.types.get(logical_id, ""), name))
        if physical is None or make is None:
            return None
        return make(physical, self.region, self.account, self.partition)

    def lookup(self, name: str) -> str | None:
        """`${name}` of a `Fn::Sub`: a resource's physical id, or `Logical.Attr`."""
        if "." in name:
            logical_id, attr = name.split(".", 1)
            return self.attribute(logical_id, attr)
        return self.physical.get(name)


def _substitute(value: Any, known: _Known) -> Any:
    """`value` with references to the stack's resources replaced by what the stack tells."""
    if isinstance(value, list):
        return [_substitute(v, known) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str) and arg in known.physical:
            return known.physical[arg]
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if (
                isinstance(parts, list)
                and len(parts) == 2
                and all(isinstance(p, str) for p in parts)
            ):
                found = known.attribute(parts[0], parts[1])
                if found is not None:
                    return found
        if key == "Fn::Sub":
            return {key: _sub(arg, known)}
    return {k: _substitute(v, known) for k, v in value.items()}


def _sub(arg: Any, known: _Known) -> Any:
    text, variables = (arg, {}) if isinstance(arg, str) else (None, None)
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
        text, variables = arg[0], arg[1] if isinstance(arg[1], dict) else {}
    if text is None:
        return _substitute(arg, known)

    def replace(match: re.Match[str]) -> str:
        name = match.group(2)
        if match.group(1) or name in (variables or {}):
            return match.group(0)
        found = known.lookup(name)
        return match.group(0) if found is None else found

    replaced = _SUB_VARIABLE.sub(replace, text)
    if isinstance(arg, str):
        return replaced
    return [replaced, _substitute(variables, known)]


def _unresolved(value: Any) -> bool:
    if value is cfn.UNRESOLVED or cfn.is_intrinsic(value):
        return True
    if isinstance(value, dict):
        return any(_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(_unresolved(v) for v in value)
    return False


def resolve_properties(template: cfn.Template, value: Any, known: _Known, depth: int = 0) -> Any:
    """Properties as plain JSON, each intrinsic resolved to its one value where the template
    and the stack decide it (`NO_VALUE` where it removes the property), else left as it is."""
    if depth > 32:
        return value
    if cfn.is_intrinsic(value):
        substituted = _substitute(value, known)
        options = (
            template.possible_values(substituted)
            if cfn.is_intrinsic(substituted)
            else [substituted]
        )
        if len(options) == 1 and options[0] is cfn.NO_VALUE:
            return cfn.NO_VALUE
        if len(options) == 1:
            resolved = resolve_properties(template, options[0], known, depth + 1)
            if not _unresolved(resolved):
                return resolved
        return _plain(value)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            resolved = resolve_properties(template, item, known, depth + 1)
            if resolved is not cfn.NO_VALUE:
                out[str(key)] = resolved
        return out
    if isinstance(value, list):
        items = [resolve_properties(template, item, known, depth + 1) for item in value]
        return [item for item in items if item is not cfn.NO_VALUE]
    if value is cfn.UNRESOLVED:
        return value  # a part of a resolved value the stack cannot tell: rejected above
    return _plain(value)


def _plain(value: Any) -> Any:
    """JSON values only (dates, markers as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _parameters(stack: dict[str, Any], region: str, account: str, partition: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": partition,
        "AWS::StackName": stack.get("StackName"),
        "AWS::StackId": stack.get("StackId"),
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
    }
    for item in stack.get("Parameters") or []:
        value = item.get("ResolvedValue", item.get("ParameterValue"))
        values[item["ParameterKey"]] = cfn.UNRESOLVED if value == _NO_ECHO else value
    return values


class _StackReader:
    def __init__(self, reader: Reader, region: str, account: str, partition: str) -> None:
        self.client = reader.client("cloudformation", region)
        self.region, self.account, self.partition = region, account, partition
        self.not_assessed: list[inv.NotAssessed] = []

    def note(self, operation: str, reason: str, message: str, resource: str) -> None:
        self.not_assessed.append(
            inv.NotAssessed(
                service="cloudformation",
                region=self.region,
                operation=permission("cloudformation", operation),
                reason=reason,
                message=message[:2000],
                resource=resource,
                feeds=[FEED],
            )
        )

    def failed(self, operation: str, exc: Exception, resource: str) -> None:
        failure = classify(exc)
        self.note(operation, failure.reason, failure.message, resource)

    def find(self, name: str) -> dict[str, Any] | None | bool:
        """The stack's description; None when it does not exist here; False when unread."""
        try:
            stacks = self.client.describe_stacks(StackName=name).get("Stacks") or []
        except Exception as exc:
            if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
                return None
            self.failed("DescribeStacks", exc, name)
            return False
        live = [s for s in stacks if s.get("StackStatus") != "DELETE_COMPLETE"]
        return live[0] if live else None

    def read_tree(self, stack: dict[str, Any], budget: list[int]) -> tuple[list[inv.Stack], bool]:
        """The stack and its nested stacks, depth first; and whether any could not be read.
        `budget` holds how many stacks may still be read (shared by every named stack)."""
        read: list[inv.Stack] = []
        unread = False
        pending: list[tuple[dict[str, Any], str, int]] = [(stack, stack["StackName"], 0)]
        seen: set[str] = set()
        while pending:
            described, name, depth = pending.pop()
            stack_id = described.get("StackId") or described["StackName"]
            if stack_id in seen:
                continue
            seen.add(stack_id)
            if budget[0] <= 0:
                self.note("DescribeStacks", "too many stacks", f"over {MAX_STACKS}", name)
                return read, True
            budget[0] -= 1
            try:
                one = self.read(described, name)
            except Exception as exc:  # a bug in reading one stack costs that stack only
                self.note("DescribeStacks", "collection failed", str(exc), name)
                one = None
            if one is None:
                unread = True
                continue
            read.append(one)
            children = [r for r in one.resources if r.type == NESTED and r.physical_id]
            if children and depth >= MAX_NESTING:
                self.note("DescribeStacks", "nested too deeply", f"over {MAX_NESTING} levels", name)
                unread = True
                continue
            for child in reversed(children):
                found = self.find(child.physical_id or "")
                if found is False or found is None:
                    unread = unread or found is False
                    continue
                pending.append((found, f"{name}/{child.logical_id}", depth + 1))
        return read, unread

    def read(self, stack: dict[str, Any], name: str | None = None) -> inv.Stack | None:
        stack_id = stack.get("StackId") or stack["StackName"]
        try:
            body = self._template(stack_id)
        except Exception as exc:
            self.failed("GetTemplate", exc, stack_id)
            return None
        try:
            pages = self.client.get_paginator("list_stack_resources").paginate(StackName=stack_id)
            summaries = [s for page in pages for s in page.get("StackResourceSummaries") or []]
        except Exception as exc:
            self.failed("ListStackResources", exc, stack_id)
            return None
        text = body if isinstance(body, str) else json.dumps(body)
        parameters = _parameters(stack, self.region, self.account, self.partition)
        try:
            template = cfn.parse(text, parameters=parameters)
        except ParseError as exc:
            self.note("GetTemplate", "template not readable", str(exc), stack_id)
            return None
        known = _Known(summaries, self.region, self.account, self.partition)
        resources = []
        for item in summaries:
            logical_id = item.get("LogicalResourceId")
            if not logical_id:
                continue
            declared = template.resources.get(logical_id)
            props = resolve_properties(template, declared.properties, known) if declared else {}
            resources.append(
                inv.StackResource(
                    logical_id=logical_id,
                    type=item.get("ResourceType") or (declared.type if declared else "Unknown"),
                    physical_id=item.get("PhysicalResourceId") or None,
                    status=item.get("ResourceStatus"),
                    properties=props if isinstance(props, dict) else {},
                )
            )
        return inv.Stack(
            name=(name or stack["StackName"])[:255],
            id=stack_id,
            region=self.region,
            status=stack.get("StackStatus"),
            resources=resources,
        )

    def _template(self, stack_id: str) -> Any:
        try:
            response = self.client.get_template(StackName=stack_id, TemplateStage="Processed")
        except Exception as exc:
            if error_code(exc) != "ValidationError":
                raise
            response = self.client.get_template(StackName=stack_id, TemplateStage="Original")
        return response.get("TemplateBody") or "{}"


def read_stacks(
    reader: Reader,
    names: Iterable[str],
    regions: list[str],
    account: str,
    partition: str,
) -> tuple[list[inv.Stack], list[inv.NotAssessed]]:
    """The named stacks, looked up in each region, and what could not be read."""
    stacks: list[inv.Stack] = []
    missing: list[inv.NotAssessed] = []
    readers = {region: _StackReader(reader, region, account, partition) for region in regions}
    budget = [MAX_STACKS]
    for name in dict.fromkeys(names):
        found = False
        unread = False
        for one in readers.values():
            described = one.find(name)
            if described is False:
                unread = True
            elif described is not None:
                tree, tree_unread = one.read_tree(described, budget)
                unread = unread or tree_unread
                stacks.extend(tree)
                found = found or bool(tree)
        if not found and not unread:
            missing.append(
                inv.NotAssessed(
                    service="cloudformation",
                    region=regions[0] if len(regions) == 1 else inv.GLOBAL,
                    operation="cloudformation:DescribeStacks",
                    reason="stack not found",
                    message=f"no stack named {name!r} in {', '.join(regions)}: check --stack "
                    "and --region",
                    resource=name,
                    feeds=[FEED],
                )
            )
    for one in readers.values():
        missing.extend(one.not_assessed)
    return stacks, missing
