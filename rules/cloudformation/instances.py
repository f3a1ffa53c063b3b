"""EC2 instance and subnet rules: exposure, metadata service, monitoring, instance types."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import UNRESOLVED, Resource, Template
from rules._secrets import secret_in_text
from rules.cloudformation._helpers import (
    MISSING,
    as_list,
    describe,
    flag_if_true,
    item_line,
    present,
    require_true,
    require_value,
    truthy,
)

_FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide/"
_CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
_IMDS_DOC = (
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html"
)


@rule(
    id="CF-EC2-006",
    controls=("fsbp EC2.9", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="EC2 instance gets a public IP address",
    severity="medium",
    resource_types=("AWS::EC2::Instance",),
    description=(
        "A network interface with AssociatePublicIpAddress gives the instance an address "
        "reachable from the internet: only its security groups then stand between every "
        "listening service and internet-wide scanning. Instances belong in private subnets, "
        "behind a load balancer, with Session Manager for administration. Relates to AWS "
        "FSBP EC2.9."
    ),
    remediation=(
        "```yaml\nNetworkInterfaces:\n  - DeviceIndex: '0'\n    SubnetId: !Ref PrivateSubnetA\n"
        "    AssociatePublicIpAddress: false\n    GroupSet: [!Ref AppSecurityGroup]\n```"
    ),
    references=(
        f"{_FSBP}ec2-controls.html#ec2-9",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-instance-addressing.html",
    ),
)
def instance_public_ip(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Instance"):
        for index, _ in enumerate(as_list(res.prop("NetworkInterfaces"))):
            hit = flag_if_true(
                tpl,
                res,
                "NetworkInterfaces",
                index,
                "AssociatePublicIpAddress",
                what="the instance is reachable from the internet",
            )
            if hit:
                yield hit


def imds_hit(tpl: Template, res: Resource, *path: Any) -> Hit | None:
    """A hit unless the metadata options at `path` require IMDSv2 or turn the service off."""
    endpoint = res.prop(*path, "HttpEndpoint", default=MISSING)
    if endpoint is not MISSING:
        values = tpl.possible_values(endpoint)
        if all(isinstance(v, str) and v.strip().lower() == "disabled" for v in values):
            return None
    return require_value(
        tpl,
        res,
        *path,
        "HttpTokens",
        good=frozenset({"required"}),
        what="IMDSv1 answers unauthenticated metadata requests",
    )


@rule(
    id="CF-EC2-007",
    controls=("cis-aws-3.0 5.6", "fsbp EC2.8"),
    artifact_type="cloudformation",
    title="EC2 instance does not require IMDSv2",
    severity="medium",
    resource_types=("AWS::EC2::Instance",),
    description=(
        "With IMDSv1 allowed, a single server-side request forgery or open proxy in any "
        "application on the instance is enough to read the instance role's credentials from "
        "169.254.169.254. IMDSv2 requires a session token obtained with a PUT request, which "
        "such bugs cannot forge. Unless `MetadataOptions.HttpTokens` is `required` (or the "
        "endpoint is disabled), the instance falls back to the AMI and account defaults, "
        "which usually allow IMDSv1. Instances launched from a launch template without "
        "their own MetadataOptions are checked through the template (CF-LT-001). Relates to "
        "AWS FSBP EC2.8 and CIS AWS Foundations Benchmark v3.0.0 5.6."
    ),
    remediation=(
        "```yaml\nAppInstance:\n  Type: AWS::EC2::Instance\n  Properties:\n"
        "    MetadataOptions:\n      HttpTokens: required\n      HttpPutResponseHopLimit: 1\n```"
    ),
    references=(f"{_FSBP}ec2-controls.html#ec2-8", _IMDS_DOC, _CIS),
)
def instance_imdsv1(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Instance"):
        if "LaunchTemplate" in res.properties and "MetadataOptions" not in res.properties:
            continue
        hit = imds_hit(tpl, res, "MetadataOptions")
        if hit:
            yield hit


@rule(
    id="CF-EC2-008",
    artifact_type="cloudformation",
    title="EC2 instance without detailed monitoring",
    severity="low",
    resource_types=("AWS::EC2::Instance",),
    description=(
        "Basic monitoring publishes instance metrics every five minutes; detailed monitoring "
        "publishes them every minute, so alarms on CPU, network or status checks fire "
        "sooner and auto scaling reacts to bursts in time. Instances launched from a launch "
        "template without their own Monitoring setting are not reported."
    ),
    remediation="Set `Monitoring: true` on the instance (it is billed per metric).",
    references=(
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/manage-detailed-monitoring.html",
    ),
)
def instance_basic_monitoring(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Instance"):
        if "LaunchTemplate" in res.properties and "Monitoring" not in res.properties:
            continue
        hit = require_true(tpl, res, "Monitoring", what="detailed monitoring")
        if hit:
            yield hit


# Previous-generation sizes where EBS optimization is an option that is off by default; every
# current type is either EBS-optimized by default or does not support it.
_OPTIONAL_EBS_OPTIMIZED = frozenset(
    {
        "c1.xlarge",
        "c3.xlarge",
        "c3.2xlarge",
        "c3.4xlarge",
        "g2.2xlarge",
        "i2.xlarge",
        "i2.2xlarge",
        "i2.4xlarge",
        "m1.large",
        "m1.xlarge",
        "m2.2xlarge",
        "m2.4xlarge",
        "m3.xlarge",
        "m3.2xlarge",
        "r3.xlarge",
        "r3.2xlarge",
        "r3.4xlarge",
    }
)


@rule(
    id="CF-EC2-009",
    artifact_type="cloudformation",
    title="EC2 instance not EBS-optimized",
    severity="info",
    resource_types=("AWS::EC2::Instance",),
    description=(
        "On the previous-generation sizes where EBS optimization is optional (m1, m2, m3, "
        "c1, c3, g2, i2 and r3 families), volume traffic shares the network link with "
        "application traffic unless EbsOptimized is true, so disk latency grows exactly when "
        "the instance is busy. Current instance types are EBS-optimized by default and are "
        "not reported; nor are types that cannot be resolved from the template."
    ),
    remediation=(
        "Prefer a current-generation type (EBS-optimized by default), or set "
        "`EbsOptimized: true`:\n```yaml\nInstanceType: m3.xlarge\nEbsOptimized: true\n```"
    ),
    references=("https://docs.aws.amazon.com/ebs/latest/userguide/ebs-optimized.html",),
)
def instance_not_ebs_optimized(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Instance"):
        types = tpl.possible_values(res.prop("InstanceType", default="m1.small"))
        legacy = [t for t in types if isinstance(t, str) and t.strip() in _OPTIONAL_EBS_OPTIMIZED]
        if not legacy:
            continue
        value = res.prop("EbsOptimized", default=MISSING)
        if value is not MISSING and all(truthy(v) is True for v in tpl.possible_values(value)):
            continue
        yield Hit(
            f"{legacy[0]} is not EBS-optimized unless EbsOptimized is true",
            line=res.prop_line("EbsOptimized"),
            resource=res.logical_id,
        )


DEFAULT_ALLOWED_INSTANCE_TYPES = (
    "t3.*",
    "t3a.*",
    "t4g.*",
    "m5.large",
    "m5.xlarge",
    "m6i.large",
    "m6i.xlarge",
    "m6g.large",
    "m6g.xlarge",
    "m7i.large",
    "m7i.xlarge",
    "m7g.large",
    "m7g.xlarge",
    "c5.large",
    "c5.xlarge",
    "c6i.large",
    "c6i.xlarge",
    "c6g.large",
    "c6g.xlarge",
    "c7g.large",
    "c7g.xlarge",
    "r5.large",
    "r5.xlarge",
    "r6i.large",
    "r6i.xlarge",
    "r6g.large",
    "r6g.xlarge",
)


@lru_cache(maxsize=64)
def _allow_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled matcher per allow-list (shell-style `*`/`?` patterns, case-insensitive)."""
    return re.compile("|".join(fnmatch.translate(p.strip().lower()) for p in patterns))


