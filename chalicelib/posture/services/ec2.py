"""EC2 and VPC: instances, security groups, volumes, snapshots, AMIs, VPCs, subnets, flow logs,
network ACLs, Elastic IPs, and the region's EBS encryption and snapshot-sharing settings.
Every list is one paginated describe call; public snapshots are found with one more
(`RestorableByUserIds=all`) instead of one attribute read per snapshot."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    _security_groups(scope)
    _instances(scope)
    _volumes(scope)
    _snapshots(scope)
    _images(scope)
    _network(scope)
    _settings(scope)


def _security_groups(scope: Scope) -> None:
    groups = scope.pages(
        "describe_security_groups", "SecurityGroups", feeds=["AWS::EC2::SecurityGroup"]
    )
    for group in groups or []:
        group_id = group["GroupId"]
        scope.add(
            "AWS::EC2::SecurityGroup",
            scope.arn(f"security-group/{group_id}"),
            group_id,
            group,
            tags=group.get("Tags"),
        )


def _instances(scope: Scope) -> None:
    reservations = scope.pages("describe_instances", "Reservations", feeds=["AWS::EC2::Instance"])
    for reservation in reservations or []:
        for instance in reservation.get("Instances") or []:
            if (instance.get("State") or {}).get("Name") in ("terminated", "shutting-down"):
                continue
            instance_id = instance["InstanceId"]
            scope.add(
                "AWS::EC2::Instance",
                scope.arn(f"instance/{instance_id}"),
                instance_id,
                instance,
                tags=instance.get("Tags"),
            )


def _volumes(scope: Scope) -> None:
    for volume in scope.pages("describe_volumes", "Volumes", feeds=["AWS::EC2::Volume"]) or []:
        volume_id = volume["VolumeId"]
        scope.add(
            "AWS::EC2::Volume",
            scope.arn(f"volume/{volume_id}"),
            volume_id,
            volume,
            tags=volume.get("Tags"),
        )


def _snapshots(scope: Scope) -> None:
    feeds = ["AWS::EC2::Snapshot"]
    snapshots = scope.pages("describe_snapshots", "Snapshots", feeds=feeds, OwnerIds=["self"])
    if snapshots is NOT_READ:
        return
    public = scope.pages(
        "describe_snapshots",
        "Snapshots",
        feeds=["AWS::EC2::Snapshot.Public"],
        OwnerIds=["self"],
        RestorableByUserIds=["all"],
    )
    public_ids = None if public is NOT_READ else {s["SnapshotId"] for s in public}
    for snapshot in snapshots:
        snapshot_id = snapshot["SnapshotId"]
        config = dict(snapshot)
        missing = {}
        if public_ids is None:
            missing["Public"] = "ec2:DescribeSnapshots"
        else:
            config["Public"] = snapshot_id in public_ids
        scope.add(
            "AWS::EC2::Snapshot",
            scope.arn(f"snapshot/{snapshot_id}", account=False),
            snapshot_id,
            config,
            tags=snapshot.get("Tags"),
            not_assessed=missing,
        )


def _images(scope: Scope) -> None:
    images = scope.pages("describe_images", "Images", feeds=["AWS::EC2::Image"], Owners=["self"])
    for image in images or []:
        image_id = image["ImageId"]
        scope.add(
            "AWS::EC2::Image",
            scope.arn(f"image/{image_id}", account=False),
            image_id,
            image,
            tags=image.get("Tags"),
        )


def _network(scope: Scope) -> None:
    kinds: list[tuple[str, str, str, str, str]] = [
        ("describe_vpcs", "Vpcs", "AWS::EC2::VPC", "VpcId", "vpc"),
        ("describe_subnets", "Subnets", "AWS::EC2::Subnet", "SubnetId", "subnet"),
        ("describe_flow_logs", "FlowLogs", "AWS::EC2::FlowLog", "FlowLogId", "vpc-flow-log"),
        (
            "describe_network_acls",
            "NetworkAcls",
            "AWS::EC2::NetworkAcl",
            "NetworkAclId",
            "network-acl",
        ),
        ("describe_addresses", "Addresses", "AWS::EC2::EIP", "AllocationId", "elastic-ip"),
    ]
    for operation, key, type_, id_key, prefix in kinds:
        for item in scope.pages(operation, key, feeds=[type_]) or []:
            item_id = item.get(id_key) or item.get("PublicIp")
            if not item_id:
                continue
            scope.add(
                type_,
                scope.arn(f"{prefix}/{item_id}"),
                item_id,
                item,
                tags=item.get("Tags"),
            )


def _settings(scope: Scope) -> None:
    encryption = scope.call(
        "get_ebs_encryption_by_default", feeds=["ec2.ebs_encryption_by_default"]
    )
    if encryption is not NOT_READ:
        scope.fact("ec2.ebs_encryption_by_default", _pick(encryption, "EbsEncryptionByDefault"))
    sharing = scope.call(
        "get_snapshot_block_public_access_state",
        feeds=["ec2.snapshot_block_public_access"],
    )
    if sharing is not NOT_READ:
        scope.fact("ec2.snapshot_block_public_access", _pick(sharing, "State"))


def _pick(response: Any, key: str) -> Any:
    return (response or {}).get(key)
