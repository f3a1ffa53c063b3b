"""DynamoDB table rules: recovery, encryption keys, deletion protection."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Resource, Template
from rules.cloudformation._helpers import as_list, require_enabled, require_true

_FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide/dynamodb-controls.html"


def _replica_hits(tpl: Template, res: Resource, *path: str, what: str) -> Iterator[Hit]:
    """For a global table, one check per replica (each replica has its own setting)."""
    for index, replica in enumerate(as_list(res.prop("Replicas"))):
        region = replica.get("Region") if isinstance(replica, dict) else None
        name = region if isinstance(region, str) else str(index)
        hit = require_enabled(
            tpl, res, "Replicas", index, *path, what=what, label=f"replica {name}: {path[-1]}"
        )
        if hit:
            yield hit


@rule(
    id="CF-DDB-001",
    controls=("fsbp DynamoDB.2", "nist-800-53-r5 CP-9"),
    artifact_type="cloudformation",
    title="DynamoDB point-in-time recovery disabled",
    severity="medium",
    resource_types=("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"),
    description=(
        "Point-in-time recovery keeps continuous backups for 35 days, so a table can be "
        "restored to any second before a faulty deployment, a runaway script or a malicious "
        "mass delete. Without it, only on-demand backups (if anyone takes them) exist. On "
        "global tables each replica is checked. Relates to AWS FSBP DynamoDB.2."
    ),
    remediation=(
        "```yaml\nPointInTimeRecoverySpecification:\n  PointInTimeRecoveryEnabled: true\n```"
    ),
    references=(
        f"{_FSBP}#dynamodb-2",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html",
    ),
)
def pitr_off(tpl: Template) -> Iterator[Hit]:
    path = ("PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")
    what = "point-in-time recovery"
    for res in tpl.of_type("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", include_sam=True):
        if res.type == "AWS::DynamoDB::GlobalTable":
            yield from _replica_hits(tpl, res, *path, what=what)
        else:
            hit = require_true(tpl, res, *path, what=what)
            if hit:
                yield hit


@rule(
    id="CF-DDB-002",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="DynamoDB table encrypted with an AWS owned key",
    severity="low",
    resource_types=("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"),
    description=(
        "Unless SSESpecification.SSEEnabled is true, DynamoDB encrypts the table with a key "
        "AWS owns and shares across accounts: you cannot see its use in CloudTrail, restrict "
        "it with a key policy or revoke access to the data by disabling it. With SSEEnabled "
        "the table uses KMS, with the AWS managed key or (better) your own KMSMasterKeyId."
    ),
    remediation=(
        "```yaml\nSSESpecification:\n  SSEEnabled: true\n  SSEType: KMS\n"
        "  KMSMasterKeyId: !Ref TableKey\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html",
    ),
)
def sse_aws_owned_key(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", include_sam=True):
        hit = require_true(tpl, res, "SSESpecification", "SSEEnabled", what="KMS encryption")
        if hit:
            yield hit


@rule(
    id="CF-DDB-003",
    controls=("fsbp DynamoDB.6",),
    artifact_type="cloudformation",
    title="DynamoDB deletion protection disabled",
    severity="low",
    resource_types=("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"),
    description=(
        "Without DeletionProtectionEnabled, a DeleteTable call (a mistaken stack deletion, a "
        "replacement caused by a renamed key, a compromised pipeline) removes the table and "
        "its point-in-time recovery history at once. On global tables each replica is "
        "checked. Relates to AWS FSBP DynamoDB.6."
    ),
    remediation=(
        "```yaml\nOrdersTable:\n  Type: AWS::DynamoDB::Table\n  DeletionPolicy: Retain\n"
        "  Properties:\n    DeletionProtectionEnabled: true\n```"
    ),
    references=(
        f"{_FSBP}#dynamodb-6",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection",
    ),
)
def deletion_protection_off(tpl: Template) -> Iterator[Hit]:
    what = "deletion protection"
    for res in tpl.of_type("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", include_sam=True):
        if res.type == "AWS::DynamoDB::GlobalTable":
            yield from _replica_hits(tpl, res, "DeletionProtectionEnabled", what=what)
        else:
            hit = require_true(tpl, res, "DeletionProtectionEnabled", what=what)
            if hit:
                yield hit
