"""Drift: the named stacks' templates against the live resources they manage.

Each managed resource of a covered type is compared with its live CloudFormation shape
(`chalicelib.posture.shapes`), on the security-relevant properties only, and only where the
template declares the property: what the template leaves to AWS's defaults is not drift.
A template value that is still an intrinsic (unresolved), and a live section that could not be
read, are not comparable and never drift. Resources of covered types that no named stack
manages are unmanaged; managed resources that are gone are deleted.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chalicelib.parsers.cloudformation import is_intrinsic
from chalicelib.posture.inventory import Inventory, InventoryResource, Stack, StackResource
from chalicelib.posture.shapes import shapes_of
from chalicelib.posture.shapes._base import Context, bool_text

__all__ = ["COVERED", "Drift", "drifts", "unmanaged"]

_SG = "AWS::EC2::SecurityGroup"
_BUCKET = "AWS::S3::Bucket"
_BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")

SETTINGS: dict[str, tuple[tuple[str, ...], ...]] = {
    _BUCKET: (("VersioningConfiguration", "Status"),),
    "AWS::RDS::DBInstance": (("PubliclyAccessible",), ("StorageEncrypted",)),
    "AWS::SQS::Queue": (("KmsMasterKeyId",), ("SqsManagedSseEnabled",)),
    "AWS::SNS::Topic": (("KmsMasterKeyId",),),
    "AWS::EC2::Instance": (("MetadataOptions", "HttpTokens"),),
}
"""Per type, the security settings compared as single values (AWS-DRIFT-007)."""
_SECTION_OF = {
    ("AWS::S3::Bucket", "VersioningConfiguration"): "Versioning",
    ("AWS::S3::Bucket", "PublicAccessBlockConfiguration"): "PublicAccessBlock",
    ("AWS::S3::Bucket", "BucketEncryption"): "Encryption",
}
COVERED = frozenset({_SG, *SETTINGS})
"""The resource types drift compares (and lists as unmanaged)."""


@dataclass(frozen=True)
class Drift:
    """One difference: `kind` names the rule, `resource` the live resource's ARN."""

    kind: str
    resource: str
    property: str
    template: str
    live: str
    stack: str
    detail: str = ""

    @property
    def message(self) -> str:
        head = f"{self.resource} ({self.stack}): {self.property}"
        detail = f" {self.detail};" if self.detail else ""
        return f"{head}:{detail} template: {self.template}; live: {self.live}"


# -- values --------------------------------------------------------------------------------


def _comparable(value: Any) -> bool:
    if is_intrinsic(value):
        return False
    if isinstance(value, dict):
        return all(_comparable(v) for v in value.values())
    if isinstance(value, list):
        return all(_comparable(v) for v in value)
    return True


