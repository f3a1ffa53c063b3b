"""Security group and EBS rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import LineDict, Resource, Template
from rules.cloudformation._helpers import as_list, require_true

_WORLD = frozenset({"0.0.0.0/0", "::/0"})
_ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
_ALL_PROTOCOLS = frozenset({"-1", "all"})


def ingress_rules(tpl: Template) -> Iterator[tuple[Resource, Any, tuple[Any, ...]]]:
    """Every ingress rule: inline in security groups, or standalone ingress resources."""
    for res in tpl.of_type("AWS::EC2::SecurityGroup"):
        for index, item in enumerate(as_list(res.prop("SecurityGroupIngress"))):
            if isinstance(item, dict):
                yield res, item, ("SecurityGroupIngress", index)
    for res in tpl.of_type("AWS::EC2::SecurityGroupIngress"):
        yield res, res.properties, ()


def _world_cidr(tpl: Template, item: dict) -> tuple[str, str] | None:
    """The key (CidrIp / CidrIpv6) opening the rule to the whole internet, and its value."""
    for key in ("CidrIp", "CidrIpv6"):
        if key in item:
            for value in tpl.possible_values(item[key]):
                if isinstance(value, str) and value.strip() in _WORLD:
                    return key, value
    return None


def _port(tpl: Template, value: Any) -> int | None:
    values = tpl.possible_values(value)
    try:
        return int(values[0]) if len(values) == 1 else None
    except (TypeError, ValueError):
        return None


def _line(res: Resource, item: Any, path: tuple[Any, ...], key: str) -> int | None:
    if isinstance(item, LineDict) and key in item.lines:
        return item.lines[key]
    return res.prop_line(*path, key)


def _all_traffic(tpl: Template, item: dict) -> bool:
    protocols = tpl.possible_values(item.get("IpProtocol"))
    if any(str(p).lower() in _ALL_PROTOCOLS for p in protocols):
        return True
    low, high = _port(tpl, item.get("FromPort")), _port(tpl, item.get("ToPort"))
    return low is not None and high is not None and low <= 0 and (high >= 65535 or high == -1)


@rule(
    id="CF-EC2-001",
    artifact_type="cloudformation",
    title="SSH or RDP open to the internet",
    severity="high",
    description=(
        "An ingress rule allowing 0.0.0.0/0 (or ::/0) on port 22 or 3389 exposes remote "
        "administration to the whole internet, where it is brute-forced and scanned for "
        "vulnerabilities within minutes."
    ),
    remediation=(
        "Restrict the source to a known range, or drop the rule and use SSM Session Manager:\n"
        "```yaml\n- IpProtocol: tcp\n  FromPort: 22\n  ToPort: 22\n  CidrIp: 10.20.0.0/16\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager.html",
    ),
)
def admin_port_open(tpl: Template) -> Iterator[Hit]:
    for res, item, path in ingress_rules(tpl):
        world = _world_cidr(tpl, item)
        if world is None or _all_traffic(tpl, item):
            continue
        key, cidr = world
        low, high = _port(tpl, item.get("FromPort")), _port(tpl, item.get("ToPort"))
        if low is None or high is None:
            continue
        for port, name in _ADMIN_PORTS.items():
            if low <= port <= high:
                yield Hit(
                    f"{cidr} may reach port {port} ({name})",
                    line=_line(res, item, path, key),
                    resource=res.logical_id,
                )
                break


@rule(
    id="CF-EC2-002",
    artifact_type="cloudformation",
    title="All traffic open to the internet",
    severity="critical",
    description=(
        "An ingress rule allowing every protocol or every port from 0.0.0.0/0 (or ::/0) "
        "exposes every service on the attached instances, including ones never meant to be "
        "reachable, such as databases, caches and admin consoles."
    ),
    remediation=(
        "Open only the ports the service needs, to the sources that need them:\n"
        "```yaml\n- IpProtocol: tcp\n  FromPort: 443\n  ToPort: 443\n  CidrIp: 0.0.0.0/0\n```"
    ),
    references=("https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",),
)
def all_traffic_open(tpl: Template) -> Iterator[Hit]:
    for res, item, path in ingress_rules(tpl):
        world = _world_cidr(tpl, item)
        if world is not None and _all_traffic(tpl, item):
            key, cidr = world
            yield Hit(
                f"{cidr} may reach every port and protocol",
                line=_line(res, item, path, key),
                resource=res.logical_id,
            )


@rule(
    id="CF-EBS-001",
    artifact_type="cloudformation",
    title="EBS volume not encrypted",
    severity="medium",
    description=(
        "An unencrypted EBS volume stores its data, and every snapshot taken from it, in "
        "clear: a shared or leaked snapshot exposes everything on the disk."
    ),
    remediation="Set `Encrypted: true` (and `KmsKeyId` to use your own key) on the volume.",
    references=("https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",),
)
def volume_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Volume"):
        hit = require_true(tpl, res, "Encrypted", what="encryption at rest")
        if hit:
            yield hit
