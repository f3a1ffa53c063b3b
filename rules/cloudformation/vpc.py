"""VPC rules: flow logs, public IP assignment and network ACLs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Template
from rules.cloudformation._helpers import (
    MISSING,
    describe,
    each,
    enabled,
    is_world,
    refers_to,
    truthy,
)

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_ADMIN_PORTS = {22: "SSH", 3389: "RDP"}


@rule(
    id="CF-VPC-001",
    controls=(
        "cis-aws-3.0 3.7",
        "fsbp EC2.6",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="VPC without flow logs",
    severity="medium",
    resource_types=("AWS::EC2::FlowLog", "AWS::EC2::VPC"),
    description=(
        "Flow logs are the record of which addresses talked to which, on what port, and "
        "whether the traffic was accepted. Without them, lateral movement, data exfiltration "
        "or a scan from a compromised instance cannot be reconstructed. No AWS::EC2::FlowLog "
        "in the template covers this VPC."
    ),
    remediation=(
        "```yaml\nVpcFlowLog:\n  Type: AWS::EC2::FlowLog\n  Properties:\n"
        "    ResourceId: !Ref Vpc\n    ResourceType: VPC\n    TrafficType: ALL\n"
        "    LogDestinationType: s3\n    LogDestination: !GetAtt FlowLogsBucket.Arn\n```"
    ),
    references=(
        f"{_HUB}/ec2-controls.html#ec2-6",
        "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html",
    ),
)
def vpc_without_flow_logs(tpl: Template) -> Iterator[Hit]:
    vpcs = list(tpl.of_type("AWS::EC2::VPC"))
    if not vpcs:
        return
    targets = []
    for flow_log in tpl.of_type("AWS::EC2::FlowLog"):
        kinds = tpl.possible_values(flow_log.prop("ResourceType"))
        if any(isinstance(k, str) and k.strip().upper() == "VPC" for k in kinds):
            targets.append(flow_log.prop("ResourceId"))
            targets.append(flow_log.prop("ResourceIds"))
    for res in vpcs:
        if not any(refers_to(target, res.logical_id) for target in targets):
            yield Hit("no FlowLog covers this VPC", line=res.line, resource=res.logical_id)


@rule(
    id="CF-VPC-002",
    controls=("fsbp EC2.15", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="Subnet assigns public IP addresses on launch",
    severity="low",
    resource_types=("AWS::EC2::Subnet",),
    description=(
        "With MapPublicIpOnLaunch, every instance and network interface started in the "
        "subnet gets a public address unless told otherwise, so a workload meant to be "
        "private becomes reachable from the internet as soon as a security group rule "
        "allows it."
    ),
    remediation=(
        "Keep automatic public addresses off, and give them explicitly to the few resources "
        "that need one (or put those behind a load balancer or NAT):\n"
        "```yaml\nAppSubnet:\n  Type: AWS::EC2::Subnet\n  Properties:\n"
        "    VpcId: !Ref Vpc\n    CidrBlock: 10.0.1.0/24\n    MapPublicIpOnLaunch: false\n```"
    ),
    references=(
        f"{_HUB}/ec2-controls.html#ec2-15",
        "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-ip-addressing.html#subnet-public-ip",
    ),
)
def subnet_maps_public_ip(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Subnet"):
        value = res.prop("MapPublicIpOnLaunch", default=MISSING)
        if value is MISSING or value is None:
            continue
        values = tpl.possible_values(value)
        line = res.prop_line("MapPublicIpOnLaunch")
        if any(truthy(v) is True for v in values):
            yield Hit("MapPublicIpOnLaunch can be true", line=line, resource=res.logical_id)
        elif any(v is not NO_VALUE and truthy(v) is None for v in values):
            yield Hit(
                f"MapPublicIpOnLaunch comes from {describe(value)}, which cannot be resolved "
                "from the template: make sure it is false",
                line=line,
                resource=res.logical_id,
            )


def _number(tpl: Template, value: Any) -> int | None:
    values = tpl.possible_values(value)
    try:
        return int(values[0]) if len(values) == 1 else None
    except (TypeError, ValueError):
        return None


@rule(
    id="CF-VPC-003",
    controls=("cis-aws-3.0 5.1", "fsbp EC2.21", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="Network ACL allows SSH or RDP from the internet",
    severity="medium",
    resource_types=("AWS::EC2::NetworkAclEntry",),
    description=(
        "A network ACL entry allowing inbound traffic from 0.0.0.0/0 (or ::/0) to port 22 or "
        "3389 removes the subnet-level guard on remote administration: only security groups "
        "remain between the internet and the instances' SSH and RDP services."
    ),
    remediation=(
        "Allow administration ports only from known ranges (or not at all, with SSM Session "
        "Manager):\n"
        "```yaml\nAdminIngress:\n  Type: AWS::EC2::NetworkAclEntry\n  Properties:\n"
        "    NetworkAclId: !Ref PublicAcl\n    RuleNumber: 100\n    Protocol: 6\n"
        "    RuleAction: allow\n    CidrBlock: 10.20.0.0/16\n"
        "    PortRange: {From: 22, To: 22}\n```"
    ),
    references=(
        f"{_HUB}/ec2-controls.html#ec2-21",
        "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html",
    ),
)
def acl_admin_ports_open(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::NetworkAclEntry"):
        if any(truthy(v) is True for v in tpl.possible_values(res.prop("Egress", default=False))):
            continue
        actions = tpl.possible_values(res.prop("RuleAction"))
        if not any(isinstance(a, str) and a.strip().lower() == "allow" for a in actions):
            continue
        key = next(
            (
                k
                for k in ("CidrBlock", "Ipv6CidrBlock")
                if any(isinstance(v, str) and is_world(v) for v in tpl.possible_values(res.prop(k)))
            ),
            None,
        )
        if key is None:
            continue
        protocol = _number(tpl, res.prop("Protocol"))
        if protocol == -1:
            yield Hit(
                "the entry allows every protocol and port from the internet",
                line=res.prop_line(key),
                resource=res.logical_id,
            )
            continue
        if protocol is not None and protocol != 6:
            continue
        low = _number(tpl, res.prop("PortRange", "From"))
        high = _number(tpl, res.prop("PortRange", "To"))
        if protocol is None or low is None or high is None:
            yield Hit(
                "the entry allows traffic from the internet on a protocol or port range that "
                "cannot be resolved from the template: make sure it excludes ports 22 and 3389",
                line=res.prop_line(key),
                resource=res.logical_id,
            )
            continue
        exposed = [f"{port} ({name})" for port, name in _ADMIN_PORTS.items() if low <= port <= high]
        if exposed:
            what = (
                f"port {exposed[0]}"
                if low == high
                else f"ports {low}-{high}, including {' and '.join(exposed)},"
            )
            yield Hit(
                f"the entry allows {what} from the internet",
                line=res.prop_line(key),
                resource=res.logical_id,
            )


def _acl_key(res: Any) -> str:
    """The ACL an entry belongs to, as written (a Ref, GetAtt or literal id)."""
    return repr(res.prop("NetworkAclId"))


@rule(
    id="CF-NACL-001",
    artifact_type="cloudformation",
    title="Network ACL entries share a rule number",
    severity="low",
    resource_types=("AWS::EC2::NetworkAclEntry",),
    description=(
        "Two entries of the same network ACL and direction (ingress or egress) with the same "
        "RuleNumber cannot both exist: the second one fails to create (the stack rolls back), "
        "or, when the number is reused across updates, replaces the rule the ACL was meant to "
        "keep. Rule numbers decide evaluation order, so each must be unique per direction."
    ),
    remediation=(
        "Give every entry of an ACL and direction its own RuleNumber, leaving gaps (100, 110, "
        "120...) for later rules."
    ),
    references=(
        "https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-networkaclentry.html",
    ),
)
def acl_duplicate_rule_number(tpl: Template) -> Iterator[Hit]:
    groups: dict[tuple[str, bool, int], list[Any]] = {}
    for res in tpl.of_type("AWS::EC2::NetworkAclEntry"):
        number = _number(tpl, res.prop("RuleNumber"))
        egress = [truthy(v) for v in tpl.possible_values(res.prop("Egress", default=False))]
        if number is None or len(egress) != 1 or egress[0] is None:
            continue
        groups.setdefault((_acl_key(res), egress[0], number), []).append(res)
    for (_, egress, number), entries in groups.items():
        if len(entries) < 2:
            continue
        names = ", ".join(e.logical_id for e in entries)
        for res in entries:
            yield Hit(
                f"{'egress' if egress else 'ingress'} rule number {number} is used by {names}",
                line=res.prop_line("RuleNumber"),
                resource=res.logical_id,
            )


@rule(
    id="CF-NACL-002",
    controls=("nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="Network ACL entry allows every port",
    severity="low",
    resource_types=("AWS::EC2::NetworkAclEntry",),
    description=(
        "An allow entry for TCP (6) or UDP (17) whose PortRange is missing, spans 0-65535 or "
        "gives only one of From and To (EC2 needs both for these protocols, so such a range "
        "limits nothing) opens every port of the protocol to its CIDR block, and Protocol -1 "
        "every port of every protocol, so the ACL no longer limits which services the subnet "
        "exposes or where it sends traffic. Return traffic needs only the ephemeral range "
        "(1024-65535); services need their own ports. Ingress of every protocol from the "
        "internet is CF-VPC-003's."
    ),
    remediation=(
        "```yaml\nWebIngress:\n  Type: AWS::EC2::NetworkAclEntry\n  Properties:\n"
        "    NetworkAclId: !Ref PublicAcl\n    RuleNumber: 100\n    Protocol: 6\n"
        "    RuleAction: allow\n    CidrBlock: 0.0.0.0/0\n    PortRange: {From: 443, To: 443}\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html",
        "https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html",
    ),
)
def acl_all_ports(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::NetworkAclEntry"):
        actions = tpl.possible_values(res.prop("RuleAction"))
        if not any(isinstance(a, str) and a.strip().lower() == "allow" for a in actions):
            continue
        protocol = _number(tpl, res.prop("Protocol"))
        if protocol == -1:
            if not _world_ingress(tpl, res):
                yield Hit(
                    "the entry allows every protocol and port",
                    res.prop_line("Protocol"),
                    res.logical_id,
                )
            continue
        if protocol not in (6, 17):
            continue
        name = "TCP" if protocol == 6 else "UDP"
        bounds = {k: res.prop("PortRange", k, default=MISSING) for k in ("From", "To")}
        given = [k for k, v in bounds.items() if v is not MISSING and v is not None]
        if len(given) == 1:
            yield Hit(
                f"PortRange gives only {given[0]}, but a {name} entry needs both From and To: "
                "the entry sets no port limit",
                line=res.prop_line("PortRange"),
                resource=res.logical_id,
            )
            continue
        low = 0 if not given else _number(tpl, bounds["From"])
        high = 65535 if not given else _number(tpl, bounds["To"])
        if low is not None and high is not None and low <= 1 and high >= 65535:
            yield Hit(
                f"the entry allows every {name} port",
                line=res.prop_line("PortRange"),
                resource=res.logical_id,
            )


def _world_ingress(tpl: Template, res: Any) -> bool:
    """An ingress entry from 0.0.0.0/0 or ::/0 (CF-VPC-003 judges those)."""
    if any(truthy(v) is True for v in tpl.possible_values(res.prop("Egress", default=False))):
        return False
    return any(
        isinstance(v, str) and is_world(v)
        for key in ("CidrBlock", "Ipv6CidrBlock")
        for v in tpl.possible_values(res.prop(key))
    )


@rule(
    id="CF-VPC-004",
    artifact_type="cloudformation",
    title="VPC endpoint service accepts connections without review",
    severity="low",
    resource_types=("AWS::EC2::VPCEndpointService",),
    description=(
        "With AcceptanceRequired false (the default), any principal allowed by the "
        "service's permissions connects an interface endpoint to it and reaches the load "
        "balancer behind it at once; nobody reviews which account and VPC asked. With "
        "acceptance required, each connection waits for the provider's approval."
    ),
    remediation=(
        "```yaml\nPartnerService:\n  Type: AWS::EC2::VPCEndpointService\n  Properties:\n"
        "    NetworkLoadBalancerArns: [!Ref ServiceNlb]\n    AcceptanceRequired: true\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/vpc/latest/privatelink/configure-endpoint-service.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-vpcendpointservice.html",
    ),
)
def endpoint_service_without_acceptance(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        "AWS::EC2::VPCEndpointService",
        enabled,
        "AcceptanceRequired",
        what="review of connection requests",
    )
