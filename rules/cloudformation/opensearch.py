"""OpenSearch Service (and legacy Elasticsearch) domain rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Resource, Template
from rules.cloudformation._helpers import (
    MISSING,
    describe,
    enabled,
    present,
    require_true,
    truthy,
)
from rules.cloudformation.messaging import public_statement

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_DOMAINS = ("AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain")
_MODERN_TLS = re.compile(r"^Policy-Min-TLS-1-[23]-")


def _controls(number: int) -> tuple[str, str]:
    return (
        f"{_HUB}/opensearch-controls.html#opensearch-{number}",
        f"{_HUB}/es-controls.html#es-{number}",
    )


@rule(
    id="CF-ES-001",
    controls=("fsbp Opensearch.1", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="OpenSearch domain not encrypted at rest",
    severity="medium",
    resource_types=("AWS::Elasticsearch::Domain", "AWS::OpenSearchService::Domain"),
    description=(
        "Without encryption at rest, the indexes, automated snapshots, logs and swap of the "
        "domain's nodes are stored unencrypted; search clusters tend to hold copies of the "
        "most sensitive application data. It can only be switched on for existing domains "
        "of recent engine versions."
    ),
    remediation=(
        "```yaml\nEncryptionAtRestOptions:\n  Enabled: true\n"
        "  KmsKeyId: !Ref SearchKey   # optional: your own key\n```"
    ),
    references=(
        *_controls(1),
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/encryption-at-rest.html",
    ),
)
def not_encrypted_at_rest(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_DOMAINS):
        hit = require_true(
            tpl, res, "EncryptionAtRestOptions", "Enabled", what="encryption at rest"
        )
        if hit:
            yield hit


@rule(
    id="CF-ES-002",
    controls=("fsbp Opensearch.3", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="OpenSearch node-to-node encryption disabled",
    severity="medium",
    resource_types=("AWS::Elasticsearch::Domain", "AWS::OpenSearchService::Domain"),
    description=(
        "Without node-to-node encryption, documents, queries and results travel in clear "
        "between the nodes of the domain inside the VPC, where any compromised host or "
        "misrouted mirror on the network can read them."
    ),
    remediation="```yaml\nNodeToNodeEncryptionOptions:\n  Enabled: true\n```",
    references=(
        *_controls(3),
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/ntn.html",
    ),
)
def node_to_node_disabled(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_DOMAINS):
        hit = require_true(
            tpl, res, "NodeToNodeEncryptionOptions", "Enabled", what="node-to-node encryption"
        )
        if hit:
            yield hit


@rule(
    id="CF-ES-003",
    controls=("fsbp Opensearch.8", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="OpenSearch domain does not enforce HTTPS",
    severity="medium",
    resource_types=("AWS::Elasticsearch::Domain", "AWS::OpenSearchService::Domain"),
    description=(
        "Unless EnforceHTTPS is true, the domain endpoint also answers plain HTTP, so "
        "credentials, signed requests and search results can be read or replayed by anyone "
        "on the network path."
    ),
    remediation=(
        "```yaml\nDomainEndpointOptions:\n  EnforceHTTPS: true\n"
        "  TLSSecurityPolicy: Policy-Min-TLS-1-2-PFS-2023-10\n```"
    ),
    references=(
        *_controls(8),
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/infrastructure-security.html",
    ),
)
def https_not_enforced(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_DOMAINS):
        hit = require_true(
            tpl, res, "DomainEndpointOptions", "EnforceHTTPS", what="HTTPS enforcement"
        )
        if hit:
            yield hit


@rule(
    id="CF-ES-004",
    controls=("fsbp Opensearch.8", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="OpenSearch domain TLS policy allows TLS below 1.2",
    severity="medium",
    resource_types=("AWS::Elasticsearch::Domain", "AWS::OpenSearchService::Domain"),
    description=(
        "The default TLS security policy of a domain, Policy-Min-TLS-1-0-2019-07, still "
        "accepts TLS 1.0 and 1.1, so clients can be downgraded to deprecated protocols and "
        "cipher suites."
    ),
    remediation=(
        "```yaml\nDomainEndpointOptions:\n  EnforceHTTPS: true\n"
        "  TLSSecurityPolicy: Policy-Min-TLS-1-2-PFS-2023-10\n```"
    ),
    references=(
        *_controls(8),
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/infrastructure-security.html",
    ),
)
def outdated_tls_policy(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_DOMAINS):
        path = ("DomainEndpointOptions", "TLSSecurityPolicy")
        value = res.prop(*path, default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "TLSSecurityPolicy is not set, so the default Policy-Min-TLS-1-0-2019-07 applies",
                line=res.prop_line(*path),
                resource=res.logical_id,
            )
            continue
        values = tpl.possible_values(value)
        old = [
            "removed (Policy-Min-TLS-1-0-2019-07)" if v is NO_VALUE else v
            for v in values
            if v is NO_VALUE or (isinstance(v, str) and not _MODERN_TLS.match(v.strip()))
        ]
        if old:
            yield Hit(
                f"TLSSecurityPolicy can be {old[0]}, which accepts TLS below 1.2",
                line=res.prop_line(*path),
                resource=res.logical_id,
            )
        elif any(not isinstance(v, str) for v in values):
            yield Hit(
                f"TLSSecurityPolicy comes from {describe(value)}, which cannot be resolved from "
                "the template: make sure it requires TLS 1.2",
                line=res.prop_line(*path),
                resource=res.logical_id,
            )


@rule(
    id="CF-ES-005",
    controls=("fsbp Opensearch.7",),
    artifact_type="cloudformation",
    title="OpenSearch fine-grained access control disabled",
    severity="medium",
    resource_types=("AWS::Elasticsearch::Domain", "AWS::OpenSearchService::Domain"),
    description=(
        "Without fine-grained access control, anyone the domain access policy lets in can "
        "read and write every index: there are no roles, no index-, document- or field-level "
        "permissions, and no audit log of who queried what."
    ),
    remediation=(
        "```yaml\nAdvancedSecurityOptions:\n  Enabled: true\n  InternalUserDatabaseEnabled: false\n"
        "  MasterUserOptions:\n    MasterUserARN: !GetAtt SearchAdminRole.Arn\n```\n"
        "(fine-grained access control also requires HTTPS, node-to-node encryption and "
        "encryption at rest)."
    ),
    references=(
        f"{_HUB}/opensearch-controls.html#opensearch-7",
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/fgac.html",
    ),
)
def fine_grained_access_disabled(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_DOMAINS):
        hit = require_true(
            tpl, res, "AdvancedSecurityOptions", "Enabled", what="fine-grained access control"
        )
        if hit:
            yield hit


def _in_vpc(tpl: Template, value: object) -> bool:
    if not isinstance(value, dict) or "SubnetIds" not in value:
        return False
    subnets = value["SubnetIds"]
    if isinstance(subnets, list):
        return bool(subnets)
    return all(v is not NO_VALUE and v != "" for v in tpl.possible_values(subnets))


@rule(
    id="CF-ES-006",
    controls=("fsbp Opensearch.2", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="OpenSearch domain open to the internet",
    severity="critical",
    resource_types=("AWS::Elasticsearch::Domain", "AWS::OpenSearchService::Domain"),
    description=(
        "A domain outside a VPC has a public endpoint. When its access policy allows "
        'Principal "*" without a Condition (such as a source IP range) and fine-grained '
        "access control is off, anyone on the internet can search, download and delete its "
        "indexes: a classic source of large data leaks."
    ),
    remediation=(
        "Place the domain in a VPC, or restrict the policy and turn on fine-grained access "
        "control:\n"
        "```yaml\nVPCOptions:\n  SubnetIds: [!Ref PrivateSubnetA]\n"
        "  SecurityGroupIds: [!Ref SearchSecurityGroup]\nAccessPolicies:\n  Statement:\n"
        "    - Effect: Allow\n      Principal:\n        AWS: !GetAtt SearchClientRole.Arn\n"
        "      Action: es:ESHttp*\n      Resource: !Sub arn:aws:es:${AWS::Region}:"
        "${AWS::AccountId}:domain/search/*\n```"
    ),
    references=(
        *_controls(2),
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/ac.html",
    ),
)
def open_to_internet(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_DOMAINS):
        if _in_vpc(tpl, res.prop("VPCOptions")):
            continue
        fgac = res.prop("AdvancedSecurityOptions", "Enabled", default=MISSING)
        if fgac is not MISSING and all(truthy(v) is True for v in tpl.possible_values(fgac)):
            continue  # requests must authenticate against fine-grained access control
        found = public_statement(tpl, res, "AccessPolicies")
        if found:
            yield Hit(
                "the domain has a public endpoint and its access policy allows anyone "
                "without a Condition",
                line=found[1],
                resource=res.logical_id,
            )


def _log_hit(tpl: Template, res: Resource, kind: str, what: str) -> Hit | None:
    """A hit unless LogPublishingOptions.<kind> is enabled with a log group."""
    options = ("LogPublishingOptions", kind)
    hit = enabled(tpl, res, *options, "Enabled", what=what, label=f"{kind}.Enabled")
    if hit:
        return hit
    return present(
        tpl,
        res,
        *options,
        "CloudWatchLogsLogGroupArn",
        what=f"{kind} go nowhere",
        label=f"{kind}.CloudWatchLogsLogGroupArn",
    )


@rule(
    id="CF-ES-008",
    controls=(
        "fsbp Opensearch.4",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="OpenSearch domain does not publish error logs",
    severity="medium",
    resource_types=("AWS::Elasticsearch::Domain", "AWS::OpenSearchService::Domain"),
    description=(
        "Unless LogPublishingOptions.ES_APPLICATION_LOGS is enabled with a CloudWatch Logs "
        "group, a domain's errors and warnings (failed shard allocations, rejected requests, "
        "authentication failures of the security plugin) are not kept anywhere you can read "
        "them. Relates to AWS FSBP Opensearch.4."
    ),
    remediation=(
        "```yaml\nLogPublishingOptions:\n  ES_APPLICATION_LOGS:\n    Enabled: true\n"
        "    CloudWatchLogsLogGroupArn: !GetAtt SearchLogs.Arn\n```\n(the log group needs a "
        "resource policy letting es.amazonaws.com write to it)"
    ),
    references=(
        *_controls(4),
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/createdomain-configure-slow-logs.html",
    ),
)
def error_logs_off(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_DOMAINS):
        hit = _log_hit(tpl, res, "ES_APPLICATION_LOGS", "error logging")
        if hit:
            yield hit


@rule(
    id="CF-ES-009",
    controls=(
        "fsbp Opensearch.5",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="OpenSearch domain does not publish audit logs",
    severity="medium",
    resource_types=("AWS::Elasticsearch::Domain", "AWS::OpenSearchService::Domain"),
    description=(
        "With fine-grained access control on, AUDIT_LOGS record who signed in, who was "
        "denied, and which indexes each user read or changed. Without them, abuse of a "
        "search domain (bulk reads of personal data, privilege changes) leaves no trace. "
        "Domains without fine-grained access control are reported by CF-ES-005 instead. "
        "Relates to AWS FSBP Opensearch.5."
    ),
    remediation=(
        "```yaml\nLogPublishingOptions:\n  AUDIT_LOGS:\n    Enabled: true\n"
        "    CloudWatchLogsLogGroupArn: !GetAtt SearchAuditLogs.Arn\n```"
    ),
    references=(
        *_controls(5),
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/audit-logs.html",
    ),
)
def audit_logs_off(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(*_DOMAINS):
        fgac = tpl.possible_values(res.prop("AdvancedSecurityOptions", "Enabled"))
        if not any(truthy(v) is True for v in fgac):
            continue
        hit = _log_hit(tpl, res, "AUDIT_LOGS", "audit logging")
        if hit:
            yield hit
