"""KMS rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Template
from rules.cloudformation._helpers import MISSING, describe, require_true
from rules.cloudformation.iam import (
    public_statements,
    statement_line,
    who,
)


@rule(
    id="CF-KMS-001",
    controls=("cis-aws-3.0 3.6", "fsbp KMS.4", "nist-800-53-r5 SC-12", "pci-dss-4.0 3.7.4"),
    artifact_type="cloudformation",
    title="KMS key rotation disabled",
    severity="medium",
    resource_types=("AWS::KMS::Key",),
    description=(
        "A symmetric customer managed key that is never rotated keeps encrypting new data "
        "with the same key material for years, so one exposure of that material affects "
        "everything ever encrypted with it."
    ),
    remediation="Set `EnableKeyRotation: true` on symmetric encryption keys.",
    references=("https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html",),
)
def key_rotation_disabled(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::KMS::Key"):
        spec = res.prop("KeySpec", default="SYMMETRIC_DEFAULT")
        usage = res.prop("KeyUsage", default="ENCRYPT_DECRYPT")
        if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
            continue  # rotation applies to symmetric encryption keys only
        if res.prop("Origin", default="AWS_KMS") != "AWS_KMS":
            continue  # imported or external key material is rotated by its owner
        hit = require_true(tpl, res, "EnableKeyRotation", what="automatic key rotation")
        if hit:
            yield hit


@rule(
    id="CF-KMS-002",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="KMS key policy allows any principal",
    severity="high",
    resource_types=("AWS::KMS::Key", "AWS::KMS::ReplicaKey"),
    description=(
        'A key policy statement that allows the principal `*` (or `{AWS: "*"}`) without a '
        "condition naming the caller (kms:CallerAccount, kms:ViaService, "
        "aws:PrincipalOrgID...) lets any AWS account use or manage the key: decrypt the data "
        "it protects, or schedule its deletion and make that data unrecoverable. A principal "
        "taken from a parameter without a default is reported too."
    ),
    remediation=(
        "Grant the account (and let IAM policies delegate), or restrict the wildcard:\n"
        "```yaml\nKeyPolicy:\n  Version: '2012-10-17'\n  Statement:\n"
        "    - Sid: AccountAdministration\n      Effect: Allow\n"
        "      Principal:\n        AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'\n"
        "      Action: 'kms:*'\n      Resource: '*'\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html",
        "https://docs.aws.amazon.com/config/latest/developerguide/kms-key-policy-no-public-access.html",
    ),
)
def key_policy_public(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::KMS::Key", "AWS::KMS::ReplicaKey"):
        for statement, public in public_statements(tpl, res.prop("KeyPolicy")):
            whom = who(public, statement.get("Principal"), "any principal")
            yield Hit(
                f"the key policy allows {whom} without a restricting condition",
                line=statement_line(res, statement, "Principal", "KeyPolicy"),
                resource=res.logical_id,
            )


@rule(
    id="CF-KMS-003",
    controls=("fsbp KMS.3", "nist-800-53-r5 SC-12"),
    artifact_type="cloudformation",
    title="KMS key deletion waiting period too short",
    severity="low",
    resource_types=("AWS::KMS::Key", "AWS::KMS::ReplicaKey"),
    description=(
        "Deleting a KMS key destroys every piece of data encrypted under it. The waiting "
        "period (PendingWindowInDays, 7 to 30 days, 30 when not set) is the only time left to "
        "notice a mistaken or malicious deletion and cancel it. Parameter "
        "`min_pending_window_days` (default 14) sets the shortest accepted window. Relates to "
        "AWS FSBP KMS.3."
    ),
    remediation=(
        "Keep the default 30-day window, or at least the tenant's minimum:\n"
        "```yaml\nDataKey:\n  Type: AWS::KMS::Key\n  Properties:\n    PendingWindowInDays: 30\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-3",
    ),
    params={"min_pending_window_days": 14},
)
def key_pending_window_short(tpl: Template, params: Mapping[str, Any]) -> Iterator[Hit]:
    try:
        minimum = int(params.get("min_pending_window_days", 14))
    except (TypeError, ValueError):
        minimum = 14
    for res in tpl.of_type("AWS::KMS::Key", "AWS::KMS::ReplicaKey"):
        value = res.prop("PendingWindowInDays", default=MISSING)
        if value is MISSING or value is None:
            continue  # 30 days
        line = res.prop_line("PendingWindowInDays")
        days: list[int] = []
        unknown = False
        for v in tpl.possible_values(value):
            if v is NO_VALUE:
                days.append(30)
                continue
            try:
                days.append(int(v))
            except (TypeError, ValueError):
                unknown = True
        if days and min(days) < minimum:
            yield Hit(
                f"PendingWindowInDays can be {min(days)}, shorter than {minimum} days",
                line=line,
                resource=res.logical_id,
            )
        elif unknown:
            yield Hit(
                f"PendingWindowInDays comes from {describe(value)}, which cannot be resolved "
                f"from the template: make sure it is at least {minimum} days",
                line=line,
                resource=res.logical_id,
            )
