"""Auto Scaling rules: load balancer health checks and what launch configurations give instances."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation._helpers import (
    MISSING,
    as_list,
    disabled,
    each,
    enabled,
    one_of,
)

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide/autoscaling-controls.html"
_GROUP = "AWS::AutoScaling::AutoScalingGroup"
_LAUNCH_CONFIG = "AWS::AutoScaling::LaunchConfiguration"


@rule(
    id="CF-ASG-001",
    controls=("fsbp AutoScaling.1",),
    artifact_type="cloudformation",
    title="Auto Scaling group without load balancer health checks",
    severity="medium",
    resource_types=("AWS::AutoScaling::AutoScalingGroup",),
    description=(
        "A group registered with a load balancer (LoadBalancerNames or TargetGroupARNs) but "
        "with the default HealthCheckType EC2 only replaces instances whose hardware fails: "
        "an instance whose application is down, hung or compromised keeps running and "
        "counting as healthy while the load balancer has stopped sending it traffic. "
        "Relates to AWS FSBP AutoScaling.1."
    ),
    remediation=(
        "```yaml\nWebGroup:\n  Type: AWS::AutoScaling::AutoScalingGroup\n  Properties:\n"
        "    TargetGroupARNs: [!Ref WebTargetGroup]\n    HealthCheckType: ELB\n"
        "    HealthCheckGracePeriod: 300\n```"
    ),
    references=(
        f"{_HUB}#autoscaling-1",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-health-checks.html",
    ),
)
def group_without_elb_health_check(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_GROUP):
        attached = [
            item
            for key in ("LoadBalancerNames", "TargetGroupARNs")
            for item in as_list(res.prop(key))
        ]
        if not attached:
            continue
        hit = one_of(
            tpl,
            res,
            "HealthCheckType",
            good=("ELB", "ELB,EBS", "ELB,VPC_LATTICE", "VPC_LATTICE"),
            what="instances the load balancer finds unhealthy are not replaced",
        )
        if hit:
            yield hit


@rule(
    id="CF-ASG-002",
    controls=("fsbp AutoScaling.5", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="Launch configuration assigns public IP addresses",
    severity="medium",
    resource_types=("AWS::AutoScaling::LaunchConfiguration",),
    description=(
        "AssociatePublicIpAddress: true gives every instance the group launches a public "
        "address, so each is reachable from the internet wherever its security groups allow "
        "it. Instances behind a load balancer need none. Relates to AWS FSBP AutoScaling.5."
    ),
    remediation=(
        "Set `AssociatePublicIpAddress: false` and launch into private subnets; reach the "
        "instances through a load balancer or SSM Session Manager."
    ),
    references=(
        f"{_HUB}#autoscaling-5",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-in-vpc.html",
    ),
)
def launch_configuration_public_ip(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        _LAUNCH_CONFIG,
        disabled,
        "AssociatePublicIpAddress",
        what="instances get public addresses",
    )


@rule(
    id="CF-ASG-003",
    controls=("fsbp AutoScaling.3",),
    artifact_type="cloudformation",
    title="Launch configuration does not require IMDSv2",
    severity="medium",
    resource_types=("AWS::AutoScaling::LaunchConfiguration",),
    description=(
        "Unless MetadataOptions.HttpTokens is required, instances launched from the "
        "configuration answer IMDSv1 requests: a server-side request forgery in any "
        "application on them can read the instance role's credentials from the metadata "
        "service. Relates to AWS FSBP AutoScaling.3."
    ),
    remediation=(
        "```yaml\nWebLaunchConfig:\n  Type: AWS::AutoScaling::LaunchConfiguration\n"
        "  Properties:\n    MetadataOptions:\n      HttpTokens: required\n"
        "      HttpPutResponseHopLimit: 1\n```\n(or move to a launch template)"
    ),
    references=(
        f"{_HUB}#autoscaling-3",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html",
    ),
)
def launch_configuration_imdsv1(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_LAUNCH_CONFIG):
        endpoint = tpl.possible_values(res.prop("MetadataOptions", "HttpEndpoint"))
        if all(isinstance(v, str) and v.lower() == "disabled" for v in endpoint):
            continue  # no metadata service at all
        hit = one_of(
            tpl,
            res,
            "MetadataOptions",
            "HttpTokens",
            good=("required",),
            what="IMDSv1 stays available",
        )
        if hit:
            yield hit


@rule(
    id="CF-ASG-004",
    controls=("nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="Launch configuration volume not encrypted",
    severity="medium",
    resource_types=("AWS::AutoScaling::LaunchConfiguration",),
    description=(
        "An EBS volume in a launch configuration's BlockDeviceMappings without Encrypted: "
        "true is created unencrypted for every instance the group launches (unless the "
        "account enables EBS encryption by default, which the template cannot show), and so "
        "is every snapshot taken of it. Relates to AWS FSBP AutoScaling.6."
    ),
    remediation=(
        "```yaml\nBlockDeviceMappings:\n  - DeviceName: /dev/xvda\n    Ebs:\n"
        "      VolumeSize: 30\n      Encrypted: true\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-autoscaling-launchconfiguration-blockdevicemapping.html",
    ),
)
def launch_configuration_volume_unencrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_LAUNCH_CONFIG):
        mappings = as_list(res.prop("BlockDeviceMappings"))
        for index, mapping in enumerate(mappings):
            if not isinstance(mapping, dict) or not isinstance(mapping.get("Ebs"), dict):
                continue
            if mapping["Ebs"].get("SnapshotId", MISSING) is not MISSING:
                continue  # encryption follows the snapshot
            name = mapping.get("DeviceName")
            label = f"volume {name}: Encrypted" if isinstance(name, str) else None
            path = ("BlockDeviceMappings", index, "Ebs", "Encrypted")
            hit = enabled(tpl, res, *path, what="encryption", label=label)
            if hit:
                if res.prop(*path, default=MISSING) is MISSING:
                    hit = Hit(hit.message, res.prop_line(*path[:-1]), hit.resource)
                yield hit
