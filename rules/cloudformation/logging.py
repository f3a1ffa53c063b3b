"""Audit logging rules."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation._helpers import require_set, require_true


@rule(
    id="CF-TRAIL-001",
    controls=("cis-aws-3.0 3.2", "fsbp CloudTrail.4", "nist-800-53-r5 AU-9", "pci-dss-4.0 10.3.2"),
    artifact_type="cloudformation",
    title="CloudTrail log file validation disabled",
    severity="medium",
    resource_types=("AWS::CloudTrail::Trail",),
    description=(
        "Without log file validation, CloudTrail writes no signed digest files, so nobody can "
        "prove that the audit logs were not modified or deleted after delivery, for instance "
        "by an intruder covering their tracks."
    ),
    remediation="Set `EnableLogFileValidation: true` on the trail.",
    references=(
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-intro.html",
    ),
)
def trail_without_validation(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::CloudTrail::Trail"):
        hit = require_true(tpl, res, "EnableLogFileValidation", what="log file validation")
        if hit:
            yield hit


_FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html"
_CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"


@rule(
    id="CF-TRAIL-002",
    controls=(
        "cis-aws-3.0 3.1",
        "fsbp CloudTrail.1",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="CloudTrail trail records only one region",
    severity="medium",
    resource_types=("AWS::CloudTrail::Trail",),
    description=(
        "A single-region trail records nothing about activity in the other regions, which "
        "is exactly where an intruder launches resources (crypto-mining fleets, exfiltration "
        "endpoints) to stay out of sight. A multi-region trail also covers regions enabled "
        "later. Relates to AWS FSBP CloudTrail.1 and CIS AWS Foundations Benchmark "
        "v1.4.0 3.1."
    ),
    remediation="Set `IsMultiRegionTrail: true` (and `IncludeGlobalServiceEvents: true`).",
    references=(
        f"{_FSBP}#cloudtrail-1",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/receive-cloudtrail-log-files-from-multiple-regions.html",
        _CIS,
    ),
)
def trail_single_region(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::CloudTrail::Trail"):
        hit = require_true(tpl, res, "IsMultiRegionTrail", what="logging of other regions")
        if hit:
            yield hit


@rule(
    id="CF-TRAIL-003",
    controls=("cis-aws-3.0 3.5", "fsbp CloudTrail.2", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="CloudTrail logs not encrypted with a KMS key",
    severity="medium",
    resource_types=("AWS::CloudTrail::Trail",),
    description=(
        "Without KMSKeyId, trail logs are encrypted with S3 managed keys, so anyone who can "
        "read the log bucket can read the account's full API history. With a customer "
        "managed key, reading the logs also needs kms:Decrypt on a key whose policy you "
        "control. Relates to AWS FSBP CloudTrail.2 and CIS AWS Foundations "
        "Benchmark v1.4.0 3.7."
    ),
    remediation=(
        "```yaml\nAuditTrail:\n  Type: AWS::CloudTrail::Trail\n  Properties:\n"
        "    KMSKeyId: !Ref TrailKey   # key policy allows cloudtrail.amazonaws.com to encrypt\n```"
    ),
    references=(
        f"{_FSBP}#cloudtrail-2",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html",
        _CIS,
    ),
)
def trail_not_kms_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::CloudTrail::Trail"):
        hit = require_set(
            tpl, res, "KMSKeyId", what="the logs are readable by anyone who can read the bucket"
        )
        if hit:
            yield hit


@rule(
    id="CF-TRAIL-004",
    controls=(
        "cis-aws-3.0 3.1",
        "fsbp CloudTrail.1",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="CloudTrail trail logging turned off",
    severity="high",
    resource_types=("AWS::CloudTrail::Trail",),
    description=(
        "A trail with IsLogging false exists but records nothing: the account has no audit "
        "trail of API calls while everyone believes it does. IsLogging is required; a value "
        "that cannot be resolved from the template is reported too."
    ),
    remediation="Set `IsLogging: true` on the trail.",
    references=(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudtrail-trail.html",
        f"{_FSBP}#cloudtrail-1",
    ),
)
def trail_logging_off(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::CloudTrail::Trail"):
        hit = require_true(tpl, res, "IsLogging", what="audit logging")
        if hit:
            yield hit


@rule(
    id="CF-TRAIL-005",
    controls=("fsbp CloudTrail.5",),
    artifact_type="cloudformation",
    title="CloudTrail trail not sent to CloudWatch Logs",
    severity="low",
    resource_types=("AWS::CloudTrail::Trail",),
    description=(
        "Logs delivered only to S3 are read after the fact. Sending the trail to a CloudWatch "
        "Logs group (CloudWatchLogsLogGroupArn with CloudWatchLogsRoleArn) allows metric "
        "filters and alarms on root logins, policy changes or console logins without MFA as "
        "they happen. Relates to AWS FSBP CloudTrail.5 and CIS AWS Foundations "
        "Benchmark v1.4.0 3.4."
    ),
    remediation=(
        "```yaml\nCloudWatchLogsLogGroupArn: !GetAtt TrailLogGroup.Arn\n"
        "CloudWatchLogsRoleArn: !GetAtt TrailToLogsRole.Arn\n```"
    ),
    references=(
        f"{_FSBP}#cloudtrail-5",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html",
        _CIS,
    ),
)
def trail_without_cloudwatch(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::CloudTrail::Trail"):
        hit = require_set(
            tpl,
            res,
            "CloudWatchLogsLogGroupArn",
            what="no alarm can react to trail events",
        ) or require_set(
            tpl,
            res,
            "CloudWatchLogsRoleArn",
            what="CloudTrail cannot deliver to the log group",
        )
        if hit:
            yield hit