def _allowed_list(params: Mapping[str, Any]) -> tuple[str, ...]:
    value = params.get("allowed_instance_types", DEFAULT_ALLOWED_INSTANCE_TYPES)
    if isinstance(value, str):
        value = value.split(",")
    return tuple(sorted({str(v).strip() for v in value or () if str(v).strip()}))


def _candidate_types(tpl: Template, value: Any, depth: int = 0) -> tuple[list[str], bool]:
    """The instance types `value` may take, and whether some value cannot be known.

    Unlike `possible_values`, a parameter contributes its AllowedValues as well as its
    Default (whoever deploys may pick any of them) and `Fn::FindInMap` is looked up.
    """
    if depth > 8:
        return [], True
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str) and isinstance(tpl.parameters.get(arg), dict):
            param = tpl.parameters[arg]
            found = [v for v in as_list(param.get("AllowedValues")) if isinstance(v, str)]
            if isinstance(param.get("Default"), str):
                found.append(param["Default"])
            return found, not found
        if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
            first, unknown_first = _candidate_types(tpl, arg[1], depth + 1)
            second, unknown_second = _candidate_types(tpl, arg[2], depth + 1)
            return first + second, unknown_first or unknown_second
        if key == "Fn::FindInMap" and isinstance(arg, list) and len(arg) == 3:
            return _mapped_types(tpl, arg)
    values = tpl.possible_values(value)
    found = [v for v in values if isinstance(v, str)]
    return found, any(v is UNRESOLVED for v in values)


