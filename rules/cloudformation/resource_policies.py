"""Resource policies: statements that grant everything but a list, and policies open to anyone
on services without a rule of their own (Secrets Manager, EventBridge, EFS, Lambda layers...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Resource, Template
from rules.cloudformation._helpers import param_unknown
from rules.cloudformation.iam import (
    allows,
    policy_variants,
    public_statements,
    statement_line,
    statements,
    who,
)

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_POLICY_GRAMMAR = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements"

# every resource type whose property holds a resource-based policy document
RESOURCE_POLICIES: dict[str, tuple[str, ...]] = {
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::S3::AccessPoint": ("Policy",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SQS::QueueInlinePolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::SNS::TopicInlinePolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::KMS::ReplicaKey": ("KeyPolicy",),
    "AWS::ECR::Repository": ("RepositoryPolicyText",),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy",),
    "AWS::EFS::FileSystem": ("FileSystemPolicy",),
    "AWS::OpenSearchService::Domain": ("AccessPolicies",),
    "AWS::Elasticsearch::Domain": ("AccessPolicies",),
    "AWS::Backup::BackupVault": ("AccessPolicy",),
    "AWS::Logs::ResourcePolicy": ("PolicyDocument",),
    "AWS::CodeArtifact::Domain": ("PermissionsPolicyDocument",),
    "AWS::CodeArtifact::Repository": ("PermissionsPolicyDocument",),
    "AWS::ApiGateway::RestApi": ("Policy",),
    "AWS::IAM::Role": ("AssumeRolePolicyDocument",),
}
# services whose public policies have a rule of their own
_DEDICATED = frozenset(
    {
        "AWS::S3::BucketPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SQS::QueueInlinePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SNS::TopicInlinePolicy",
        "AWS::KMS::Key",
        "AWS::KMS::ReplicaKey",
        "AWS::ECR::Repository",
        "AWS::SecretsManager::ResourcePolicy",
        "AWS::EFS::FileSystem",
        "AWS::OpenSearchService::Domain",
        "AWS::Elasticsearch::Domain",
        "AWS::IAM::Role",
        "AWS::ApiGateway::RestApi",  # a public API is a design choice, authorised per method
    }
)


_OTHER_POLICIES = tuple(t for t in RESOURCE_POLICIES if t not in _DEDICATED)


def _public_hits(tpl: Template, types: tuple[str, ...], noun: str) -> Iterator[Hit]:
    """One hit per resource of `types` whose policy allows anyone without a condition."""
    for res in tpl.of_type(*types):
        path = RESOURCE_POLICIES[res.type]
        for statement, public in public_statements(tpl, res.prop(*path)):
            yield Hit(
                f"the {noun} lets {who(public, statement.get('Principal'))} in without a "
                "restricting condition",
                statement_line(res, statement, "Principal", *path),
                res.logical_id,
            )
            break


@rule(
    id="CF-POLICY-001",
    controls=("nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="Resource policy allows everything but a list of actions",
    severity="medium",
    resource_types=tuple(RESOURCE_POLICIES),
    description=(
        "A statement of a bucket, queue, topic, key, repository, secret, file system, domain "
        "or vault policy with `Effect: Allow` and NotAction grants its principals every "
        "action of the service except those listed, including actions added to the service "
        "later (deleting the resource, rewriting its policy). NotAction belongs in Deny "
        "statements; identity policies are checked by CF-IAM-004."
    ),
    remediation=(
        "List what the principal may do:\n```yaml\n- Effect: Allow\n"
        "  Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:role/reader'}\n"
        "  Action: [sqs:ReceiveMessage, sqs:DeleteMessage]\n  Resource: !GetAtt JobsQueue.Arn\n"
        "```"
    ),
    references=(
        f"{_POLICY_GRAMMAR}_notaction.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html",
    ),
)
def resource_policy_not_action(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*RESOURCE_POLICIES):
        path = RESOURCE_POLICIES[res.type]
        documents, _ = policy_variants(tpl, res.prop(*path))
        for statement in (s for document in documents for s in statements(document)):
            if "NotAction" in statement and allows(tpl, statement):
                yield Hit(
                    "an Allow statement uses NotAction",
                    statement_line(res, statement, "NotAction", *path),
                    res.logical_id,
                )
                break


@rule(
    id="CF-POLICY-002",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="Resource policy open to anyone",
    severity="high",
    resource_types=_OTHER_POLICIES,
    description=(
        'A resource policy statement allowing Principal "*" (or an account wildcard) with no '
        "condition naming the caller, its organization or network lets every AWS account use "
        "the granted actions. This rule covers the policy-bearing resources without a rule of "
        "their own: Backup vaults, S3 access points, CloudWatch Logs resource policies and "
        "CodeArtifact domains and repositories."
    ),
    remediation=(
        "Name the principals, or pin the wildcard to your organization:\n```yaml\n"
        "- Effect: Allow\n  Principal: '*'\n  Action: codeartifact:ReadFromRepository\n"
        "  Resource: '*'\n  Condition:\n    StringEquals:\n"
        "      aws:PrincipalOrgID: o-a1b2c3d4e5\n```"
    ),
    references=(
        f"{_POLICY_GRAMMAR}_principal.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html",
    ),
)
def other_resource_policy_public(tpl: Template) -> Iterator[Hit]:
    return _public_hits(tpl, _OTHER_POLICIES, "policy")


@rule(
    id="CF-SM-004",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="Secrets Manager secret policy allows anyone",
    severity="critical",
    resource_types=("AWS::SecretsManager::ResourcePolicy",),
    description=(
        "An AWS::SecretsManager::ResourcePolicy statement allowing any principal without a "
        "condition naming the caller lets every AWS account call the granted actions on the "
        "secret, secretsmanager:GetSecretValue included: the credential it holds is public. "
        "BlockPublicPolicy: true makes Secrets Manager refuse such a policy. Relates to AWS "
        "FSBP SecretsManager controls."
    ),
    remediation=(
        "Name the roles that read the secret, and keep public policies blocked:\n```yaml\n"
        "DatabaseSecretPolicy:\n  Type: AWS::SecretsManager::ResourcePolicy\n  Properties:\n"
        "    SecretId: !Ref DatabaseSecret\n    BlockPublicPolicy: true\n    ResourcePolicy:\n"
        "      Version: '2012-10-17'\n      Statement:\n        - Effect: Allow\n"
        "          Principal: {AWS: !GetAtt AppRole.Arn}\n"
        "          Action: secretsmanager:GetSecretValue\n          Resource: '*'\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_resource-policies.html",
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/determine-acccess_examine-iam-policies.html",
    ),
)
def secret_policy_public(tpl: Template) -> Iterator[Hit]:
    return _public_hits(tpl, ("AWS::SecretsManager::ResourcePolicy",), "secret's policy")


@rule(
    id="CF-EFS-003",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="EFS file system policy allows anyone",
    severity="high",
    resource_types=("AWS::EFS::FileSystem",),
    description=(
        "A FileSystemPolicy statement allowing any principal without a condition (such as "
        "aws:SourceVpc, aws:PrincipalOrgID or elasticfilesystem:AccessPointArn) grants the "
        "listed actions to every AWS identity that can reach a mount target: clients mount, "
        "read and, with ClientWrite or ClientRootAccess, change every file."
    ),
    remediation=(
        "Grant access to named roles (or through access points):\n```yaml\n"
        "FileSystemPolicy:\n  Version: '2012-10-17'\n  Statement:\n    - Effect: Allow\n"
        "      Principal: {AWS: !GetAtt AppRole.Arn}\n"
        "      Action: [elasticfilesystem:ClientMount, elasticfilesystem:ClientWrite]\n"
        "      Condition:\n        Bool: {aws:SecureTransport: 'true'}\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html",
        f"{_HUB}/efs-controls.html",
    ),
)
def file_system_policy_public(tpl: Template) -> Iterator[Hit]:
    return _public_hits(tpl, ("AWS::EFS::FileSystem",), "file system policy")


@rule(
    id="CF-EVENTS-001",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="EventBridge event bus accepts events from any account",
    severity="high",
    resource_types=("AWS::Events::EventBusPolicy",),
    description=(
        'An AWS::Events::EventBusPolicy with Principal "*" and no condition (or no '
        "aws:PrincipalOrgID Condition in the legacy form) lets every AWS account put events "
        "on the bus. The rules of the bus then trigger Lambda functions, Step Functions or "
        "deployments on forged events."
    ),
    remediation=(
        "Allow named accounts, or your organization:\n```yaml\nOrgEventsPolicy:\n"
        "  Type: AWS::Events::EventBusPolicy\n  Properties:\n    EventBusName: !Ref Bus\n"
        "    StatementId: OrgAccounts\n    Statement:\n      Effect: Allow\n"
        "      Principal: '*'\n      Action: events:PutEvents\n"
        "      Resource: !GetAtt Bus.Arn\n      Condition:\n        StringEquals:\n"
        "          aws:PrincipalOrgID: o-a1b2c3d4e5\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-events-eventbuspolicy.html",
    ),
)
def event_bus_public(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Events::EventBusPolicy"):
        if "Statement" in res.properties:
            document = {"Statement": [res.prop("Statement")]}
            for statement, public in public_statements(tpl, document):
                yield Hit(
                    f"the bus policy lets {who(public, statement.get('Principal'))} put events "
                    "without a restricting condition",
                    statement_line(res, statement, "Principal", "Statement"),
                    res.logical_id,
                )
                break
            continue
        hit = _legacy_bus_hit(tpl, res)
        if hit:
            yield hit


def _legacy_bus_hit(tpl: Template, res: Resource) -> Hit | None:
    """The form with Principal / Action / Condition properties: a Condition (always on
    aws:PrincipalOrgID) restricts it."""
    principal: Any = res.prop("Principal")
    if not _may_be_star(tpl, principal) or res.prop("Condition") is not None:
        return None
    return Hit(
        'Principal "*" without a Condition lets any account put events on the bus',
        res.prop_line("Principal"),
        res.logical_id,
    )


def _may_be_star(tpl: Template, value: Any) -> bool:
    """True when `value` is (or may be, through an open parameter) the wildcard `*`."""
    found = tpl.possible_values(value)
    return any(isinstance(v, str) and v.strip() == "*" for v in found) or param_unknown(
        tpl, value, could_be="*"
    )


@rule(
    id="CF-LAMBDA-008",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="Lambda layer shared with every account",
    severity="medium",
    resource_types=("AWS::Lambda::LayerVersionPermission",),
    description=(
        'An AWS::Lambda::LayerVersionPermission with Principal "*" and no OrganizationId lets '
        "any AWS account download the layer's code: libraries, configuration and anything "
        "else packaged in it (internal endpoints, keys left in files)."
    ),
    remediation=(
        "Share with one account, or with your organization:\n```yaml\nSharedLayerAccess:\n"
        "  Type: AWS::Lambda::LayerVersionPermission\n  Properties:\n"
        "    LayerVersionArn: !Ref SharedLayer\n    Action: lambda:GetLayerVersion\n"
        "    Principal: '*'\n    OrganizationId: o-a1b2c3d4e5\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/lambda/latest/dg/permissions-layer-cross-account.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-layerversionpermission.html",
    ),
)
def layer_shared_with_everyone(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Lambda::LayerVersionPermission"):
        if not _may_be_star(tpl, res.prop("Principal")):
            continue
        org = tpl.possible_values(res.prop("OrganizationId", default=""))
        if all(v not in ("", None, NO_VALUE) for v in org):
            continue  # limited to an organization (or to whatever an expression names)
        yield Hit(
            'Principal "*" without OrganizationId shares the layer with every account',
            res.prop_line("Principal"),
            res.logical_id,
        )
