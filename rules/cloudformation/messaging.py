"""SQS queue and SNS topic rules: encryption at rest and public resource policies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, UNRESOLVED, LineDict, Resource, Template
from rules.cloudformation._helpers import MISSING, as_list, describe, truthy

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"


def _key_may_be_absent(tpl: Template, res: Resource, key: str) -> bool:
    """True when the key id property is missing, empty, or removed in some case."""
    value = res.prop(key, default=MISSING)
    if value is MISSING or value is None:
        return True
    # an unresolvable expression (GetAtt, Sub, parameter without default) names a key
    return any(v is NO_VALUE or v is None or v == "" for v in tpl.possible_values(value))


# -- resource policies shared by the rules of this module --------------------------------


def _document(value: Any) -> Any:
    if isinstance(value, str):  # some templates hold the policy as a JSON string
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _is_star(tpl: Template, value: Any) -> bool:
    values = (v for item in as_list(value) for v in tpl.possible_values(item))
    return any(isinstance(v, str) and v.strip() == "*" for v in values)


def _public_principal(tpl: Template, principal: Any) -> bool:
    if isinstance(principal, dict) and "AWS" in principal:
        return _is_star(tpl, principal["AWS"])
    return _is_star(tpl, principal)


def public_statement(tpl: Template, res: Resource, *path: Any) -> tuple[str, int | None] | None:
    """The first statement of the policy at `path` allowing anyone (`*`) without a Condition.

    Returns its principal key and line, or None. `NotPrincipal` with Allow grants everyone
    but the listed principals, so it counts as public too. Principals that cannot be
    resolved (`Fn::Sub` of an account ARN...) are identities, not wildcards.
    """
    documents = [_document(d) for d in tpl.possible_values(res.prop(*path))]  # maybe Fn::If
    statements = [
        variant
        for document in documents
        if isinstance(document, dict)
        for item in as_list(document.get("Statement"))
        for variant in tpl.possible_values(item)
        if isinstance(variant, dict)
    ]
    for statement in statements:
        effects = tpl.possible_values(statement.get("Effect"))
        if not any(isinstance(e, str) and e.lower() == "allow" for e in effects):
            continue
        condition = statement.get("Condition")
        if isinstance(condition, dict) and condition:
            continue
        for key in ("Principal", "NotPrincipal"):
            if key in statement and (
                key == "NotPrincipal" or _public_principal(tpl, statement[key])
            ):
                line = statement.lines.get(key) if isinstance(statement, LineDict) else None
                return key, line or res.prop_line(*path)
    return None


def public_message(key: str) -> str:
    if key == "NotPrincipal":
        return "a statement allows everyone except the NotPrincipal list, without a Condition"
    return 'a statement allows any principal ("*") without a Condition'


# -- SQS --------------------------------------------------------------------------------


@rule(
    id="CF-SQS-001",
    controls=("fsbp SQS.1", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="SQS queue not encrypted at rest",
    severity="medium",
    resource_types=("AWS::SQS::Queue",),
    description=(
        "A queue with neither a KMS key nor SQS-managed encryption keeps its messages in clear "
        "on the service's storage for as long as they are retained (up to 14 days). Messages "
        "often carry personal data, tokens or internal identifiers; explicitly switching "
        "SqsManagedSseEnabled off without naming a key removes the default protection."
    ),
    remediation=(
        "Use a KMS key (needed for key policies, audit and cross-account senders), or at least "
        "keep SQS-managed encryption on:\n"
        "```yaml\nJobsQueue:\n  Type: AWS::SQS::Queue\n  Properties:\n"
        "    KmsMasterKeyId: !Ref QueueKey        # or: SqsManagedSseEnabled: true\n"
        "    KmsDataKeyReusePeriodSeconds: 300\n```"
    ),
    references=(
        f"{_HUB}/sqs-controls.html#sqs-1",
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html",
    ),
)
def queue_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::SQS::Queue"):
        if not _key_may_be_absent(tpl, res, "KmsMasterKeyId"):
            continue
        sse = res.prop("SqsManagedSseEnabled", default=MISSING)
        if sse is MISSING or sse is None:
            continue  # new queues get SQS-managed encryption by default
        values = tpl.possible_values(sse)
        line = res.prop_line("SqsManagedSseEnabled")
        if any(truthy(v) is False for v in values):
            yield Hit(
                "SqsManagedSseEnabled can be false and no KmsMasterKeyId is set, so messages "
                "are stored unencrypted",
                line=line,
                resource=res.logical_id,
            )
        elif any(v is UNRESOLVED or (v is not NO_VALUE and truthy(v) is None) for v in values):
            yield Hit(
                f"SqsManagedSseEnabled comes from {describe(sse)}, which cannot be resolved "
                "from the template, and no KmsMasterKeyId is set: make sure the queue is encrypted",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-SQS-002",
    controls=("fsbp SQS.3", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="SQS queue policy allows anyone",
    severity="high",
    resource_types=("AWS::SQS::QueueInlinePolicy", "AWS::SQS::QueuePolicy"),
    description=(
        'A queue policy statement that allows Principal "*" (or {"AWS": "*"}) with no '
        "Condition lets any AWS account, or anonymous callers, use the granted actions: "
        "inject forged messages into the consumers, drain or delete legitimate ones, or read "
        "their contents."
    ),
    remediation=(
        "Name the principals, or keep the wildcard only with a condition that pins the source:\n"
        "```yaml\n- Effect: Allow\n  Principal:\n    Service: sns.amazonaws.com\n"
        "  Action: sqs:SendMessage\n  Resource: !GetAtt JobsQueue.Arn\n  Condition:\n"
        "    ArnEquals:\n      aws:SourceArn: !Ref JobsTopic\n```"
    ),
    references=(
        f"{_HUB}/sqs-controls.html#sqs-3",
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-security-best-practices.html",
    ),
)
def queue_policy_public(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::SQS::QueuePolicy", "AWS::SQS::QueueInlinePolicy"):
        found = public_statement(tpl, res, "PolicyDocument")
        if found:
            yield Hit(public_message(found[0]), line=found[1], resource=res.logical_id)


# -- SNS --------------------------------------------------------------------------------


@rule(
    id="CF-SNS-001",
    controls=("fsbp SNS.1", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="SNS topic not encrypted with KMS",
    severity="medium",
    resource_types=("AWS::SNS::Topic",),
    description=(
        "Without KmsMasterKeyId, SNS stores published messages unencrypted until they are "
        "delivered to every subscriber (and retried for hours when an endpoint is down). "
        "With a KMS key, reading the messages also requires permission on the key, which is "
        "logged in CloudTrail."
    ),
    remediation=(
        "```yaml\nAlertsTopic:\n  Type: AWS::SNS::Topic\n  Properties:\n"
        "    KmsMasterKeyId: !Ref TopicKey   # or alias/aws/sns for the AWS managed key\n```"
    ),
    references=(
        f"{_HUB}/sns-controls.html#sns-1",
        "https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html",
    ),
)
def topic_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::SNS::Topic"):
        if not _key_may_be_absent(tpl, res, "KmsMasterKeyId"):
            continue
        if "KmsMasterKeyId" in res.properties:
            yield Hit(
                "KmsMasterKeyId can be empty or removed, so the topic may be unencrypted",
                line=res.prop_line("KmsMasterKeyId"),
                resource=res.logical_id,
            )
        else:
            yield Hit("no KmsMasterKeyId is set", line=res.properties_line, resource=res.logical_id)


@rule(
    id="CF-SNS-002",
    controls=("fsbp SNS.4", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="SNS topic policy allows anyone",
    severity="high",
    resource_types=("AWS::SNS::TopicInlinePolicy", "AWS::SNS::TopicPolicy"),
    description=(
        'A topic policy statement that allows Principal "*" (or {"AWS": "*"}) with no '
        "Condition lets anyone publish to the topic (spam, forged alerts, cost) or, with "
        "sns:Subscribe, receive a copy of every message it carries."
    ),
    remediation=(
        "Restrict the statement to the publishing service and source:\n"
        "```yaml\n- Effect: Allow\n  Principal:\n    Service: events.amazonaws.com\n"
        "  Action: sns:Publish\n  Resource: !Ref AlertsTopic\n  Condition:\n"
        "    StringEquals:\n      aws:SourceAccount: !Ref AWS::AccountId\n```"
    ),
    references=(
        f"{_HUB}/sns-controls.html#sns-4",
        "https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html",
    ),
)
def topic_policy_public(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::SNS::TopicPolicy", "AWS::SNS::TopicInlinePolicy"):
        found = public_statement(tpl, res, "PolicyDocument")
        if found:
            yield Hit(public_message(found[0]), line=found[1], resource=res.logical_id)
