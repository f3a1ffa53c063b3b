"""Launch template and launch configuration rules: metadata service, disks, public IPs."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation._helpers import as_list, flag_if_true
from rules.cloudformation.instances import block_device_hits, imds_hit

_FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide/"
_TYPES = ("AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration")


def _data(res) -> tuple[str, ...]:
    """Where the instance settings live: under LaunchTemplateData, or at the top."""
    return ("LaunchTemplateData",) if res.type == "AWS::EC2::LaunchTemplate" else ()


@rule(
    id="CF-LT-001",
    controls=("fsbp EC2.170", "fsbp AutoScaling.3"),
    artifact_type="cloudformation",
    title="Launch template does not require IMDSv2",
    severity="medium",
    resource_types=("AWS::AutoScaling::LaunchConfiguration", "AWS::EC2::LaunchTemplate"),
    description=(
        "Every instance an Auto Scaling group, EC2 fleet or Batch environment launches from "
        "the template inherits its metadata options. Unless MetadataOptions.HttpTokens is "
        "`required` (or the endpoint is disabled), they answer IMDSv1 requests, and one "
        "server-side request forgery in any of them hands out the instance role's "
        "credentials. Launch configurations are checked the same way. Relates to AWS FSBP "
        "EC2.170 and AutoScaling.3."
    ),
    remediation=(
        "```yaml\nLaunchTemplateData:\n  MetadataOptions:\n    HttpTokens: required\n"
        "    HttpPutResponseHopLimit: 1   # 2 for containers that call IMDS\n```"
    ),
    references=(
        f"{_FSBP}ec2-controls.html#ec2-170",
        f"{_FSBP}autoscaling-controls.html#autoscaling-3",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html",
    ),
)
def template_imdsv1(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_TYPES):
        hit = imds_hit(tpl, res, *_data(res), "MetadataOptions")
        if hit:
            yield hit


@rule(
    id="CF-LT-002",
    controls=("fsbp EC2.3", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="Launch template volume not encrypted",
    severity="medium",
    resource_types=("AWS::AutoScaling::LaunchConfiguration", "AWS::EC2::LaunchTemplate"),
    description=(
        "EBS volumes declared in a launch template's (or launch configuration's) "
        "BlockDeviceMappings are created unencrypted on every launched instance unless "
        "Ebs.Encrypted is true or the account enabled EBS encryption by default, which the "
        "template cannot show. A mapping based on a snapshot without Encrypted inherits the "
        "snapshot's state and is reported too. Relates to AWS FSBP EC2.3."
    ),
    remediation=(
        "```yaml\nBlockDeviceMappings:\n  - DeviceName: /dev/xvda\n    Ebs:\n"
        "      VolumeSize: 30\n      VolumeType: gp3\n      Encrypted: true\n"
        "      KmsKeyId: !Ref VolumeKey\n```"
    ),
    references=(
        f"{_FSBP}ec2-controls.html#ec2-3",
        "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
    ),
)
def template_volume_unencrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_TYPES):
        yield from block_device_hits(tpl, res, *_data(res), "BlockDeviceMappings")


@rule(
    id="CF-LT-003",
    controls=("fsbp EC2.25", "fsbp AutoScaling.5", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="Launch template assigns public IP addresses",
    severity="medium",
    resource_types=("AWS::AutoScaling::LaunchConfiguration", "AWS::EC2::LaunchTemplate"),
    description=(
        "A launch template network interface (or a launch configuration) with "
        "AssociatePublicIpAddress true puts every instance launched from it on the internet, "
        "across every subnet the group scales into. Instances behind a load balancer do not "
        "need public addresses. Relates to AWS FSBP EC2.25 and AutoScaling.5."
    ),
    remediation=(
        "```yaml\nLaunchTemplateData:\n  NetworkInterfaces:\n    - DeviceIndex: 0\n"
        "      AssociatePublicIpAddress: false\n      Groups: [!Ref AppSecurityGroup]\n```"
    ),
    references=(
        f"{_FSBP}ec2-controls.html#ec2-25",
        f"{_FSBP}autoscaling-controls.html#autoscaling-5",
    ),
)
def template_public_ip(tpl: Template) -> Iterator[Hit]:
    what = "launched instances are reachable from the internet"
    for res in tpl.of_type(*_TYPES):
        if res.type == "AWS::AutoScaling::LaunchConfiguration":
            hit = flag_if_true(tpl, res, "AssociatePublicIpAddress", what=what)
            if hit:
                yield hit
            continue
        interfaces = as_list(res.prop("LaunchTemplateData", "NetworkInterfaces"))
        for index, _ in enumerate(interfaces):
            hit = flag_if_true(
                tpl,
                res,
                "LaunchTemplateData",
                "NetworkInterfaces",
                index,
                "AssociatePublicIpAddress",
                what=what,
            )
            if hit:
                yield hit