def _mapped_types(tpl: Template, arg: list) -> tuple[list[str], bool]:
    mapping = tpl.mappings.get(arg[0]) if isinstance(arg[0], str) else None
    if not isinstance(mapping, dict):
        return [], True
    tops = [mapping.get(arg[1])] if isinstance(arg[1], str) else list(mapping.values())
    found: list[str] = []
    unknown = False
    for top in tops:
        if not isinstance(top, dict):
            unknown = True
            continue
        seconds = [top.get(arg[2])] if isinstance(arg[2], str) else list(top.values())
        for item in seconds:
            if isinstance(item, str):
                found.append(item)
            else:
                unknown = True
    return found, unknown


def _type_sites(tpl: Template) -> Iterator[tuple[Resource, tuple[str, ...]]]:
    for res in tpl.of_type(
        "AWS::EC2::Instance", "AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration"
    ):
        if res.type == "AWS::EC2::LaunchTemplate":
            yield res, ("LaunchTemplateData", "InstanceType")
        else:
            yield res, ("InstanceType",)


@rule(
    id="CF-EC2-010",
    artifact_type="cloudformation",
    title="EC2 instance type outside the allowed list",
    severity="medium",
    resource_types=(
        "AWS::AutoScaling::LaunchConfiguration",
        "AWS::EC2::Instance",
        "AWS::EC2::LaunchTemplate",
    ),
    description=(
        "Tenants restrict instance types to keep cost under control (a single GPU or "
        "24xlarge instance costs more than a whole fleet of small ones, and is what stolen "
        "credentials are used to launch for crypto-mining) and to keep fleets on families "
        "they have validated. The check reads InstanceType on instances, launch "
        "configurations and launch templates (a template without InstanceType leaves the "
        "choice to whoever launches it and is not reported); for a parameter, its Default "
        "and every AllowedValue must be allowed, and a parameter with neither is reported. "
        "Parameter `allowed_instance_types` is a list of types or shell-style patterns; the "
        "default allows the burstable t3/t3a/t4g families in every size and the large and "
        "xlarge sizes of the general purpose (m5, m6i, m6g, m7i, m7g), compute optimized "
        "(c5, c6i, c6g, c7g) and memory optimized (r5, r6i, r6g) families. An empty list "
        "turns the check off."
    ),
    remediation=(
        "Use an allowed type, or constrain the parameter to allowed types:\n"
        "```yaml\nParameters:\n  InstanceType:\n    Type: String\n    Default: t3.small\n"
        "    AllowedValues: [t3.small, t3.medium, m6i.large]\n```\n"
        "Tenants change the list with the rule parameter `allowed_instance_types`."
    ),
    references=(
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-types.html",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_ec2.html",
    ),
    params={"allowed_instance_types": list(DEFAULT_ALLOWED_INSTANCE_TYPES)},
)
def instance_type_not_allowed(tpl: Template, params: Mapping[str, Any]) -> Iterator[Hit]:
    sites = list(_type_sites(tpl))
    allowed = _allowed_list(params) if sites else ()
    if not allowed:
        return
    pattern = _allow_pattern(allowed)
    for res, path in sites:
        value = res.prop(*path, default=MISSING)
        if value is MISSING or value is None:
            if res.type != "AWS::EC2::Instance" or "LaunchTemplate" in res.properties:
                continue
            if not pattern.fullmatch("m1.small"):
                yield Hit(
                    "InstanceType is not set, so EC2 launches the default m1.small, which is "
                    "not in the allowed instance types",
                    line=res.properties_line,
                    resource=res.logical_id,
                )
            continue
        types, unknown = _candidate_types(tpl, value)
        outside = sorted({t for t in types if not pattern.fullmatch(t.strip().lower())})
        line = res.prop_line(*path)
        if outside:
            listed = ", ".join(outside[:5]) + (
                f" and {len(outside) - 5} more" if len(outside) > 5 else ""
            )
            message = (
                f"InstanceType {listed} is not in the allowed instance types"
                if not isinstance(value, dict)
                else f"InstanceType can be {listed} (via {describe(value)}), outside the "
                "allowed instance types"
            )
            yield Hit(
                message,
                line=line,
                resource=res.logical_id,
            )
        elif unknown:
            yield Hit(
                f"InstanceType comes from {describe(value)}, which cannot be resolved from the "
                "template: make sure it is one of the allowed instance types",
                line=line,
                resource=res.logical_id,
            )


