"""EC2 and VPC: security groups, instances, volumes, VPCs, subnets, flow logs, network ACLs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chalicelib.posture.inventory import InventoryResource
from chalicelib.posture.shapes._base import (
    Context,
    Mapping,
    Shape,
    drop_none,
    ref,
    tags_of,
)


def _ip_rules(permissions: Iterable[Any], egress: bool) -> list[dict[str, Any]]:
    """EC2's IpPermissions (one entry per protocol and ports, many sources) as CloudFormation
    rules (one source each)."""
    out: list[dict[str, Any]] = []
    group_key = "DestinationSecurityGroupId" if egress else "SourceSecurityGroupId"
    prefix_key = "DestinationPrefixListId" if egress else "SourcePrefixListId"
    for permission in permissions:
        if not isinstance(permission, dict):
            continue
        base = drop_none(
            {
                "IpProtocol": str(permission.get("IpProtocol", "-1")),
                "FromPort": permission.get("FromPort"),
                "ToPort": permission.get("ToPort"),
            }
        )
        sources: list[dict[str, Any]] = []
        sources += [
            {"CidrIp": r.get("CidrIp"), "Description": r.get("Description")}
            for r in permission.get("IpRanges") or []
        ]
        sources += [
            {"CidrIpv6": r.get("CidrIpv6"), "Description": r.get("Description")}
            for r in permission.get("Ipv6Ranges") or []
        ]
        sources += [
            {group_key: p.get("GroupId"), "Description": p.get("Description")}
            for p in permission.get("UserIdGroupPairs") or []
        ]
        sources += [
            {prefix_key: p.get("PrefixListId"), "Description": p.get("Description")}
            for p in permission.get("PrefixListIds") or []
        ]
        out += [{**base, **drop_none(source)} for source in sources]
    return out


def security_group(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    vpc = config.get("VpcId")
    in_default = vpc in ctx.default_vpcs and config.get("GroupName") != "default"
    props = {
        "GroupName": config.get("GroupName"),
        "GroupDescription": config.get("Description"),
        "VpcId": None if in_default else vpc,
        "SecurityGroupIngress": _ip_rules(config.get("IpPermissions") or [], egress=False),
        "SecurityGroupEgress": _ip_rules(config.get("IpPermissionsEgress") or [], egress=True),
        "Tags": tags_of(res),
    }
    return [Shape(res.arn, "AWS::EC2::SecurityGroup", drop_none(props))]


def instance(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    metadata = config.get("MetadataOptions") or {}
    subnet = config.get("SubnetId")
    props: dict[str, Any] = {
        "ImageId": config.get("ImageId"),
        "InstanceType": config.get("InstanceType"),
        "SecurityGroupIds": [g.get("GroupId") for g in config.get("SecurityGroups") or []],
        "Monitoring": (config.get("Monitoring") or {}).get("State") in ("enabled", "pending"),
        "EbsOptimized": config.get("EbsOptimized"),
        "IamInstanceProfile": (config.get("IamInstanceProfile") or {}).get("Arn"),
        "MetadataOptions": drop_none(
            {
                "HttpTokens": metadata.get("HttpTokens"),
                "HttpEndpoint": metadata.get("HttpEndpoint"),
                "HttpPutResponseHopLimit": metadata.get("HttpPutResponseHopLimit"),
            }
        ),
        "Tags": tags_of(res),
    }
    if config.get("PublicIpAddress"):  # reachable: as if launched with a public interface
        props["NetworkInterfaces"] = [
            {"DeviceIndex": "0", "SubnetId": subnet, "AssociatePublicIpAddress": True}
        ]
    elif subnet not in ctx.default_subnets:
        props["SubnetId"] = subnet
    # attached volumes are judged as the volumes they are, not as block device mappings
    return [Shape(res.arn, "AWS::EC2::Instance", drop_none(props))]


def volume(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    key = config.get("KmsKeyId")
    props = {
        "AvailabilityZone": config.get("AvailabilityZone"),
        "Size": config.get("Size"),
        "VolumeType": config.get("VolumeType"),
        "Encrypted": bool(config.get("Encrypted")),
        "KmsKeyId": None if key in ctx.aws_managed_keys else key,
        "Tags": tags_of(res),
    }
    return [Shape(res.arn, "AWS::EC2::Volume", drop_none(props))]


def vpc(res: InventoryResource, ctx: Context) -> list[Shape]:
    props = {"CidrBlock": res.configuration.get("CidrBlock"), "Tags": tags_of(res)}
    return [Shape(res.arn, "AWS::EC2::VPC", drop_none(props))]


def subnet(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    props = {
        "VpcId": config.get("VpcId"),
        "CidrBlock": config.get("CidrBlock"),
        "AvailabilityZone": config.get("AvailabilityZone"),
        "MapPublicIpOnLaunch": bool(config.get("MapPublicIpOnLaunch")),
        "Tags": tags_of(res),
    }
    return [Shape(res.arn, "AWS::EC2::Subnet", drop_none(props))]


def flow_log(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    target = str(config.get("ResourceId") or "")
    kinds = {"vpc-": "VPC", "subnet-": "Subnet", "eni-": "NetworkInterface"}
    kind = next((name for prefix, name in kinds.items() if target.startswith(prefix)), None)
    vpcs = {v.id: v.arn for v in ctx.inventory.of_type("AWS::EC2::VPC")}
    props = {
        "ResourceId": ref(vpcs[target]) if target in vpcs else target,
        "ResourceType": kind,
        "TrafficType": config.get("TrafficType"),
        "LogDestinationType": config.get("LogDestinationType"),
        "LogDestination": config.get("LogDestination"),
        "LogGroupName": config.get("LogGroupName"),
    }
    return [Shape(res.arn, "AWS::EC2::FlowLog", drop_none(props))]


def network_acl(res: InventoryResource, ctx: Context) -> list[Shape]:
    shapes = []
    for entry in res.configuration.get("Entries") or []:
        number = entry.get("RuleNumber")
        if number == 32767:  # the implicit deny-all every ACL ends with
            continue
        direction = "egress" if entry.get("Egress") else "ingress"
        ports = entry.get("PortRange") or {}
        props = {
            "NetworkAclId": ref(res.arn),
            "RuleNumber": number,
            "Protocol": entry.get("Protocol"),
            "RuleAction": entry.get("RuleAction"),
            "Egress": bool(entry.get("Egress")),
            "CidrBlock": entry.get("CidrBlock"),
            "Ipv6CidrBlock": entry.get("Ipv6CidrBlock"),
            "PortRange": drop_none({"From": ports.get("From"), "To": ports.get("To")}),
        }
        shapes.append(
            Shape(
                f"{res.arn}#{direction}-{number}",
                "AWS::EC2::NetworkAclEntry",
                drop_none(props),
                label=f"{direction} entry {number}",
            )
        )
    return shapes


MAPPINGS: dict[str, Mapping] = {
    "AWS::EC2::SecurityGroup": security_group,
    "AWS::EC2::Instance": instance,
    "AWS::EC2::Volume": volume,
    "AWS::EC2::VPC": vpc,
    "AWS::EC2::Subnet": subnet,
    "AWS::EC2::FlowLog": flow_log,
    "AWS::EC2::NetworkAcl": network_acl,
}
