"""AWS AppSync rules: the API cache's encryption and field-level logging."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation._helpers import enabled, one_of

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide/appsync-controls.html"


@rule(
    id="CF-APPSYNC-001",
    controls=("fsbp AppSync.1", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="AppSync API cache not encrypted",
    severity="medium",
    resource_types=("AWS::AppSync::ApiCache",),
    description=(
        "An AWS::AppSync::ApiCache keeps resolver results (the data clients asked for) in a "
        "managed cache. AtRestEncryptionEnabled and TransitEncryptionEnabled are false "
        "unless set, so cached responses sit on disk and travel between the API and the "
        "cache unencrypted; neither can be changed without recreating the cache. Relates to "
        "AWS FSBP AppSync.1 and AppSync.6."
    ),
    remediation=(
        "```yaml\nApiCache:\n  Type: AWS::AppSync::ApiCache\n  Properties:\n"
        "    ApiId: !GetAtt Api.ApiId\n    Type: SMALL\n    Ttl: 300\n"
        "    ApiCachingBehavior: PER_RESOLVER_CACHING\n    AtRestEncryptionEnabled: true\n"
        "    TransitEncryptionEnabled: true\n```"
    ),
    references=(
        f"{_HUB}#appsync-1",
        "https://docs.aws.amazon.com/appsync/latest/devguide/enabling-caching.html",
    ),
)
def cache_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::AppSync::ApiCache"):
        hit = enabled(
            tpl, res, "AtRestEncryptionEnabled", what="encryption of cached data at rest"
        ) or enabled(tpl, res, "TransitEncryptionEnabled", what="encryption in transit")
        if hit:
            yield hit


@rule(
    id="CF-APPSYNC-002",
    controls=(
        "fsbp AppSync.2",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="AppSync GraphQL API without field-level logs",
    severity="low",
    resource_types=("AWS::AppSync::GraphQLApi",),
    description=(
        "Without LogConfig (or with FieldLogLevel NONE), a GraphQL API sends no resolver "
        "logs to CloudWatch: which fields were queried, by which identity, and which "
        "resolvers failed cannot be reconstructed after abuse such as scraping through "
        "nested queries. Relates to AWS FSBP AppSync.2."
    ),
    remediation=(
        "```yaml\nApi:\n  Type: AWS::AppSync::GraphQLApi\n  Properties:\n"
        "    Name: orders\n    AuthenticationType: AMAZON_COGNITO_USER_POOLS\n    LogConfig:\n"
        "      FieldLogLevel: ERROR\n      CloudWatchLogsRoleArn: !GetAtt AppSyncLogsRole.Arn\n```"
    ),
    references=(
        f"{_HUB}#appsync-2",
        "https://docs.aws.amazon.com/appsync/latest/devguide/monitoring.html",
    ),
)
def api_without_field_logs(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::AppSync::GraphQLApi"):
        hit = one_of(
            tpl,
            res,
            "LogConfig",
            "FieldLogLevel",
            good=("ERROR", "INFO", "DEBUG", "ALL"),
            what="resolver activity is not logged",
        )
        if hit:
            yield hit
