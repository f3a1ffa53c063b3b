"""Security group and EBS rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import (
    NO_VALUE,
    UNRESOLVED,
    LineDict,
    Resource,
    Template,
)
from rules.cloudformation._helpers import (
    MISSING,
    as_list,
    describe,
    is_true,
    is_world,
    item_line,
    param_unknown,
    refers_to,
    require_set,
    require_true,
    require_value,
)

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
                if isinstance(value, str) and is_world(value):
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
    controls=(
        "cis-aws-3.0 5.2",
        "cis-aws-3.0 5.3",
        "fsbp EC2.13",
        "fsbp EC2.14",
        "nist-800-53-r5 SC-7",
        "pci-dss-4.0 1.3.1",
    ),
    artifact_type="cloudformation",
    title="SSH or RDP open to the internet",
    severity="high",
    resource_types=("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"),
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
    controls=("fsbp EC2.18", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="All traffic open to the internet",
    severity="critical",
    resource_types=("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"),
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
    controls=("fsbp EC2.3", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="EBS volume not encrypted",
    severity="medium",
    resource_types=("AWS::EC2::Volume",),
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


# -- more security group rules -----------------------------------------------------------------

_FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide/"
_CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
_ICMP = frozenset({"icmp", "1", "icmpv6", "58"})
HIGH_RISK_PORTS = {
    20: "FTP data",
    21: "FTP",
    23: "Telnet",
    135: "MS RPC",
    139: "NetBIOS",
    445: "SMB",
    1433: "SQL Server",
    1521: "Oracle",
    2181: "ZooKeeper",
    2375: "Docker API",
    2376: "Docker API over TLS",
    2379: "etcd",
    3306: "MySQL",
    5432: "PostgreSQL",
    5601: "Kibana",
    5900: "VNC",
    5984: "CouchDB",
    5985: "WinRM",
    5986: "WinRM over HTTPS",
    6379: "Redis",
    7000: "Cassandra",
    7001: "Cassandra over TLS",
    8086: "InfluxDB",
    9042: "Cassandra CQL",
    9092: "Kafka",
    9200: "Elasticsearch",
    9300: "Elasticsearch transport",
    10250: "kubelet",
    11211: "Memcached",
    27017: "MongoDB",
}


def egress_rules(tpl: Template) -> Iterator[tuple[Resource, Any, tuple[Any, ...]]]:
    """Every egress rule: inline in security groups, or standalone egress resources."""
    for res in tpl.of_type("AWS::EC2::SecurityGroup"):
        for index, item in enumerate(as_list(res.prop("SecurityGroupEgress"))):
            if isinstance(item, dict):
                yield res, item, ("SecurityGroupEgress", index)
    for res in tpl.of_type("AWS::EC2::SecurityGroupEgress"):
        yield res, res.properties, ()


def _exposure(tpl: Template, item: dict) -> tuple[str, str | None] | None:
    """(key, world range) when the rule is open to the internet, (key, None) when the range
    is a parameter the template leaves open, None otherwise."""
    unknown = None
    for key in ("CidrIp", "CidrIpv6"):
        if key in item:
            for value in tpl.possible_values(item[key]):
                if isinstance(value, str) and is_world(value):
                    return key, value.strip()
            world = "0.0.0.0/0" if key == "CidrIp" else "::/0"
            if unknown is None and param_unknown(tpl, item[key], could_be=world):
                unknown = key
    return (unknown, None) if unknown else None


@rule(
    id="CF-EC2-003",
    controls=("fsbp EC2.19", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="Database or admin service port open to the internet",
    severity="high",
    resource_types=("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"),
    description=(
        "Database engines (MySQL, PostgreSQL, SQL Server, MongoDB, Redis, Elasticsearch...) "
        "and remote management services (Telnet, SMB, VNC, WinRM, the Docker API, kubelet) "
        "are a favourite target of internet-wide scanners: an ingress rule opening them to "
        "0.0.0.0/0 or ::/0 lets anyone try credentials or exploit unpatched services. A range "
        "that comes from a parameter without a default is reported too, since nothing stops "
        "it from being the whole internet. SSH/RDP (CF-EC2-001) and all-traffic rules "
        "(CF-EC2-002) have their own rules. Relates to AWS FSBP EC2.19 and CIS AWS "
        "Foundations Benchmark v1.4.0 5.2."
    ),
    remediation=(
        "Let only the application tier reach the database, by security group:\n"
        "```yaml\nDatabaseIngress:\n  Type: AWS::EC2::SecurityGroupIngress\n  Properties:\n"
        "    GroupId: !Ref DatabaseSecurityGroup\n    IpProtocol: tcp\n    FromPort: 5432\n"
        "    ToPort: 5432\n    SourceSecurityGroupId: !Ref AppSecurityGroup\n```"
    ),
    references=(
        f"{_FSBP}ec2-controls.html#ec2-19",
        _CIS,
        "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
    ),
)
def high_risk_port_open(tpl: Template) -> Iterator[Hit]:
    for res, item, path in ingress_rules(tpl):
        exposure = _exposure(tpl, item)
        if exposure is None:
            continue
        key, cidr = exposure
        source = cidr or f"{key} (from {describe(item[key])}, which cannot be resolved)"
        line = _line(res, item, path, key)
        protocols = tpl.possible_values(item.get("IpProtocol"))
        if protocols and all(str(p).strip().lower() in _ICMP for p in protocols):
            continue
        if _all_traffic(tpl, item):
            if cidr is None:  # world-open all traffic is CF-EC2-002's
                yield Hit(f"{source} may reach every port", line=line, resource=res.logical_id)
            continue
        low, high = _port(tpl, item.get("FromPort")), _port(tpl, item.get("ToPort"))
        if low is None or high is None:
            if item.get("FromPort") is not None or item.get("ToPort") is not None:
                yield Hit(
                    f"{source} is allowed on ports that cannot be resolved from the template",
                    line=line,
                    resource=res.logical_id,
                )
            continue
        ports = [f"{p} ({name})" for p, name in HIGH_RISK_PORTS.items() if low <= p <= high]
        if ports:
            more = f" and {len(ports) - 3} more" if len(ports) > 3 else ""
            yield Hit(
                f"{source} may reach {', '.join(ports[:3])}{more}",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-EC2-004",
    artifact_type="cloudformation",
    title="Security group allows all outbound traffic",
    severity="low",
    resource_types=("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupEgress"),
    description=(
        "An egress rule allowing every protocol and port to 0.0.0.0/0 (or ::/0) lets a "
        "compromised workload download tooling and exfiltrate data to anywhere. Restricting "
        "egress to the endpoints the workload needs (VPC endpoints, a proxy, known ranges) "
        "turns such attempts into failures that show up in flow logs. Groups that declare no "
        "egress rule at all get AWS's allow-all default; they are not reported here, since "
        "the template says nothing about egress."
    ),
    remediation=(
        "Declare only the outbound traffic the workload needs:\n"
        "```yaml\nSecurityGroupEgress:\n  - IpProtocol: tcp\n    FromPort: 443\n"
        "    ToPort: 443\n    DestinationPrefixListId: !Ref S3PrefixList\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
        f"{_FSBP}ec2-controls.html#ec2-2",
    ),
)
def egress_to_everywhere(tpl: Template) -> Iterator[Hit]:
    for res, item, path in egress_rules(tpl):
        exposure = _exposure(tpl, item)
        if exposure is None or not _all_traffic(tpl, item):
            continue
        key, cidr = exposure
        source = cidr or f"{key} from {describe(item[key])}, which cannot be resolved"
        yield Hit(
            f"every port and protocol may leave to {source}",
            line=_line(res, item, path, key),
            resource=res.logical_id,
        )


def _placement_hit(tpl: Template, res: Resource, paths: tuple[tuple[str, ...], ...]) -> Hit | None:
    """A hit when every one of `paths` (what places the resource in a VPC) is missing, or the
    one that is set may be removed."""
    written = [path for path in paths if res.prop(*path, default=MISSING) not in (MISSING, None)]
    name = ".".join(paths[0])
    if not written:
        message, line = f"{name} is not set", res.prop_line(*paths[0])
    elif any(v is NO_VALUE for v in tpl.possible_values(res.prop(*written[0]))):
        message, line = f"{'.'.join(written[0])} can be removed", res.prop_line(*written[0])
    else:
        return None
    return Hit(
        f"{message}, so the {res.type} goes to the default VPC",
        line=line,
        resource=res.logical_id,
    )


_PLACEMENT: dict[str, tuple[tuple[str, ...], ...]] = {
    "AWS::EC2::SecurityGroup": (("VpcId",),),
    "AWS::EC2::Instance": (("SubnetId",),),
    "AWS::RDS::DBInstance": (("DBSubnetGroupName",),),
    "AWS::RDS::DBCluster": (("DBSubnetGroupName",),),
    "AWS::ElastiCache::CacheCluster": (("CacheSubnetGroupName",),),
    "AWS::ElastiCache::ReplicationGroup": (("CacheSubnetGroupName",),),
    "AWS::EMR::Cluster": (("Instances", "Ec2SubnetId"), ("Instances", "Ec2SubnetIds")),
}
# an instance placed by its network interfaces or launch template; a database following
# its cluster or replication source; a replication group following its global datastore
_PLACED_ELSEWHERE = (
    "NetworkInterfaces",
    "LaunchTemplate",
    "DBClusterIdentifier",
    "SourceDBInstanceIdentifier",
    "GlobalReplicationGroupId",
    "PrimaryClusterId",
    "ReplicationGroupId",
)


@rule(
    id="CF-EC2-005",
    artifact_type="cloudformation",
    title="Resource placed in the default VPC",
    severity="low",
    resource_types=(
        "AWS::EC2::Instance",
        "AWS::EC2::SecurityGroup",
        "AWS::EMR::Cluster",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
    ),
    description=(
        "A security group without VpcId, an instance without a subnet or network interface, "
        "an EMR cluster without Ec2SubnetId, and a database or cache without a subnet group "
        "all land in the account's default VPC, "
        "whose subnets are public (they give every instance a public address) and whose "
        "layout is shared by everything else created without thought. Workloads belong in a "
        "VPC designed for them, with private subnets and controlled routing."
    ),
    remediation=(
        "Place the resource in your own VPC:\n"
        "```yaml\nAppSecurityGroup:\n  Type: AWS::EC2::SecurityGroup\n  Properties:\n"
        "    GroupDescription: app tier\n    VpcId: !Ref VpcId\nAppInstance:\n"
        "  Type: AWS::EC2::Instance\n  Properties:\n    SubnetId: !Ref PrivateSubnetA\n"
        "```\nand give RDS instances and clusters a `DBSubnetGroupName` (ElastiCache: "
        "`CacheSubnetGroupName`, EMR: `Instances.Ec2SubnetId`)."
    ),
    references=(
        "https://docs.aws.amazon.com/vpc/latest/userguide/default-vpc.html",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html",
    ),
)
def default_vpc(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_PLACEMENT):
        if any(key in res.properties for key in _PLACED_ELSEWHERE):
            continue
        hit = _placement_hit(tpl, res, _PLACEMENT[res.type])
        if hit:
            yield hit


# -- more EBS rules ------------------------------------------------------------------------------


@rule(
    id="CF-EBS-002",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="EBS volume encrypted with the AWS managed key",
    severity="low",
    resource_types=("AWS::EC2::Volume",),
    description=(
        "An encrypted volume without KmsKeyId uses the account's `aws/ebs` key, whose policy "
        "you cannot edit: you cannot limit who may use it, share snapshots of the volume "
        "with another account, or revoke access to the data by disabling the key. A customer "
        "managed key gives you those controls and a separate audit trail."
    ),
    remediation=(
        "```yaml\nDataVolume:\n  Type: AWS::EC2::Volume\n  Properties:\n"
        "    AvailabilityZone: !GetAtt AppInstance.AvailabilityZone\n    Size: 100\n"
        "    Encrypted: true\n    KmsKeyId: !Ref VolumeKey\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
        "https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key",
    ),
)
def volume_default_key(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Volume"):
        encrypted = res.prop("Encrypted", default=MISSING)
        if encrypted is MISSING or not is_true(tpl, encrypted):
            continue  # unencrypted volumes are CF-EBS-001's
        hit = require_set(tpl, res, "KmsKeyId", what="the AWS managed key aws/ebs is used")
        if hit:
            yield hit


@rule(
    id="CF-EBS-003",
    controls=("fsbp EC2.1", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="EBS snapshot block public access turned off",
    severity="medium",
    resource_types=("AWS::EC2::SnapshotBlockPublicAccess",),
    description=(
        "CloudFormation cannot share a snapshot, but it can set the region's EBS snapshot "
        "block public access state. `unblocked` lets anyone with snapshot permissions make "
        "snapshots public, and a public snapshot can be copied by any AWS account, with "
        "every file, database and credential that was on the disk. `block-new-sharing` "
        "leaves snapshots that are already public exposed. Relates to AWS FSBP EC2.1."
    ),
    remediation=(
        "```yaml\nSnapshotPublicAccess:\n  Type: AWS::EC2::SnapshotBlockPublicAccess\n"
        "  Properties:\n    State: block-all-sharing\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/ebs/latest/userguide/block-public-access-snapshots.html",
        f"{_FSBP}ec2-controls.html#ec2-1",
    ),
)
def snapshot_public_access(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::SnapshotBlockPublicAccess"):
        hit = require_value(
            tpl,
            res,
            "State",
            good=frozenset({"block-all-sharing"}),
            what="snapshots can be (or stay) public",
        )
        if hit:
            yield hit


@rule(
    id="CF-EC2-011",
    artifact_type="cloudformation",
    title="Security group rule without a description",
    severity="low",
    resource_types=(
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::SecurityGroupIngress",
    ),
    description=(
        "A security group rule without Description says nothing about why it exists: in an "
        "audit or an incident nobody can tell a forgotten test rule from a needed one, so "
        "rules accumulate and are never removed. Inline ingress and egress rules and "
        "standalone SecurityGroupIngress/Egress resources are checked."
    ),
    remediation=(
        "```yaml\nSecurityGroupIngress:\n  - IpProtocol: tcp\n    FromPort: 443\n"
        "    ToPort: 443\n    SourceSecurityGroupId: !Ref LoadBalancerSecurityGroup\n"
        "    Description: HTTPS from the public load balancer\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ec2-security-group-rule.html",
    ),
)
def rule_without_description(tpl: Template) -> Iterator[Hit]:
    for rules in (ingress_rules(tpl), egress_rules(tpl)):
        for res, item, path in rules:
            described = tpl.possible_values(item.get("Description"))
            if all(isinstance(v, str) and v.strip() for v in described) or UNRESOLVED in described:
                continue
            where = "inline rule" if path else "rule"
            line = (item_line(item) if path else None) or res.prop_line(*path, "Description")
            yield Hit(f"the {where} has no Description", line=line, resource=res.logical_id)


def _load_balancer_groups(tpl: Template) -> list[Any]:
    """The SecurityGroups of every load balancer of the template, as written."""
    return [
        res.prop("SecurityGroups")
        for res in tpl.of_type(
            "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancing::LoadBalancer"
        )
    ]


@rule(
    id="CF-EC2-015",
    controls=("nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="HTTP port 80 open to the internet",
    severity="low",
    resource_types=(
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::ElasticLoadBalancing::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ),
    description=(
        "An ingress rule opening port 80 to 0.0.0.0/0 (or ::/0) serves a service over plain "
        "HTTP to the whole internet: sessions, cookies and form data can be read and changed "
        "on the way. Groups of load balancers are left out (a listener that only redirects "
        "to HTTPS needs port 80; CF-ELB-001 judges the listener), as are rules that open "
        "every port (CF-EC2-002)."
    ),
    remediation=(
        "Serve HTTPS, or put the instances behind a load balancer that redirects HTTP and "
        "let only its group reach them:\n```yaml\n- IpProtocol: tcp\n  FromPort: 80\n"
        "  ToPort: 80\n  SourceSecurityGroupId: !Ref LoadBalancerSecurityGroup\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html",
    ),
)
def http_open_to_internet(tpl: Template) -> Iterator[Hit]:
    balancer_groups = _load_balancer_groups(tpl)
    for res, item, path in ingress_rules(tpl):
        world = _world_cidr(tpl, item)
        if world is None or _all_traffic(tpl, item):
            continue
        group = _group_of(res) if path == () else res.logical_id
        if group and any(refers_to(groups, group) for groups in balancer_groups):
            continue
        low, high = _port(tpl, item.get("FromPort")), _port(tpl, item.get("ToPort"))
        if low is not None and high is not None and low <= 80 <= high:
            key, cidr = world
            line = _line(res, item, path, key)
            yield Hit(f"{cidr} may reach port 80 (HTTP)", line, res.logical_id)


def _group_of(res: Resource) -> str | None:
    """The logical id of the group a standalone ingress rule adds to, when it is a Ref."""
    group = res.prop("GroupId")
    if isinstance(group, dict) and isinstance(group.get("Ref"), str):
        return group["Ref"]
    target = group.get("Fn::GetAtt") if isinstance(group, dict) else None
    return str(target[0]) if isinstance(target, list) and target else None
