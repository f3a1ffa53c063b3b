"""The `aws_inventory` artifact: an account's resources and account-level facts, as collected.

```json
{"kind": "aws_inventory", "version": 1, "account_id": "123456789012", "partition": "aws",
 "regions": ["us-east-1"], "collected_at": "2026-01-01T00:00:00+00:00",
 "resources": [{"arn": "...", "type": "AWS::EC2::SecurityGroup", "region": "us-east-1",
                "id": "sg-...", "configuration": {...}, "tags": {"team": "web"}}],
 "facts": {"global": {"iam.account_summary": {...}}, "us-east-1": {"guardduty.detectors": []}},
 "not_assessed": [{"service": "ec2", "region": "us-east-1", "operation": "ec2:DescribeSnapshots",
                   "reason": "missing permission", "message": "..."}],
 "stacks": [{"name": "web", "id": "arn:aws:cloudformation:...", "region": "us-east-1",
             "resources": [{"logical_id": "WebGroup", "type": "AWS::EC2::SecurityGroup",
                            "physical_id": "sg-...", "properties": {...}}]}]}
```

`stacks` is present when the collection named stacks (`--stack`): their templates' resources,
compared with the live ones for drift (`chalicelib.posture.drift`).

`type` is the resource's CloudFormation type name (as AWS Config names them); `configuration`
holds what the service's describe calls return for it, plus the sections read by further calls
(a bucket's `Encryption`, `Policy` ...). A section that could not be read is named in the
resource's `not_assessed` (section → permission) and absent from `configuration`.

A fact is present when it was read (its value may be null: "no password policy"); a fact that
could not be read is absent, and the `not_assessed` entry says why. Facts are keyed by scope:
`global` for account-wide ones (IAM, the S3 account public access block), else the region.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

KIND = "aws_inventory"
VERSION = 1
GLOBAL = "global"
"""The scope (region) of account-wide facts and of global resources (IAM, CloudFront)."""

__all__ = [
    "GLOBAL",
    "KIND",
    "VERSION",
    "Inventory",
    "InventoryResource",
    "NotAssessed",
    "Stack",
    "StackResource",
]


_SERVICE_OF_NAMESPACE = {
    "opensearchservice": "opensearch",
    "elasticloadbalancingv2": "elbv2",
    "cloudwatch": "logs",  # alarms are read with the log groups and metric filters
}


def service_of(feed: str) -> str:
    """The collected service a fact (`iam.password_policy`) or type (`AWS::IAM::User`) is
    read by."""
    name = feed.split("::")[1] if feed.startswith("AWS::") else feed.split(".", 1)[0]
    name = name.split(".", 1)[0].lower()
    return _SERVICE_OF_NAMESPACE.get(name, name)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotAssessed(_Model):
    """A read that failed: what it would have told, and why it could not be made."""

    service: str = Field(min_length=1, max_length=64, description="boto3 name, e.g. ec2")
    region: str = Field(min_length=1, max_length=64, description="the region, or global")
    operation: str = Field(
        min_length=1, max_length=128, description="the IAM action, e.g. ec2:DescribeSnapshots"
    )
    reason: str = Field(min_length=1, max_length=200, description="e.g. missing permission")
    message: str = Field(default="", max_length=2000, description="the service's own words")
    resource: str | None = Field(default=None, max_length=2048, description="a resource's ARN")
    feeds: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="the resource types and facts the read would have filled",
    )

    @property
    def summary(self) -> str:
        where = self.region if self.resource is None else f"{self.resource}"
        return f"not assessed: {self.reason} {self.operation} ({where})"


class InventoryResource(_Model):
    """One live resource: its identity, its configuration as read, its tags."""

    arn: str = Field(min_length=1, max_length=2048)
    type: str = Field(
        min_length=3, max_length=128, pattern=r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$"
    )
    region: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=2048)
    configuration: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    not_assessed: dict[str, str] = Field(
        default_factory=dict, description="configuration sections not read → the permission"
    )


class StackResource(_Model):
    """One resource a CloudFormation stack manages, with its template's properties."""

    logical_id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=256)
    physical_id: str | None = Field(default=None, max_length=2048)
    status: str | None = Field(default=None, max_length=64)
    properties: dict[str, Any] = Field(
        default_factory=dict,
        description="the template's properties, intrinsics resolved with the stack's "
        "parameters and resources; what could not be resolved stays an intrinsic",
    )


class Stack(_Model):
    """A named stack as deployed: its template's resources and their physical ids."""

    name: str = Field(min_length=1, max_length=255)
    id: str = Field(min_length=1, max_length=2048, description="the stack's ARN")
    region: str = Field(min_length=1, max_length=64)
    status: str | None = Field(default=None, max_length=64)
    resources: list[StackResource] = Field(default_factory=list)


class Inventory(_Model):
    """An account's inventory, as `collectors posture` (or the service) collected it."""

    kind: Literal["aws_inventory"]
    version: Literal[1]
    account_id: str = Field(pattern=r"^\d{12}$")
    partition: str = Field(default="aws", pattern=r"^aws[a-z-]*$")
    regions: list[str] = Field(min_length=1, max_length=64)
    collected_at: str = Field(min_length=10, max_length=40)
    resources: list[InventoryResource] = Field(default_factory=list)
    facts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    not_assessed: list[NotAssessed] = Field(default_factory=list)
    services: list[str] | None = Field(
        default=None, description="the services read (None: every one)"
    )
    stats: dict[str, Any] = Field(
        default_factory=dict, description="how the collection went: API calls, duration"
    )
    stacks: list[Stack] | None = Field(
        default=None,
        description="the named stacks that were read (None: no stack was named); a named "
        "stack that could not be read is in `not_assessed`",
    )
    _by_type: dict[str, list[InventoryResource]] | None = PrivateAttr(default=None)
    _regions: dict[str, str] | None = PrivateAttr(default=None)
    _memo: dict[str, Any] = PrivateAttr(default_factory=dict)

    def memo(self, key: str, build: Callable[[Inventory], Any]) -> Any:
        """`build(self)`, computed once for every rule that asks by `key`."""
        if key not in self._memo:
            self._memo[key] = build(self)
        return self._memo[key]

    def read(self, feed: str) -> bool:
        """False when the service behind a fact (`guardduty.detectors`) or resource type
        (`AWS::EC2::Snapshot`) was left out of the collection, or its listing failed."""
        if self.services is not None and service_of(feed) not in self.services:
            return False
        if feed.startswith("AWS::"):
            return not any(n.resource is None and feed in n.feeds for n in self.not_assessed)
        return True

    def fact(self, scope: str, name: str, default: Any = None) -> Any:
        """A fact of `scope` (a region or `global`), or `default` when it was not read."""
        return self.facts.get(scope, {}).get(name, default)

    def has_fact(self, scope: str, name: str) -> bool:
        return name in self.facts.get(scope, {})

    def of_type(self, *types: str) -> list[InventoryResource]:
        """The resources of the given types, in collection order."""
        index = self._by_type
        if index is None:
            index = {}
            for res in self.resources:
                index.setdefault(res.type, []).append(res)
            self._by_type = index
        if len(types) == 1:
            return index.get(types[0], [])
        return [res for res in self.resources if res.type in types]

    def region_of(self, arn: str) -> str | None:
        """The region of a collected resource (`global` for IAM, CloudFront), else None."""
        if self._regions is None:
            self._regions = {res.arn: res.region for res in self.resources}
        return self._regions.get(arn)

    def location(self, region: str) -> str:
        """Where a finding is, for reports: `aws://<account>/<region>`."""
        return f"aws://{self.account_id}/{region}"
