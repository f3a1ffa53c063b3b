"""Each collected resource in its CloudFormation shape, so the CloudFormation rules judge a live
account as they judge a template.

One mapping per inventory resource type (`MAPPINGS`, gathered from the modules of this
package): it returns the CloudFormation resources that would have produced what was read, the
first one under the resource's ARN as logical id, the others (a bucket's policy, a function's
URL, a network ACL's entries) under `<ARN>#<part>` and referring to it with `Ref`, as a
template would. A hit on any of them is reported on the resource's ARN (a listener or a
stage, resources with ARNs of their own, keep theirs), its message prefixed with the part it
is about.

What was not read never becomes a finding: when a section of a resource could not be read,
the hits of the rules that depend on it are dropped (`SECTION_RULES`; a section it does not
list drops every hit on the resource), and AWS-ACCESS-001 names what was not assessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalicelib.parsers.cloudformation import LineDict, Resource, Template
from chalicelib.posture.inventory import Inventory, InventoryResource
from chalicelib.posture.shapes import compute, edge, identity, messaging, network, records, storage
from chalicelib.posture.shapes._base import Context, Mapping, Shape

__all__ = ["FACT_RULES", "MAPPINGS", "SECTION_RULES", "Shape", "as_template", "shapes_of"]

MAPPINGS: dict[str, Mapping] = {
    **network.MAPPINGS,
    **storage.MAPPINGS,
    **identity.MAPPINGS,
    **records.MAPPINGS,
    **messaging.MAPPINGS,
    **compute.MAPPINGS,
    **edge.MAPPINGS,
}
"""Inventory resource type → its mapping. Types without one (snapshots, AMIs, Elastic IPs)
are judged by the account rules only."""

SECTION_RULES: dict[str, dict[str, tuple[str, ...]]] = {
    "AWS::S3::Bucket": {
        "Encryption": ("CF-S3-001", "CF-S3-009"),
        "PublicAccessBlock": ("CF-S3-002",),
        "Versioning": ("CF-S3-004",),
        "Logging": ("CF-S3-005",),
        "Policy": ("CF-S3-006", "CF-S3-007"),
        "Acl": ("CF-S3-003", "CF-S3-005"),
        "ObjectLock": ("CF-S3-008",),
        "OwnershipControls": (),
    },
    "AWS::KMS::Key": {"KeyRotationEnabled": ("CF-KMS-001",), "KeyPolicy": ("CF-KMS-002",)},
    "AWS::Lambda::Function": {"Policy": ("CF-LAMBDA-002",), "Url": ("CF-LAMBDA-003",)},
    "AWS::DynamoDB::Table": {"ContinuousBackups": ("CF-DDB-001",)},
    "AWS::CloudTrail::Trail": {"Status": ("CF-TRAIL-004",), "EventSelectors": ()},
    "AWS::ECR::Repository": {"Policy": ("CF-ECR-003",)},
    "AWS::RDS::DBSnapshot": {},
}
"""Per type, the configuration sections whose absence (not read) voids given rules' hits."""

FACT_RULES: dict[str, tuple[str, ...]] = {
    "iam.credential_report": ("CF-IAM-008",),  # who has a console password
    "s3.account_public_access_block": ("CF-S3-002",),  # folded into each bucket's block
}
"""Account facts some mappings read: when one was not read, those rules' hits are void."""


def shapes_of(res: InventoryResource, ctx: Context | None = None) -> list[Shape]:
    """The CloudFormation shapes of one resource (none for a type without a mapping)."""
    mapping = MAPPINGS.get(res.type)
    if mapping is None:
        return []
    return mapping(res, ctx or Context(Inventory.model_construct(resources=[res])))


def _region_shapes(inventory: Inventory) -> list[Shape]:
    """Region-wide settings that templates declare as resources of their own."""
    shapes = []
    for region in inventory.regions:
        if inventory.has_fact(region, "ec2.snapshot_block_public_access"):
            state = inventory.fact(region, "ec2.snapshot_block_public_access")
            shapes.append(
                Shape(
                    f"{inventory.account_id}/{region}",
                    "AWS::EC2::SnapshotBlockPublicAccess",
                    {"State": state or "unblocked"},
                    keeps_id=True,
                )
            )
    return shapes


def as_template(inventory: Inventory) -> tuple[Template, Callable[[str, Any], Any]]:
    """The inventory as a template, and the function that turns a hit on the template into a
    hit on the inventory (None for a hit that rests on what was not read)."""
    ctx = Context.of(inventory)
    resources: dict[str, Resource] = {}
    owners: dict[str, tuple[InventoryResource | None, Shape]] = {}
    for res in inventory.resources:
        for shape in shapes_of(res, ctx):
            resources[shape.logical_id] = _resource(shape)
            owners[shape.logical_id] = (res, shape)
    for shape in _region_shapes(inventory):
        resources[shape.logical_id] = _resource(shape)
        owners[shape.logical_id] = (None, shape)
    template = Template(resources=resources)
    unread = {
        rule_id
        for fact, rule_ids in FACT_RULES.items()
        if not inventory.has_fact("global", fact)
        for rule_id in rule_ids
    }

    def translate(rule_id: str, hit: Any) -> Any:
        if rule_id in unread:
            return None
        owner, shape = owners.get(hit.resource or "", (None, None))
        if shape is None:
            return replace(hit, line=None)
        if owner is not None and owner.not_assessed and _voided(owner, rule_id):
            return None
        message = f"{shape.label}: {hit.message}" if shape.label else hit.message
        target = shape.logical_id if shape.keeps_id or owner is None else owner.arn
        return replace(hit, resource=target, message=message, line=None)

    return template, translate


def _voided(owner: InventoryResource, rule_id: str) -> bool:
    """True when the rule may depend on a section of `owner` that was not read."""
    known = SECTION_RULES.get(owner.type)
    if known is None:
        return True
    return any(section not in known or rule_id in known[section] for section in owner.not_assessed)


def _resource(shape: Shape) -> Resource:
    return Resource(
        logical_id=shape.logical_id,
        type=shape.type,
        properties=LineDict(shape.properties),
        line=None,
    )
