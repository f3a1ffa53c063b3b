"""Audit logging rules."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation._helpers import require_true


@rule(
    id="CF-TRAIL-001",
    artifact_type="cloudformation",
    title="CloudTrail log file validation disabled",
    severity="medium",
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
