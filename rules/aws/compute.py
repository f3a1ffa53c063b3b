"""EC2 across the region: default encryption, default security groups, what is shared with
everyone, instances reachable from the internet, leftovers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from chalicelib.engine.registry import Hit
from chalicelib.posture.inventory import Inventory, InventoryResource
from rules.aws._helpers import CIS, FSBP, account_rule, collected_at, in_regions, where

_EC2 = f"{FSBP}/ec2-controls.html"
_SG = "AWS::EC2::SecurityGroup"
_ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
_STOPPED_AT = re.compile(r"\((\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?:GMT|UTC)\)")


def _world(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr).strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def open_ports(group: InventoryResource, ports: list[int]) -> list[int]:
    """Which of `ports` the group's ingress opens to the whole internet (TCP)."""
    found = []
    for permission in group.configuration.get("IpPermissions") or []:
        sources = [r.get("CidrIp") for r in permission.get("IpRanges") or []]
        sources += [r.get("CidrIpv6") for r in permission.get("Ipv6Ranges") or []]
        if not any(_world(s) for s in sources):
            continue
        protocol = str(permission.get("IpProtocol"))
        if protocol in ("-1", "all"):
            found += ports
            continue
        if protocol not in ("tcp", "6"):
            continue
        low, high = permission.get("FromPort"), permission.get("ToPort")
        if isinstance(low, int) and isinstance(high, int):
            found += [p for p in ports if low <= p <= high]
    return sorted(set(found))


def _groups(inventory: Inventory) -> dict[str, InventoryResource]:
    return {g.id: g for g in inventory.of_type(_SG)}


