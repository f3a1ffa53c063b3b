"""Drift from the named stacks (`collectors posture --stack NAME`): security-relevant
properties changed outside CloudFormation, managed resources deleted, and resources no named
stack manages. The comparison is `chalicelib.posture.drift`; each rule reports one kind."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit
from chalicelib.posture import drift
from chalicelib.posture.inventory import Inventory
from rules.aws._helpers import account_rule

_DRIFT_DOC = (
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-drift.html"
)
_SG_DOC = "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html"
_S3_BLOCK_DOC = (
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"
)
_S3_SSE_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html"
_S3_POLICY_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html"
_IMPORT_DOC = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html"
_REDEPLOY = (
    "Decide which is right. If the live change was a mistake, redeploy the stack (or undo the "
    "change) so the template's value holds again; if it was needed, put it in the template and "
    "deploy it, so the next deploy does not silently revert it."
)


def _of(inventory: Inventory, kind: str) -> Iterator[Hit]:
    for found in drift.drifts(inventory):
        if found.kind == kind:
            yield Hit(found.message, resource=found.resource)


@account_rule(
    id="AWS-DRIFT-001",
    needs=(),
    title="Security group ingress rule added outside the template",
    severity="high",
    description=(
        "A security group a named stack manages lets in traffic its template does not declare: "
        "someone opened a port by hand (a console click, a CLI call) and the change never went "
        "through review. Such rules are the classic way an SSH or database port ends up open "
        "to the internet, and the next deploy may or may not remove them."
    ),
    remediation=(
        "Revoke the rule (`aws ec2 revoke-security-group-ingress`) or redeploy the stack; if "
        "the access is wanted, declare it in the template's SecurityGroupIngress and deploy."
    ),
    references=(_DRIFT_DOC, _SG_DOC),
)
def ingress_added(inventory: Inventory) -> Iterator[Hit]:
    return _of(inventory, "ingress added")


@account_rule(
    id="AWS-DRIFT-002",
    needs=(),
    title="Security group ingress rule removed outside the template",
    severity="low",
    description=(
        "A security group a named stack manages lacks an inbound rule its template declares: "
        "access was narrowed by hand. It is rarely a risk in itself, but the template no "
        "longer describes the account, and the next deploy puts the rule back."
    ),
    remediation=_REDEPLOY,
    references=(_DRIFT_DOC, _SG_DOC),
)
def ingress_removed(inventory: Inventory) -> Iterator[Hit]:
    return _of(inventory, "ingress removed")


@account_rule(
    id="AWS-DRIFT-003",
    needs=(),
    title="Security group egress rules changed outside the template",
    severity="medium",
    description=(
        "The outbound rules of a security group a named stack manages differ from its "
        "template (AWS's allow-all default counts as declared when the template sets none): "
        "an added rule can open a path for data to leave, a removed one breaks what the "
        "template promised."
    ),
    remediation=_REDEPLOY,
    references=(_DRIFT_DOC, _SG_DOC),
)
def egress_changed(inventory: Inventory) -> Iterator[Hit]:
    return _of(inventory, "egress")


@account_rule(
    id="AWS-DRIFT-004",
    needs=(),
    title="S3 public access block changed outside the template",
    severity="high",
    description=(
        "A bucket a named stack manages has a public access block other than its template "
        "declares, or none at all: with a flag turned off, a bucket policy or ACL can make "
        "the data public, which is what the block in the template was there to prevent."
    ),
    remediation=(
        "Restore the block (`aws s3api put-public-access-block`) or redeploy the stack; if a "
        "flag must be off, say so in the template's PublicAccessBlockConfiguration."
    ),
    references=(_DRIFT_DOC, _S3_BLOCK_DOC),
)
def public_access_block_changed(inventory: Inventory) -> Iterator[Hit]:
    return _of(inventory, "public access block")


@account_rule(
    id="AWS-DRIFT-005",
    needs=(),
    title="S3 default encryption changed outside the template",
    severity="medium",
    description=(
        "A bucket a named stack manages encrypts new objects differently from its template "
        "(another algorithm or KMS key, or no default encryption): objects may be stored "
        "under a key the template's key policy does not govern."
    ),
    remediation=_REDEPLOY,
    references=(_DRIFT_DOC, _S3_SSE_DOC),
)
def encryption_changed(inventory: Inventory) -> Iterator[Hit]:
    return _of(inventory, "encryption")


@account_rule(
    id="AWS-DRIFT-006",
    needs=(),
    title="S3 bucket policy changed outside the template",
    severity="high",
    description=(
        "The policy of a bucket a named stack manages is not the one the stack declares: a "
        "policy was added, removed or edited by hand. A bucket policy decides who may read "
        "and write the data, so an unreviewed one can grant access to anyone."
    ),
    remediation=(
        "Compare the live policy with the template's AWS::S3::BucketPolicy; restore it "
        "(redeploy the stack) or move the wanted statements into the template."
    ),
    references=(_DRIFT_DOC, _S3_POLICY_DOC),
)
def bucket_policy_changed(inventory: Inventory) -> Iterator[Hit]:
    return _of(inventory, "bucket policy")


@account_rule(
    id="AWS-DRIFT-007",
    needs=(),
    title="Security setting changed outside the template",
    severity="medium",
    description=(
        "A security setting of a resource a named stack manages differs from its template: "
        "bucket versioning, a database's public accessibility or storage encryption, a "
        "queue's or topic's KMS key, an instance's IMDSv2 requirement. Only settings the "
        "template declares are compared."
    ),
    remediation=_REDEPLOY,
    references=(_DRIFT_DOC,),
)
def setting_changed(inventory: Inventory) -> Iterator[Hit]:
    return _of(inventory, "setting")


@account_rule(
    id="AWS-DRIFT-008",
    needs=(),
    title="Stack resource deleted outside the template",
    severity="low",
    description=(
        "A resource a named stack still lists is gone from the account: it was deleted by "
        "hand. What depended on it (a security group's protection, a bucket's data) is "
        "missing, and the stack can fail its next update."
    ),
    remediation=(
        "Redeploy the stack to recreate the resource, or remove it from the template if it is "
        "no longer wanted."
    ),
    references=(_DRIFT_DOC,),
)
def resource_deleted(inventory: Inventory) -> Iterator[Hit]:
    return _of(inventory, "deleted")


@account_rule(
    id="AWS-DRIFT-009",
    needs=(),
    title="Resource not managed by any named stack",
    severity="info",
    description=(
        "A security group, bucket, database, queue, topic or instance belongs to none of the "
        "stacks the run named: it was made by hand or by another tool, so no template "
        "reviewed it. Listed only when the run named stacks and could read them; default "
        "security groups are left out."
    ),
    remediation=(
        "Import the resource into a stack (CloudFormation resource import), name the stack "
        "that manages it with --stack, or delete it if nobody needs it."
    ),
    references=(_IMPORT_DOC,),
)
def not_managed(inventory: Inventory) -> Iterator[Hit]:
    for res in drift.unmanaged(inventory):
        yield Hit(
            f"{res.type} {res.id} is managed by none of the named stacks",
            resource=res.arn,
        )
