"""Route 53 and ACM rules: DNS query logs and wildcard certificates."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation._helpers import as_list, present


@rule(
    id="CF-R53-001",
    controls=("nist-800-53-r5 AU-2", "nist-800-53-r5 AU-12", "pci-dss-4.0 10.2.1"),
    artifact_type="cloudformation",
    title="Route 53 public hosted zone without query logging",
    severity="low",
    resource_types=("AWS::Route53::HostedZone",),
    description=(
        "Without QueryLoggingConfig, the DNS queries Route 53 answers for a public zone are "
        "not logged: subdomain enumeration, DNS tunnelling and lookups of names that should "
        "not exist (a sign of a dangling or hijacked record) go unseen. Private zones log "
        "through Resolver query logging and are not checked."
    ),
    remediation=(
        "```yaml\nPublicZone:\n  Type: AWS::Route53::HostedZone\n  Properties:\n"
        "    Name: example.com\n    QueryLoggingConfig:\n"
        "      CloudWatchLogsLogGroupArn: !GetAtt DnsQueryLogs.Arn   # in us-east-1\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/query-logs.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-route53-hostedzone.html",
    ),
)
def zone_without_query_logs(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Route53::HostedZone"):
        if as_list(res.prop("VPCs")):
            continue  # a private zone
        hit = present(
            tpl,
            res,
            "QueryLoggingConfig",
            "CloudWatchLogsLogGroupArn",
            what="DNS queries for the zone are not logged",
            label="QueryLoggingConfig",
        )
        if hit:
            yield hit


@rule(
    id="CF-ACM-001",
    artifact_type="cloudformation",
    title="ACM certificate for a wildcard domain",
    severity="low",
    resource_types=("AWS::CertificateManager::Certificate",),
    description=(
        "A certificate for `*.example.com` is valid for every subdomain: wherever its key is "
        "deployed, a compromise of that host lets an attacker impersonate all of them, "
        "including services the host never served. Certificates naming each service limit "
        "what one leaked key can impersonate."
    ),
    remediation=(
        "```yaml\nApiCertificate:\n  Type: AWS::CertificateManager::Certificate\n"
        "  Properties:\n    DomainName: api.example.com\n"
        "    SubjectAlternativeNames: [www.example.com]\n    ValidationMethod: DNS\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-certificatemanager-certificate.html",
    ),
)
def wildcard_certificate(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::CertificateManager::Certificate"):
        names = [("DomainName", res.prop("DomainName"))] + [
            ("SubjectAlternativeNames", name)
            for name in as_list(res.prop("SubjectAlternativeNames"))
        ]
        for key, name in names:
            values = tpl.possible_values(name)
            wild = next((v for v in values if isinstance(v, str) and v.startswith("*")), None)
            if wild:
                yield Hit(
                    f"{key} {wild!r} covers every subdomain",
                    res.prop_line(key),
                    res.logical_id,
                )
                break
