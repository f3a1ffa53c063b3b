"""CloudWatch Logs rules: retention and encryption of log groups."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Template
from rules.cloudformation._helpers import MISSING

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_LOG_GROUP = "AWS::Logs::LogGroup"


@rule(
    id="CF-LOGS-001",
    artifact_type="cloudformation",
    title="CloudWatch log group never expires",
    severity="low",
    resource_types=("AWS::Logs::LogGroup",),
    description=(
        "A log group without RetentionInDays keeps every event forever. Logs routinely "
        "contain personal data, tokens and internal details: keeping them indefinitely grows "
        "the exposure of a leak, conflicts with data-retention obligations, and costs money "
        "every month."
    ),
    remediation=(
        "Set the retention your policy requires (often one year for audit logs):\n"
        "```yaml\nAppLogs:\n  Type: AWS::Logs::LogGroup\n  Properties:\n"
        "    RetentionInDays: 365\n```"
    ),
    references=(
        f"{_HUB}/cloudwatch-controls.html#cloudwatch-16",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention",
    ),
)
def log_group_without_retention(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_LOG_GROUP):
        value = res.prop("RetentionInDays", default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "RetentionInDays is not set, so events are kept forever",
                line=res.properties_line,
                resource=res.logical_id,
            )
        elif any(v is NO_VALUE or v == "" for v in tpl.possible_values(value)):
            yield Hit(
                "RetentionInDays can be removed, so events may be kept forever",
                line=res.prop_line("RetentionInDays"),
                resource=res.logical_id,
            )


@rule(
    id="CF-LOGS-002",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="CloudWatch log group not encrypted with a KMS key",
    severity="low",
    resource_types=("AWS::Logs::LogGroup",),
    description=(
        "Log groups are always encrypted by CloudWatch Logs, but without KmsKeyId the key is "
        "the service's: access to the events is governed by IAM alone, and you cannot "
        "restrict, audit or revoke decryption through a key policy."
    ),
    remediation=(
        "```yaml\nAppLogs:\n  Type: AWS::Logs::LogGroup\n  Properties:\n"
        "    KmsKeyId: !GetAtt LogsKey.Arn\n    RetentionInDays: 365\n```\n"
        "The key policy must allow `logs.<region>.amazonaws.com` to use the key."
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
    ),
)
def log_group_without_kms(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_LOG_GROUP):
        value = res.prop("KmsKeyId", default=MISSING)
        if value is MISSING or value is None:
            yield Hit("no KmsKeyId is set", line=res.properties_line, resource=res.logical_id)
        elif any(v is NO_VALUE or v == "" for v in tpl.possible_values(value)):
            yield Hit(
                "KmsKeyId can be empty or removed",
                line=res.prop_line("KmsKeyId"),
                resource=res.logical_id,
            )