def _at(props: dict[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = props
    for key in path:
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    return current


def _scalar(value: Any) -> Any:
    """A setting as compared: booleans from text, key ids by their last part."""
    flag = bool_text(value)
    if flag is not None:
        return flag
    if isinstance(value, int | float):
        return value
    if value is None or value == "":
        return None
    return str(value)


def _key_id(value: Any) -> str | None:
    """A KMS key named by id or ARN, as its id; an alias stays an alias."""
    if value is None:
        return None
    text = str(value)
    if ":alias/" in text:
        return "alias/" + text.split(":alias/", 1)[1]
    return text.rsplit("key/", 1)[-1] if "key/" in text else text


def _show(value: Any) -> str:
    if value is None:
        return "not set"
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 300 else text[:297] + "..."


# -- security group rules -------------------------------------------------------------------

_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}
_SOURCES = (
    ("CidrIp", "cidr"),
    ("CidrIpv6", "cidr"),
    ("SourceSecurityGroupId", "group"),
    ("DestinationSecurityGroupId", "group"),
    ("SourcePrefixListId", "prefix list"),
    ("DestinationPrefixListId", "prefix list"),
)

Rule = tuple[str, int | None, int | None, str, str]


def _rule(entry: Any) -> Rule | None:
    """A rule as compared (protocol, ports, source kind, source), None if not comparable."""
    if not isinstance(entry, dict) or not _comparable(entry):
        return None
    protocol = str(entry.get("IpProtocol", "")).lower()
    protocol = _PROTOCOLS.get(protocol, protocol)
    if not protocol:
        return None
    low: int | None = None
    high: int | None = None
    if protocol != "-1":
        try:
            low, high = int(entry.get("FromPort")), int(entry.get("ToPort"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
    found = [(kind, entry[key]) for key, kind in _SOURCES if entry.get(key)]
    if len(found) != 1:
        return None  # SourceSecurityGroupName (EC2-Classic) or no source: not comparable
    kind, source = found[0]
    if kind == "cidr":
        try:
            source = str(ipaddress.ip_network(str(source).strip(), strict=False))
        except ValueError:
            return None
    return (protocol, low, high, kind, str(source))


def _describe_rule(rule: Rule, egress: bool) -> str:
    protocol, low, high, _, source = rule
    where = "to" if egress else "from"
    if protocol == "-1":
        return f"all traffic {where} {source}"
    ports = str(low) if low == high else f"{low}-{high}"
    return f"{protocol} {ports} {where} {source}"


def _describe_rules(rules: set[Rule], egress: bool) -> str:
    if not rules:
        return "no rules"
    return ", ".join(_describe_rule(r, egress) for r in sorted(rules, key=repr))


_DEFAULT_EGRESS = {("-1", None, None, "cidr", "0.0.0.0/0"), ("-1", None, None, "cidr", "::/0")}


# -- policies -------------------------------------------------------------------------------


def _listed(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return sorted(str(v) for v in items if v is not None)


def _principal(value: Any) -> Any:
    if not isinstance(value, dict):
        return str(value)
    out = {}
    for kind, who in value.items():
        names = []
        for name in _listed(who):
            if kind == "AWS" and name.isdigit() and len(name) == 12:
                name = f"arn:aws:iam::{name}:root"
            names.append(name)
        out[str(kind)] = sorted(names)
    return out


def _policy(document: Any) -> list[str] | None:
    """A policy document as a sorted list of canonical statements (None: not comparable)."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not isinstance(document, dict) or not _comparable(document):
        return None
    statements = document.get("Statement")
    out = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict):
            return None
        canonical: dict[str, Any] = {}
        for key, value in statement.items():
            if key in ("Action", "NotAction", "Resource", "NotResource"):
                canonical[key] = _listed(value)
            elif key in ("Principal", "NotPrincipal"):
                canonical[key] = _principal(value)
            elif key == "Condition" and isinstance(value, dict):
                canonical[key] = {
                    op: {k: [str(x).lower() for x in _listed(v)] for k, v in (tests or {}).items()}
                    for op, tests in value.items()
                }
            else:
                canonical[key] = value
        out.append(json.dumps(canonical, sort_keys=True))
    return sorted(out)


# -- comparison -----------------------------------------------------------------------------


class _Comparison:
    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        facts = {
            scope: {k: v for k, v in values.items() if k != "s3.account_public_access_block"}
            for scope, values in inventory.facts.items()
        }  # a bucket is compared by its own block, not the account's folded in
        self.ctx = Context.of(inventory.model_copy(update={"facts": facts}))
        self.live: dict[tuple[str, str], InventoryResource] = {}
        for res in inventory.resources:
            if res.type in COVERED:
                self.live[(res.type, res.id.lower())] = res
                self.live[(res.type, res.arn.lower())] = res
        self.extra_ingress: dict[str, list[Any]] = {}
        self.extra_egress: dict[str, list[Any]] = {}
        self.loose_rules: set[str] = set()  # stacks with a rule resource of unknown group
        self.policies: dict[str, list[Any]] = {}
        self.loose_policies: set[str] = set()
        for stack in inventory.stacks or []:
            self._gather(stack)

    def _gather(self, stack: Stack) -> None:
        for res in stack.resources:
            props = res.properties
            if res.type in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
                group = props.get("GroupId")
                if not isinstance(group, str):
                    self.loose_rules.add(stack.id)
                    continue
                into = self.extra_ingress if res.type.endswith("Ingress") else self.extra_egress
                into.setdefault(group, []).append(props)
            elif res.type == "AWS::S3::BucketPolicy":
                bucket = props.get("Bucket")
                if not isinstance(bucket, str):
                    self.loose_policies.add(stack.id)
                    continue
                self.policies.setdefault(bucket, []).append(props.get("PolicyDocument"))

    def find(self, managed: StackResource) -> InventoryResource | None:
        physical = (managed.physical_id or "").lower()
        if managed.type == "AWS::SQS::Queue":
            physical = physical.rsplit("/", 1)[-1]
        return self.live.get((managed.type, physical))

    def run(self) -> Iterator[Drift]:
        for stack in self.inventory.stacks or []:
            for managed in stack.resources:
                if managed.type not in COVERED or not managed.physical_id:
                    continue
                if (managed.status or "").startswith("DELETE_"):
                    continue  # the stack itself removed (or retained) it
                live = self.find(managed)
                if live is None:
                    if self.inventory.read(managed.type):
                        yield Drift(
                            "deleted",
                            f"{stack.id}/{managed.logical_id}",
                            managed.logical_id,
                            f"{managed.type} {managed.physical_id}",
                            "not found",
                            stack.name,
                        )
                    continue
                shapes = shapes_of(live, self.ctx)
                props = shapes[0].properties if shapes else {}
                if managed.type == _SG:
                    yield from self._group(stack, managed, live, props)
                if managed.type == _BUCKET:
                    yield from self._bucket(stack, managed, live, props)
                yield from self._settings(stack, managed, live, props)

    # security groups

    def _group(
        self, stack: Stack, managed: StackResource, live: InventoryResource, props: dict
    ) -> Iterator[Drift]:
        if stack.id in self.loose_rules:
            return
        for name, egress in (("SecurityGroupIngress", False), ("SecurityGroupEgress", True)):
            extra = (self.extra_egress if egress else self.extra_ingress).get(live.id, [])
            declared = managed.properties.get(name)
            if declared is not None and not isinstance(declared, list):
                continue  # an intrinsic: not comparable
            entries = [*(declared or []), *extra]
            wanted = {_rule(e) for e in entries}
            if None in wanted:
                continue
            expected: set[Rule] = {r for r in wanted if r is not None}
            seen = {_rule(e) for e in props.get(name) or []}
            actual: set[Rule] = {r for r in seen if r is not None}
            if egress and not entries:  # AWS's allow-all egress when the template sets none
                actual -= _DEFAULT_EGRESS
                expected = set()
            added, removed = actual - expected, expected - actual
            template, now = _describe_rules(expected, egress), _describe_rules(actual, egress)
            if egress and (added or removed):
                parts = [f"{_describe_rules(added, True)} added"] if added else []
                parts += [f"{_describe_rules(removed, True)} removed"] if removed else []
                yield Drift("egress", live.arn, name, template, now, stack.name, "; ".join(parts))
            elif added:
                detail = f"{_describe_rules(added, False)} added outside the template"
                yield Drift("ingress added", live.arn, name, template, now, stack.name, detail)
            if not egress and removed:
                detail = f"{_describe_rules(removed, False)} removed outside the template"
                yield Drift("ingress removed", live.arn, name, template, now, stack.name, detail)

    # buckets

    def _bucket(
        self, stack: Stack, managed: StackResource, live: InventoryResource, props: dict
    ) -> Iterator[Drift]:
        declared = managed.properties
        block = declared.get("PublicAccessBlockConfiguration")
        if (
            isinstance(block, dict)
            and _comparable(block)
            and self._read(live, "PublicAccessBlockConfiguration")
        ):
            wanted = {f: bool(bool_text(block.get(f))) for f in _BLOCK_FLAGS}
            found = props.get("PublicAccessBlockConfiguration")
            now = {f: bool((found or {}).get(f)) for f in _BLOCK_FLAGS}
            if wanted != now:
                changed = ", ".join(f for f in _BLOCK_FLAGS if wanted[f] != now[f])
                detail = (
                    "removed outside the template"
                    if found is None
                    else f"{changed} changed outside the template"
                )
                yield Drift(
                    "public access block",
                    live.arn,
                    "PublicAccessBlockConfiguration",
                    _show(wanted),
                    _show(found) if found is None else _show(now),
                    stack.name,
                    detail,
                )
        encryption = declared.get("BucketEncryption")
        if encryption is not None and self._read(live, "BucketEncryption"):
            wanted_sse = _sse(encryption)
            now_sse = _sse(props.get("BucketEncryption"))
            if (
                wanted_sse is not None
                and now_sse is not None
                and not _same_sse(wanted_sse, now_sse)
            ):
                yield Drift(
                    "encryption",
                    live.arn,
                    "BucketEncryption",
                    _show(wanted_sse or None),
                    _show(now_sse or None),
                    stack.name,
                )
        yield from self._bucket_policy(stack, live)

    def _bucket_policy(self, stack: Stack, live: InventoryResource) -> Iterator[Drift]:
        if stack.id in self.loose_policies or "Policy" in live.not_assessed:
            return
        declared = self.policies.get(live.id, [])
        wanted = [_policy(d) for d in declared]
        if any(w is None for w in wanted) or len(wanted) > 1:
            return
        found = live.configuration.get("Policy")
        now = _policy(found) if found is not None else []
        if now is None:
            return
        expected = wanted[0] if wanted else []
        if expected == now:
            return
        detail = (
            "added outside the template"
            if not expected
            else "removed outside the template"
            if not now
            else "changed outside the template"
        )
        yield Drift(
            "bucket policy",
            live.arn,
            "AWS::S3::BucketPolicy PolicyDocument",
            _show(declared[0]) if declared else "no bucket policy",
            _show(found) if now else "no bucket policy",
            stack.name,
            detail,
        )

    # single settings

    def _settings(
        self, stack: Stack, managed: StackResource, live: InventoryResource, props: dict
    ) -> Iterator[Drift]:
        for path in SETTINGS.get(managed.type, ()):
            declared = _at(managed.properties, path)
            if declared is None or not _comparable(declared) or not self._read(live, path[0]):
                continue
            wanted, now = _scalar(declared), _scalar(_at(props, path))
            if path[-1] == "KmsMasterKeyId":
                wanted, now = _key_id(wanted), _key_id(now)
                if wanted and now and wanted.startswith("alias/") != now.startswith("alias/"):
                    continue  # an alias and a key id: the same key or not, we cannot tell
            if wanted != now:
                yield Drift(
                    "setting",
                    live.arn,
                    ".".join(path),
                    _show(wanted),
                    _show(now),
                    stack.name,
                )

    def _read(self, live: InventoryResource, prop: str) -> bool:
        section = _SECTION_OF.get((live.type, prop))
        return not live.not_assessed if section is None else section not in live.not_assessed


def _sse(encryption: Any) -> list[tuple[str | None, str | None]] | None:
    """A bucket's default encryption as (algorithm, key id) pairs; None: not comparable."""
    if encryption is None:
        return []
    if not isinstance(encryption, dict) or not _comparable(encryption):
        return None
    out = []
    for rule in encryption.get("ServerSideEncryptionConfiguration") or []:
        default = (rule or {}).get("ServerSideEncryptionByDefault") or {}
        key = _key_id(default.get("KMSMasterKeyID"))
        out.append((default.get("SSEAlgorithm"), key))
    return sorted(out, key=repr)


def _same_key(left: str | None, right: str | None) -> bool:
    """Equal key ids; an alias and a key id may be the same key: not told apart."""
    if left == right:
        return True
    return bool(left and right) and left.startswith("alias/") != right.startswith("alias/")  # type: ignore[union-attr]


def _same_sse(
    wanted: list[tuple[str | None, str | None]], now: list[tuple[str | None, str | None]]
) -> bool:
    if len(wanted) != len(now):
        return False
    return all(
        a[0] == b[0] and _same_key(a[1], b[1])
        for a, b in zip(sorted(wanted, key=repr), sorted(now, key=repr), strict=True)
    )


def drifts(inventory: Inventory) -> list[Drift]:
    """Every difference between the named stacks and the live resources they manage."""
    if not inventory.stacks:
        return []
    return inventory.memo("drift.drifts", lambda inv: list(_Comparison(inv).run()))


def unmanaged(inventory: Inventory) -> list[InventoryResource]:
    """Live resources of covered types that no named stack manages; none unless at least one
    named stack was read and every named stack that exists could be read."""
    if not inventory.stacks:
        return []
    if any(
        n.service == "cloudformation" and n.reason != "stack not found"
        for n in inventory.not_assessed
    ):
        return []
    comparison = _Comparison(inventory)
    managed = {
        id(found)
        for stack in inventory.stacks
        for res in stack.resources
        if res.type in COVERED and (found := comparison.find(res)) is not None
    }
    return [
        res
        for res in inventory.resources
        if res.type in COVERED
        and id(res) not in managed
        and not (res.type == _SG and res.configuration.get("GroupName") == "default")
    ]
