"""KMS rules."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation._helpers import require_true


@rule(
    id="CF-KMS-001",
    artifact_type="cloudformation",
    title="KMS key rotation disabled",
    severity="medium",
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