@account_rule(
    id="AWS-EC2-001",
    controls=("cis-aws-3.0 2.2.1", "fsbp EC2.7", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    needs=("ec2.ebs_encryption_by_default",),
    title="EBS encryption by default is off",
    severity="medium",
    description=(
        "With EBS encryption by default off in a region, every volume and snapshot created "
        "without an explicit Encrypted flag (by a console click, a script, an AMI launch) is "
        "stored in clear. Turning it on makes encryption the rule for new volumes."
    ),
    remediation="`aws ec2 enable-ebs-encryption-by-default` in each region.",
    references=(f"{_EC2}#ec2-7", CIS),
)
def ebs_default_encryption_off(inventory: Inventory) -> Iterator[Hit]:
    for region, enabled in in_regions(inventory, "ec2.ebs_encryption_by_default"):
        if enabled is not True:
            yield Hit(
                f"EBS encryption by default is off in {region}", resource=where(inventory, region)
            )


@account_rule(
    id="AWS-EC2-002",
    controls=("cis-aws-3.0 5.4", "fsbp EC2.2", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    needs=(_SG,),
    title="Default security group allows traffic",
    severity="medium",
    description=(
        "Every VPC has a default security group that resources join when nobody picks one. "
        "If it has rules, forgotten resources get traffic nobody decided to allow; with no "
        "rules at all, a resource placed there by mistake is isolated instead."
    ),
    remediation=(
        "Remove every inbound and outbound rule of each VPC's default security group, and "
        "give resources security groups of their own."
    ),
    references=(f"{_EC2}#ec2-2", CIS),
)
def default_group_allows(inventory: Inventory) -> Iterator[Hit]:
    for group in inventory.of_type(_SG):
        config = group.configuration
        if config.get("GroupName") != "default":
            continue
        inbound = len(config.get("IpPermissions") or [])
        outbound = len(config.get("IpPermissionsEgress") or [])
        if inbound or outbound:
            yield Hit(
                f"the default security group of {config.get('VpcId')} has {inbound} inbound and "
                f"{outbound} outbound rule(s)",
                resource=group.arn,
            )


@account_rule(
    id="AWS-EC2-003",
    controls=("fsbp EC2.1", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    needs=("AWS::EC2::Snapshot", "AWS::EC2::Snapshot.Public"),
    title="EBS snapshot shared with everyone",
    severity="critical",
    description=(
        "A public snapshot can be copied by any AWS account and turned into a volume: "
        "whatever the disk held (databases, keys, logs) is readable by anyone who finds it."
    ),
    remediation=(
        "`aws ec2 modify-snapshot-attribute --snapshot-id ID --attribute createVolumePermission "
        "--operation-type remove --group-names all`, and turn on snapshot block public access."
    ),
    references=(f"{_EC2}#ec2-1",),
)
def public_snapshot(inventory: Inventory) -> Iterator[Hit]:
    for snapshot in inventory.of_type("AWS::EC2::Snapshot"):
        if snapshot.configuration.get("Public") is True:
            yield Hit(f"snapshot {snapshot.id} can be restored by anyone", resource=snapshot.arn)


@account_rule(
    id="AWS-EC2-004",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    needs=("AWS::EC2::Image",),
    title="AMI shared with everyone",
    severity="high",
    description=(
        "A public AMI can be launched by any AWS account: its disks, with whatever was baked "
        "into them (credentials, internal code, configuration), are readable by anyone."
    ),
    remediation=(
        "`aws ec2 modify-image-attribute --image-id ID --launch-permission "
        '"Remove=[{Group=all}]"`, and turn on image block public access.'
    ),
    references=("https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/sharingamis-intro.html",),
)
def public_image(inventory: Inventory) -> Iterator[Hit]:
    for image in inventory.of_type("AWS::EC2::Image"):
        if image.configuration.get("Public") is True:
            yield Hit(f"AMI {image.id} can be launched by anyone", resource=image.arn)


@account_rule(
    id="AWS-EC2-005",
    controls=("nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    needs=("AWS::EC2::Snapshot",),
    title="EBS snapshot not encrypted",
    severity="medium",
    description=(
        "A snapshot of an unencrypted volume is unencrypted too: copied, shared or restored, "
        "its data is in clear, and volumes created from it start unencrypted."
    ),
    remediation=(
        "Copy the snapshot with `--encrypted` (and a KMS key), delete the clear one, and "
        "encrypt the volume it came from."
    ),
    references=("https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",),
)
def unencrypted_snapshot(inventory: Inventory) -> Iterator[Hit]:
    for snapshot in inventory.of_type("AWS::EC2::Snapshot"):
        if snapshot.configuration.get("Encrypted") is False:
            yield Hit(f"snapshot {snapshot.id} is not encrypted", resource=snapshot.arn)


@account_rule(
    id="AWS-EC2-006",
    controls=(
        "cis-aws-3.0 5.2",
        "cis-aws-3.0 5.3",
        "fsbp EC2.13",
        "fsbp EC2.14",
        "nist-800-53-r5 SC-7",
        "pci-dss-4.0 1.3.1",
    ),
    needs=("AWS::EC2::Instance", _SG),
    title="Internet-reachable instance exposes SSH or RDP",
    severity="critical",
    description=(
        "A running instance with a public address whose security groups open SSH or RDP to "
        "0.0.0.0/0 is reachable for remote administration from the whole internet, right "
        "now: a template shows the rule, only the account shows that an instance is using it."
    ),
    remediation=(
        "Close the port to the internet (allow a known range, or use SSM Session Manager) "
        "and move the instance to a private subnet."
    ),
    references=(f"{_EC2}#ec2-13", f"{_EC2}#ec2-14", CIS),
)
def reachable_admin_ports(inventory: Inventory) -> Iterator[Hit]:
    groups = _groups(inventory)
    for instance in inventory.of_type("AWS::EC2::Instance"):
        config = instance.configuration
        address = config.get("PublicIpAddress")
        if not address or (config.get("State") or {}).get("Name") != "running":
            continue
        for item in config.get("SecurityGroups") or []:
            group = groups.get(item.get("GroupId"))
            ports = open_ports(group, list(_ADMIN_PORTS)) if group is not None else []
            if group is not None and ports:
                names = " and ".join(f"{_ADMIN_PORTS[p]} ({p})" for p in ports)
                yield Hit(
                    f"{address} answers {names} from anywhere through {group.id}",
                    resource=instance.arn,
                )
                break


def _stopped_since(config: dict[str, Any]) -> datetime | None:
    match = _STOPPED_AT.search(str(config.get("StateTransitionReason") or ""))
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


@account_rule(
    id="AWS-EC2-007",
    controls=("fsbp EC2.4",),
    needs=("AWS::EC2::Instance",),
    title="Instance stopped for a long time",
    severity="low",
    description=(
        "An instance stopped for weeks is forgotten: its disks keep their data and its "
        "software ages without patches, and starting it again brings an outdated machine "
        "back on the network."
    ),
    remediation="Terminate it (keep an encrypted snapshot or AMI if its data matters).",
    references=(f"{_EC2}#ec2-4",),
    params={"days": 30},
)
def long_stopped(inventory: Inventory, params: dict[str, Any]) -> Iterator[Hit]:
    now = collected_at(inventory)
    for instance in inventory.of_type("AWS::EC2::Instance"):
        config = instance.configuration
        if (config.get("State") or {}).get("Name") != "stopped":
            continue
        since = _stopped_since(config)
        if since is not None and (now - since).days > params["days"]:
            yield Hit(
                f"instance {instance.id} has been stopped since {since.date().isoformat()}",
                resource=instance.arn,
            )


@account_rule(
    id="AWS-EC2-008",
    controls=("fsbp EC2.12",),
    needs=("AWS::EC2::EIP",),
    title="Elastic IP address not in use",
    severity="low",
    description=(
        "An allocated Elastic IP that nothing uses costs money, and may still be named in "
        "DNS records or partners' allow lists: whoever gets it next inherits that trust."
    ),
    remediation="Release it (`aws ec2 release-address`), after removing any DNS record to it.",
    references=(f"{_EC2}#ec2-12",),
)
def unused_address(inventory: Inventory) -> Iterator[Hit]:
    for address in inventory.of_type("AWS::EC2::EIP"):
        config = address.configuration
        if not config.get("AssociationId") and not config.get("InstanceId"):
            yield Hit(f"{config.get('PublicIp')} is not associated", resource=address.arn)


@account_rule(
    id="AWS-RDS-001",
    controls=("cis-aws-3.0 2.3.3", "fsbp RDS.2", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    needs=("AWS::RDS::DBInstance", _SG),
    title="Database reachable from the internet",
    severity="critical",
    description=(
        "A publicly accessible DB instance whose security groups open its port to 0.0.0.0/0 "
        "can be reached, and its password guessed, from anywhere. A template may show one of "
        "the two; the account shows them together."
    ),
    remediation=(
        "Set PubliclyAccessible to false, and allow the database port only from the "
        "application's security group."
    ),
    references=(f"{FSBP}/rds-controls.html#rds-2", CIS),
)
def reachable_database(inventory: Inventory) -> Iterator[Hit]:
    groups = _groups(inventory)
    for database in inventory.of_type("AWS::RDS::DBInstance"):
        config = database.configuration
        if not config.get("PubliclyAccessible"):
            continue
        port = (config.get("Endpoint") or {}).get("Port") or config.get("DbInstancePort")
        if not isinstance(port, int):
            continue
        for item in config.get("VpcSecurityGroups") or []:
            group = groups.get(item.get("VpcSecurityGroupId"))
            if group is not None and open_ports(group, [port]):
                yield Hit(
                    f"{database.id} is publicly accessible and {group.id} opens port {port} "
                    "to the internet",
                    resource=database.arn,
                )
                break


def _restorable_by_all(snapshot: InventoryResource) -> bool:
    return "all" in (snapshot.configuration.get("RestoreAttributes") or [])


_SNAPSHOTS = ("AWS::RDS::DBSnapshot", "AWS::RDS::DBClusterSnapshot")


@account_rule(
    id="AWS-RDS-002",
    controls=("fsbp RDS.1", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    needs=_SNAPSHOTS,
    title="Database snapshot shared with everyone",
    severity="critical",
    description=(
        "A public DB snapshot can be restored by any AWS account: every row of the database "
        "becomes theirs to read."
    ),
    remediation=(
        "`aws rds modify-db-snapshot-attribute --attribute-name restore --values-to-remove all` "
        "(or the cluster snapshot variant)."
    ),
    references=(f"{FSBP}/rds-controls.html#rds-1",),
)
def public_db_snapshot(inventory: Inventory) -> Iterator[Hit]:
    for snapshot in inventory.of_type(*_SNAPSHOTS):
        if _restorable_by_all(snapshot):
            yield Hit(f"snapshot {snapshot.id} can be restored by anyone", resource=snapshot.arn)


@account_rule(
    id="AWS-RDS-003",
    controls=("fsbp RDS.4", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    needs=_SNAPSHOTS,
    title="Database snapshot not encrypted",
    severity="medium",
    description=(
        "A snapshot of an unencrypted database holds every row in clear, and so does every "
        "copy or restore of it."
    ),
    remediation=(
        "Copy the snapshot with a KMS key (`copy-db-snapshot --kms-key-id`), restore the "
        "database from the encrypted copy, and delete the clear snapshot."
    ),
    references=(f"{FSBP}/rds-controls.html#rds-4",),
)
def unencrypted_db_snapshot(inventory: Inventory) -> Iterator[Hit]:
    for snapshot in inventory.of_type(*_SNAPSHOTS):
        if snapshot.configuration.get("Encrypted") is False or (
            snapshot.configuration.get("StorageEncrypted") is False
        ):
            yield Hit(f"snapshot {snapshot.id} is not encrypted", resource=snapshot.arn)


@account_rule(
    id="AWS-KMS-001",
    controls=("fsbp KMS.3", "nist-800-53-r5 SC-12"),
    needs=("AWS::KMS::Key",),
    title="KMS key scheduled for deletion",
    severity="high",
    description=(
        "Once a KMS key is deleted, everything encrypted with it is lost for good. A key "
        "pending deletion is often a mistake or an attacker's move; it can still be "
        "cancelled until the waiting period ends."
    ),
    remediation=(
        "If the key is still needed: `aws kms cancel-key-deletion --key-id ID`, then enable it."
    ),
    references=(f"{FSBP}/kms-controls.html#kms-3",),
)
def key_pending_deletion(inventory: Inventory) -> Iterator[Hit]:
    for key in inventory.of_type("AWS::KMS::Key"):
        config = key.configuration
        if config.get("KeyManager") == "CUSTOMER" and config.get("KeyState") == "PendingDeletion":
            when = str(config.get("DeletionDate") or "")[:10]
            yield Hit(
                f"key {key.id} will be deleted" + (f" on {when}" if when else ""),
                resource=key.arn,
            )


_BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@account_rule(
    id="AWS-S3-001",
    controls=("cis-aws-3.0 2.1.4", "fsbp S3.1", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    needs=("s3.account_public_access_block",),
    title="S3 account public access block not fully on",
    severity="medium",
    description=(
        "The account-level Block Public Access settings override every bucket's ACLs and "
        "policies: with all four on, no bucket of the account can be made public by mistake, "
        "whatever its own settings say."
    ),
    remediation=(
        "`aws s3control put-public-access-block --account-id ID --public-access-block-"
        "configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,"
        "RestrictPublicBuckets=true`."
    ),
    references=(f"{FSBP}/s3-controls.html#s3-1", CIS),
)
def account_block_off(inventory: Inventory) -> Iterator[Hit]:
    if not inventory.has_fact("global", "s3.account_public_access_block"):
        return
    block = inventory.fact("global", "s3.account_public_access_block") or {}
    off = [flag for flag in _BLOCK_FLAGS if not block.get(flag)]
    if off:
        yield Hit(
            "the account's public access block does not set " + ", ".join(off),
            resource=where(inventory),
        )
