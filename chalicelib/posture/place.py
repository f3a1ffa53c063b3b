"""Where in AWS a finding on a live resource is: its account, region and service.

Findings of an `aws_inventory` carry these fields, so a tenant can filter its findings by
account, region or service as it filters by rule or severity. The account and region come
from the finding's location (`aws://<account>/<region>`, `global` for IAM and other global
services); the service from the resource's ARN, else from what the resource names
(`<account>/<region>/<service>:<Operation>` for a listing not assessed), else from the
rule's pack (`AWS-TRAIL-001`: CloudTrail).
"""

from __future__ import annotations

from typing import NamedTuple

# The service an account-level rule is about, by the pack in its id (`AWS-<PACK>-nnn`).
_PACK_SERVICES = {
    "CONFIG": "config",
    "EC2": "ec2",
    "GD": "guardduty",
    "HUB": "securityhub",
    "IAM": "iam",
    "KMS": "kms",
    "MON": "cloudwatch",
    "RDS": "rds",
    "S3": "s3",
    "TRAIL": "cloudtrail",
}
_SCHEME = "aws://"


class Place(NamedTuple):
    account: str | None
    region: str | None
    service: str | None


def place(location: str | None, resource: str | None, rule_id: str) -> Place:
    """The account, region and service of a finding (None where nothing says)."""
    account = region = None
    if location and location.startswith(_SCHEME):
        account, _, region = location[len(_SCHEME) :].partition("/")
    return Place(account or None, region or None, _service(resource, rule_id))


def _service(resource: str | None, rule_id: str) -> str | None:
    if resource and resource.startswith("arn:"):
        parts = resource.split(":", 3)
        if len(parts) > 2 and parts[2]:
            return parts[2]
    last = (resource or "").rsplit("/", 1)[-1]
    if ":" in last:  # a listing: `iam:GetCredentialReport`
        return last.split(":", 1)[0] or None
    pack = rule_id.split("-")
    if len(pack) == 3 and pack[0] == "AWS":
        return _PACK_SERVICES.get(pack[1])
    return None