def block_device_hits(tpl: Template, res: Resource, *path: Any) -> Iterator[Hit]:
    """Hits for the EBS block device mappings at `path` that are not known to be encrypted."""
    for index, mapping in enumerate(as_list(res.prop(*path))):
        if not isinstance(mapping, dict) or not isinstance(mapping.get("Ebs"), dict):
            continue  # instance store, NoDevice, or an expression
        ebs = (*path, index, "Ebs")
        device = mapping.get("DeviceName")
        name = device if isinstance(device, str) else f"mapping {index}"
        value = res.prop(*ebs, "Encrypted", default=MISSING)
        if value is MISSING:
            hint = (
                " (it inherits the snapshot's encryption, which the template does not show)"
                if "SnapshotId" in mapping["Ebs"]
                else ""
            )
            yield Hit(
                f"{name}: Ebs.Encrypted is not set{hint}",
                line=res.prop_line(*ebs),
                resource=res.logical_id,
            )
            continue
        values = tpl.possible_values(value)
        if any(truthy(v) is not True for v in values):
            yield Hit(
                f"{name}: Ebs.Encrypted is {str(value).lower()}"
                if not isinstance(value, dict)
                else f"{name}: Ebs.Encrypted comes from {describe(value)}, which can be false "
                "or cannot be resolved from the template",
                line=res.prop_line(*ebs, "Encrypted"),
                resource=res.logical_id,
            )


