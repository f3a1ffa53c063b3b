"""Account governance rules: AWS Config coverage, GuardDuty, stacks, StackSets and Cognito."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Resource, Template
from rules.cloudformation._helpers import MISSING, as_list, disabled, each, enabled, one_of, present

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"


@rule(
    id="CF-CONFIG-001",
    controls=("nist-800-53-r5 CM-8",),
    artifact_type="cloudformation",
    title="Config aggregator does not cover all regions",
    severity="low",
    resource_types=("AWS::Config::ConfigurationAggregator",),
    description=(
        "An aggregator source listing AwsRegions instead of AllAwsRegions: true sees "
        "nothing of the regions left out, including regions enabled later: resources an "
        "attacker creates there, where nobody looks, stay out of the aggregated view."
    ),
    remediation=(
        "```yaml\nOrgAggregator:\n  Type: AWS::Config::ConfigurationAggregator\n"
        "  Properties:\n    OrganizationAggregationSource:\n"
        "      RoleArn: !GetAtt AggregatorRole.Arn\n      AllAwsRegions: true\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/config/latest/developerguide/aggregate-data.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-config-configurationaggregator.html",
    ),
)
def aggregator_not_all_regions(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Config::ConfigurationAggregator"):
        sources: list[tuple] = (
            [("OrganizationAggregationSource",)]
            if isinstance(res.prop("OrganizationAggregationSource"), dict)
            else []
        )
        accounts = as_list(res.prop("AccountAggregationSources"))
        sources += [("AccountAggregationSources", i) for i in range(len(accounts))]
        for path in sources:
            hit = enabled(tpl, res, *path, "AllAwsRegions", what="aggregation of every region")
            if hit:
                yield hit


@rule(
    id="CF-CONFIG-002",
    controls=("cis-aws-3.0 3.3", "fsbp Config.1", "nist-800-53-r5 CM-8"),
    artifact_type="cloudformation",
    title="Config recorder does not record all resource types",
    severity="medium",
    resource_types=("AWS::Config::ConfigurationRecorder",),
    description=(
        "A configuration recorder whose RecordingGroup neither sets AllSupported: true nor "
        "uses the ALL_SUPPORTED_RESOURCE_TYPES strategy records only the types it lists: "
        "changes to everything else (new services included) leave no configuration history "
        "and no Config rule evaluates them. Relates to AWS FSBP Config.1."
    ),
    remediation=(
        "```yaml\nRecorder:\n  Type: AWS::Config::ConfigurationRecorder\n  Properties:\n"
        "    RoleARN: !GetAtt ConfigRole.Arn\n    RecordingGroup:\n      AllSupported: true\n"
        "      IncludeGlobalResourceTypes: true\n```"
    ),
    references=(
        f"{_HUB}/config-controls.html#config-1",
        "https://docs.aws.amazon.com/config/latest/developerguide/select-resources.html",
    ),
)
def recorder_partial(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Config::ConfigurationRecorder"):
        group = res.prop("RecordingGroup", default=MISSING)
        if not isinstance(group, dict):
            continue  # no RecordingGroup: every supported type is recorded
        chosen = group.get("RecordingStrategy")
        strategy = tpl.possible_values(chosen.get("UseOnly") if isinstance(chosen, dict) else None)
        if any(isinstance(s, str) and s == "ALL_SUPPORTED_RESOURCE_TYPES" for s in strategy):
            continue
        hit = enabled(
            tpl, res, "RecordingGroup", "AllSupported", what="recording of every resource type"
        )
        if hit:
            yield hit


@rule(
    id="CF-GUARDDUTY-001",
    controls=("fsbp GuardDuty.1", "nist-800-53-r5 SI-4", "pci-dss-4.0 11.5.1"),
    artifact_type="cloudformation",
    title="GuardDuty detector disabled",
    severity="medium",
    resource_types=("AWS::GuardDuty::Detector",),
    description=(
        "A GuardDuty detector with Enable: false exists but analyses nothing: CloudTrail, "
        "VPC flow log and DNS events of the account and region are not checked for "
        "compromised credentials, crypto-mining or calls to known malicious hosts, while "
        "the resource suggests they are. Relates to AWS FSBP GuardDuty.1."
    ),
    remediation=(
        "```yaml\nDetector:\n  Type: AWS::GuardDuty::Detector\n  Properties:\n"
        "    Enable: true\n    FindingPublishingFrequency: FIFTEEN_MINUTES\n```"
    ),
    references=(
        f"{_HUB}/guardduty-controls.html#guardduty-1",
        "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_settingup.html",
    ),
)
def detector_disabled(tpl: Template) -> Iterator[Hit]:
    return each(tpl, "AWS::GuardDuty::Detector", enabled, "Enable", what="threat detection")


def _auto_deployed(tpl: Template, res: Resource) -> bool:
    values = tpl.possible_values(res.prop("AutoDeployment", "Enabled", default=False))
    return any(v is True or str(v).lower() == "true" for v in values)


@rule(
    id="CF-STACK-001",
    artifact_type="cloudformation",
    title="StackSet deletes stacks when an account leaves",
    severity="medium",
    resource_types=("AWS::CloudFormation::StackSet",),
    description=(
        "A service-managed StackSet with automatic deployment and "
        "RetainStacksOnAccountRemoval false deletes its stack, and every resource in it, "
        "from an account as soon as the account leaves the target organizational unit. For "
        "StackSets that deploy guardrails (CloudTrail, Config, GuardDuty, log buckets, "
        "break-glass roles), moving an account between OUs silently removes them. When "
        "automatic deployment is off or not set, no stack follows new accounts: that is "
        "reported too."
    ),
    remediation=(
        "```yaml\nGuardrails:\n  Type: AWS::CloudFormation::StackSet\n  Properties:\n"
        "    PermissionModel: SERVICE_MANAGED\n    AutoDeployment:\n      Enabled: true\n"
        "      RetainStacksOnAccountRemoval: true\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-stackset.html",
    ),
)
def stackset_without_retention(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::CloudFormation::StackSet"):
        models = tpl.possible_values(res.prop("PermissionModel"))
        if not any(isinstance(m, str) and m.upper() == "SERVICE_MANAGED" for m in models):
            continue
        if not _auto_deployed(tpl, res):
            hit = enabled(tpl, res, "AutoDeployment", "Enabled", what="deployment to new accounts")
        else:
            hit = enabled(
                tpl,
                res,
                "AutoDeployment",
                "RetainStacksOnAccountRemoval",
                what="keeping the stack in accounts that leave",
            )
        if hit:
            yield hit


@rule(
    id="CF-COGNITO-001",
    artifact_type="cloudformation",
    title="Cognito user pool without multi-factor authentication",
    severity="medium",
    resource_types=("AWS::Cognito::UserPool",),
    description=(
        "MfaConfiguration is OFF by default: the pool's users sign in with a password alone, "
        "so a phished, reused or brute-forced password is enough to take over an account. "
        "OPTIONAL lets users choose a second factor; ON requires one."
    ),
    remediation=(
        "```yaml\nUserPool:\n  Type: AWS::Cognito::UserPool\n  Properties:\n"
        '    MfaConfiguration: "ON"\n    EnabledMfas: [SOFTWARE_TOKEN_MFA]\n```'
    ),
    references=(
        "https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa.html",
        f"{_HUB}/cognito-controls.html",
    ),
)
def user_pool_without_mfa(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        "AWS::Cognito::UserPool",
        one_of,
        "MfaConfiguration",
        good=("ON", "OPTIONAL", "True"),  # an unquoted YAML ON reads as true
        what="users sign in with a password alone",
    )


@rule(
    id="CF-COGNITO-002",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="Cognito identity pool hands out guest credentials",
    severity="medium",
    resource_types=("AWS::Cognito::IdentityPool",),
    description=(
        "AllowUnauthenticatedIdentities: true lets anyone on the internet call "
        "GetId and GetCredentialsForIdentity without signing in and receive AWS credentials "
        "for the pool's unauthenticated role: every permission of that role is public. Use "
        "it only for a role that allows nothing but what anonymous visitors may do."
    ),
    remediation=(
        "```yaml\nAppIdentities:\n  Type: AWS::Cognito::IdentityPool\n  Properties:\n"
        "    AllowUnauthenticatedIdentities: false\n    CognitoIdentityProviders:\n"
        "      - ClientId: !Ref AppClient\n        ProviderName: !GetAtt UserPool.ProviderName\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/cognito/latest/developerguide/identity-pools.html",
        "https://docs.aws.amazon.com/cognito/latest/developerguide/iam-roles.html",
    ),
)
def identity_pool_guests(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        "AWS::Cognito::IdentityPool",
        disabled,
        "AllowUnauthenticatedIdentities",
        what="anyone obtains the unauthenticated role's credentials",
    )


@rule(
    id="CF-STACK-002",
    artifact_type="cloudformation",
    title="Nested stack without event notifications",
    severity="low",
    resource_types=("AWS::CloudFormation::Stack",),
    description=(
        "An AWS::CloudFormation::Stack without NotificationARNs sends its stack events "
        "(creations, updates, deletions, rollbacks) nowhere: a change made to the nested "
        "stack outside the normal pipeline, or a failed update that rolled back, is noticed "
        "only by whoever looks at the console."
    ),
    remediation=(
        "```yaml\nNetworkStack:\n  Type: AWS::CloudFormation::Stack\n  Properties:\n"
        "    TemplateURL: https://s3.amazonaws.com/templates/network.yaml\n"
        "    NotificationARNs: [!Ref StackEventsTopic]\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-stack.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-nested-stacks.html",
    ),
)
def nested_stack_without_notifications(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        "AWS::CloudFormation::Stack",
        present,
        "NotificationARNs",
        what="its stack events are not published",
    )