@rule(
    id="CF-EBS-004",
    controls=("fsbp EC2.3", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="EC2 instance block device not encrypted",
    severity="medium",
    resource_types=("AWS::EC2::Instance",),
    description=(
        "Volumes created from an instance's BlockDeviceMappings are stored in clear unless "
        "Ebs.Encrypted is true (or the account turned on EBS encryption by default, which a "
        "template cannot show), and so are their snapshots. The root volume often holds "
        "application secrets, logs and cached data. Relates to AWS FSBP EC2.3 and CIS AWS "
        "Foundations Benchmark v1.4.0 2.2.1."
    ),
    remediation=(
        "```yaml\nBlockDeviceMappings:\n  - DeviceName: /dev/xvda\n    Ebs:\n"
        "      VolumeSize: 30\n      VolumeType: gp3\n      Encrypted: true\n"
        "      KmsKeyId: !Ref VolumeKey\n```"
    ),
    references=(
        f"{_FSBP}ec2-controls.html#ec2-3",
        "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
        _CIS,
    ),
)
def instance_block_device_unencrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Instance"):
        yield from block_device_hits(tpl, res, "BlockDeviceMappings")


@rule(
    id="CF-EC2-012",
    artifact_type="cloudformation",
    title="EC2 instance without an IAM role",
    severity="low",
    resource_types=("AWS::EC2::Instance", "AWS::IAM::InstanceProfile"),
    description=(
        "An instance without IamInstanceProfile has no role: the Systems Manager agent cannot "
        "register it (no Session Manager, patching or inventory), and software on it that "
        "needs AWS access ends up with access keys written into its configuration. An "
        "instance profile without Roles gives its instances none either. Instances launched "
        "from a launch template are judged by the template. Relates to AWS FSBP SSM.1."
    ),
    remediation=(
        "```yaml\nAppInstanceProfile:\n  Type: AWS::IAM::InstanceProfile\n  Properties:\n"
        "    Roles: [!Ref AppInstanceRole]   # with AmazonSSMManagedInstanceCore\n"
        "AppInstance:\n  Type: AWS::EC2::Instance\n  Properties:\n"
        "    IamInstanceProfile: !Ref AppInstanceProfile\n```"
    ),
    references=(
        f"{_FSBP}ssm-controls.html#ssm-1",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html",
    ),
)
def instance_without_profile(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Instance"):
        if "LaunchTemplate" in res.properties:
            continue
        hit = present(tpl, res, "IamInstanceProfile", what="the instance has no role")
        if hit:
            yield hit
    for res in tpl.of_type("AWS::IAM::InstanceProfile"):
        hit = present(tpl, res, "Roles", what="instances launched with the profile have no role")
        if hit:
            yield hit


@rule(
    id="CF-EC2-013",
    artifact_type="cloudformation",
    title="EC2 instance uses the default security group",
    severity="low",
    resource_types=("AWS::EC2::Instance",),
    description=(
        "An instance launched without SecurityGroupIds, SecurityGroups or network interface "
        "GroupSet (or naming the group `default`) joins the VPC's default security group, "
        "which every other resource without a group shares: it allows all traffic between "
        "its members and usually all outbound traffic, and anyone editing it changes every "
        "such resource at once. Relates to AWS FSBP EC2.2."
    ),
    remediation=(
        "Give the instance a group of its own:\n```yaml\nAppInstance:\n"
        "  Type: AWS::EC2::Instance\n  Properties:\n"
        "    SecurityGroupIds: [!Ref AppSecurityGroup]\n```"
    ),
    references=(
        f"{_FSBP}ec2-controls.html#ec2-2",
        "https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html",
    ),
)
def instance_default_security_group(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EC2::Instance"):
        if "LaunchTemplate" in res.properties:
            continue
        interfaces = [i for i in as_list(res.prop("NetworkInterfaces")) if isinstance(i, dict)]
        sources = [("GroupSet", i.get("GroupSet"), i) for i in interfaces] or [
            (key, res.prop(key), res.properties)
            for key in ("SecurityGroupIds", "SecurityGroups")
            if res.prop(key) is not None
        ]
        if not sources:
            yield Hit(
                "no security group is named, so the VPC's default group applies",
                res.properties_line,
                res.logical_id,
            )
            continue
        for key, groups, holder in sources:
            names = [v for g in as_list(groups) for v in tpl.possible_values(g)]
            if groups is None or not names:
                where = item_line(holder, key) if key in holder else item_line(holder)
                yield Hit(
                    f"{key} is not set or empty, so the VPC's default group applies",
                    where or res.properties_line,
                    res.logical_id,
                )
                break
            if any(isinstance(n, str) and n.strip().lower() == "default" for n in names):
                yield Hit(
                    f"{key} names the default security group",
                    item_line(holder, key) or res.properties_line,
                    res.logical_id,
                )
                break


_BASE64 = re.compile(r"^[A-Za-z0-9+/]{16,}={0,2}$")
_USER_DATA = (
    ("AWS::EC2::Instance", ("UserData",)),
    ("AWS::AutoScaling::LaunchConfiguration", ("UserData",)),
    ("AWS::EC2::LaunchTemplate", ("LaunchTemplateData", "UserData")),
)


def _script_texts(tpl: Template, value: Any) -> Iterator[str]:
    """The literal text of user data: `Fn::Base64` / `Fn::Sub` / `Fn::Join` parts as written,
    and plain strings decoded when they are base64."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) % 4 == 0 and _BASE64.match(text):
            try:
                yield base64.b64decode(text, validate=True).decode("utf-8")
                return
            except (binascii.Error, UnicodeDecodeError):
                pass
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _script_texts(tpl, item)
    elif isinstance(value, list):
        for item in value:
            yield from _script_texts(tpl, item)


@rule(
    id="CF-EC2-014",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Secret written in EC2 user data",
    severity="high",
    resource_types=(
        "AWS::AutoScaling::LaunchConfiguration",
        "AWS::EC2::Instance",
        "AWS::EC2::LaunchTemplate",
    ),
    description=(
        "User data is readable by anyone allowed ec2:DescribeInstanceAttribute (or "
        "DescribeLaunchTemplateVersions), by every process on the instance through the "
        "metadata service, and it stays in the template's history. A private key, an AWS "
        "access key or a password written in it (in clear or base64) is exposed to all of "
        "them."
    ),
    remediation=(
        "Fetch the secret at boot with the instance role:\n```yaml\nUserData: !Base64 |\n"
        "  #!/bin/bash\n  DB_PASSWORD=$(aws secretsmanager get-secret-value "
        "--secret-id app/db \\\n    --query SecretString --output text)\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets.html",
    ),
)
def secret_in_user_data(tpl: Template) -> Iterator[Hit]:
    for kind, path in _USER_DATA:
        for res in tpl.of_type(kind):
            value = res.prop(*path)
            if value is None:
                continue
            found = next(filter(None, map(secret_in_text, _script_texts(tpl, value))), None)
            if found:
                yield Hit(f"the user data holds {found}", res.prop_line(*path), res.logical_id)
