"""CloudFront distribution rules: viewer and origin encryption, WAF and access logs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Resource, Template
from rules.cloudformation._helpers import MISSING, as_list, describe, refers_to

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_DISTRIBUTION = "AWS::CloudFront::Distribution"
_CONFIG = "DistributionConfig"
_MODERN_VIEWER_TLS = re.compile(r"^TLSv1\.[23]_")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _unset(value: Any) -> str:
    """How an absent value is absent, for messages."""
    return "is not set" if value is MISSING or value is None else "can be empty or removed"


def _absent(tpl: Template, value: Any) -> bool:
    """Missing, empty or removed in some case (an unresolvable expression names something)."""
    if value is MISSING or value is None or value == "":
        return True
    return any(v is NO_VALUE or v == "" or v is None for v in tpl.possible_values(value))


def _behaviors(res: Resource) -> Iterator[tuple[dict, tuple[Any, ...], str]]:
    default = res.prop(_CONFIG, "DefaultCacheBehavior")
    if isinstance(default, dict):
        yield default, (_CONFIG, "DefaultCacheBehavior"), "default behavior"
    for index, item in enumerate(as_list(res.prop(_CONFIG, "CacheBehaviors"))):
        if isinstance(item, dict):
            pattern = item.get("PathPattern")
            name = f"behavior {pattern}" if isinstance(pattern, str) else f"behavior #{index + 1}"
            yield item, (_CONFIG, "CacheBehaviors", index), name


def _custom_origins(res: Resource) -> Iterator[tuple[dict, tuple[Any, ...], str]]:
    for index, origin in enumerate(as_list(res.prop(_CONFIG, "Origins"))):
        if isinstance(origin, dict) and isinstance(origin.get("CustomOriginConfig"), dict):
            origin_id = origin.get("Id")
            name = origin_id if isinstance(origin_id, str) else f"#{index + 1}"
            yield (
                origin["CustomOriginConfig"],
                (_CONFIG, "Origins", index, "CustomOriginConfig"),
                name,
            )


@rule(
    id="CF-CFRONT-001",
    artifact_type="cloudformation",
    title="CloudFront behavior allows unencrypted HTTP",
    severity="medium",
    description=(
        "A cache behavior with ViewerProtocolPolicy allow-all serves content over plain HTTP, "
        "so responses, cookies and authorization headers can be read or altered between the "
        "viewer and the edge."
    ),
    remediation=(
        "```yaml\nDefaultCacheBehavior:\n  TargetOriginId: web\n"
        "  ViewerProtocolPolicy: redirect-to-https   # or https-only\n```"
    ),
    references=(
        f"{_HUB}/cloudfront-controls.html#cloudfront-3",
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-https-viewers-to-cloudfront.html",
    ),
)
def viewer_allows_http(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_DISTRIBUTION):
        open_to_http: list[str] = []
        unknown: list[str] = []
        first_line = None
        for behavior, path, name in _behaviors(res):
            if "ViewerProtocolPolicy" not in behavior:
                continue
            values = [_text(v) for v in tpl.possible_values(behavior["ViewerProtocolPolicy"])]
            if "allow-all" in values:
                open_to_http.append(name)
            elif any(v not in ("redirect-to-https", "https-only") for v in values):
                unknown.append(name)
            else:
                continue
            first_line = first_line or res.prop_line(*path, "ViewerProtocolPolicy")
        if open_to_http:
            yield Hit(
                f"ViewerProtocolPolicy is allow-all on the {', '.join(open_to_http)}",
                line=first_line,
                resource=res.logical_id,
            )
        elif unknown:
            yield Hit(
                f"ViewerProtocolPolicy of the {', '.join(unknown)} cannot be resolved from the "
                "template: make sure it is redirect-to-https or https-only",
                line=first_line,
                resource=res.logical_id,
            )


@rule(
    id="CF-CFRONT-002",
    artifact_type="cloudformation",
    title="CloudFront viewer TLS policy allows TLS below 1.2",
    severity="medium",
    description=(
        "With a custom certificate, the viewer security policy decides which protocols "
        "viewers may negotiate. The default (TLSv1) and TLSv1_2016 / TLSv1.1_2016 accept "
        "TLS 1.0 or 1.1, which are deprecated and expose viewers to downgrade attacks."
    ),
    remediation=(
        "```yaml\nViewerCertificate:\n  AcmCertificateArn: !Ref Certificate\n"
        "  SslSupportMethod: sni-only\n  MinimumProtocolVersion: TLSv1.2_2021\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html",
    ),
)
def viewer_tls_outdated(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_DISTRIBUTION):
        certificate = res.prop(_CONFIG, "ViewerCertificate")
        if not isinstance(certificate, dict):
            continue
        if not any(key in certificate for key in ("AcmCertificateArn", "IamCertificateId")):
            continue  # the *.cloudfront.net certificate: the policy cannot be chosen
        path = (_CONFIG, "ViewerCertificate", "MinimumProtocolVersion")
        value = res.prop(*path, default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "MinimumProtocolVersion is not set, so viewers may use TLS 1.0",
                line=res.prop_line(_CONFIG, "ViewerCertificate"),
                resource=res.logical_id,
            )
            continue
        values = tpl.possible_values(value)
        old = [v for v in values if isinstance(v, str) and not _MODERN_VIEWER_TLS.match(v.strip())]
        if old or NO_VALUE in values:
            shown = old[0] if old else "removed (TLSv1)"
            yield Hit(
                f"MinimumProtocolVersion can be {shown}, which accepts TLS below 1.2",
                line=res.prop_line(*path),
                resource=res.logical_id,
            )
        elif any(not isinstance(v, str) for v in values):
            yield Hit(
                f"MinimumProtocolVersion comes from {describe(value)}, which cannot be resolved "
                "from the template: make sure it is TLSv1.2_2021 or newer",
                line=res.prop_line(*path),
                resource=res.logical_id,
            )


@rule(
    id="CF-CFRONT-003",
    artifact_type="cloudformation",
    title="CloudFront distribution without AWS WAF",
    severity="low",
    description=(
        "A distribution without a web ACL passes every request to the origin: no managed "
        "rules against common exploits, bad bots or known malicious addresses, and no rate "
        "limiting at the edge."
    ),
    remediation=(
        "Associate a web ACL created in us-east-1 with scope CLOUDFRONT:\n"
        "```yaml\nDistributionConfig:\n  WebACLId: !GetAtt EdgeWebAcl.Arn\n```"
    ),
    references=(
        f"{_HUB}/cloudfront-controls.html#cloudfront-6",
        "https://docs.aws.amazon.com/waf/latest/developerguide/cloudfront-features.html",
    ),
)
def distribution_without_waf(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_DISTRIBUTION):
        value = res.prop(_CONFIG, "WebACLId", default=MISSING)
        if _absent(tpl, value):
            yield Hit(
                f"WebACLId {_unset(value)}, so no web ACL filters requests",
                line=res.prop_line(_CONFIG, "WebACLId") if value is not MISSING else res.line,
                resource=res.logical_id,
            )


@rule(
    id="CF-CFRONT-004",
    artifact_type="cloudformation",
    title="CloudFront distribution without access logging",
    severity="low",
    description=(
        "Without standard logging, the distribution keeps no per-request record (viewer "
        "address, path, status, TLS details), which is what an investigation of scraping, "
        "credential stuffing or a leaked URL relies on."
    ),
    remediation=(
        "```yaml\nDistributionConfig:\n  Logging:\n"
        "    Bucket: !GetAtt CdnLogsBucket.RegionalDomainName\n    Prefix: cdn/\n```\n"
        "or deliver logs with an `AWS::Logs::DeliverySource` for the distribution."
    ),
    references=(
        f"{_HUB}/cloudfront-controls.html#cloudfront-5",
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/AccessLogs.html",
    ),
)
def distribution_without_logging(tpl: Template) -> Iterator[Hit]:
    sources = [s.prop("ResourceArn") for s in tpl.of_type("AWS::Logs::DeliverySource")]
    for res in tpl.of_type(_DISTRIBUTION):
        if any(refers_to(arn, res.logical_id) for arn in sources):
            continue
        bucket = res.prop(_CONFIG, "Logging", "Bucket", default=MISSING)
        if _absent(tpl, bucket):
            yield Hit(
                f"Logging.Bucket {_unset(bucket)}, so the distribution may write no access logs",
                line=res.prop_line(_CONFIG, "Logging", "Bucket")
                if bucket is not MISSING
                else res.line,
                resource=res.logical_id,
            )


@rule(
    id="CF-CFRONT-005",
    artifact_type="cloudformation",
    title="CloudFront sends traffic to custom origins over HTTP",
    severity="medium",
    description=(
        "With OriginProtocolPolicy http-only, CloudFront fetches from the origin in clear "
        "across the internet, so viewers get HTTPS to the edge while their requests, cookies "
        "and the responses travel unencrypted on the longer leg to the origin."
    ),
    remediation=(
        "```yaml\nCustomOriginConfig:\n  OriginProtocolPolicy: https-only\n"
        "  OriginSSLProtocols: [TLSv1.2]\n```"
    ),
    references=(
        f"{_HUB}/cloudfront-controls.html#cloudfront-9",
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-https-cloudfront-to-custom-origin.html",
    ),
)
def origin_over_http(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_DISTRIBUTION):
        plain: list[str] = []
        unknown: list[str] = []
        first_line = None
        for config, path, name in _custom_origins(res):
            if "OriginProtocolPolicy" not in config:
                continue
            values = [_text(v) for v in tpl.possible_values(config["OriginProtocolPolicy"])]
            if "http-only" in values:
                plain.append(name)
            elif any(v not in ("https-only", "match-viewer") for v in values):
                unknown.append(name)
            else:
                continue
            first_line = first_line or res.prop_line(*path, "OriginProtocolPolicy")
        if plain:
            yield Hit(
                f"origin(s) {', '.join(plain)} are reached with OriginProtocolPolicy http-only",
                line=first_line,
                resource=res.logical_id,
            )
        elif unknown:
            yield Hit(
                f"OriginProtocolPolicy of origin(s) {', '.join(unknown)} cannot be resolved "
                "from the template: make sure it is https-only",
                line=first_line,
                resource=res.logical_id,
            )


@rule(
    id="CF-CFRONT-006",
    artifact_type="cloudformation",
    title="CloudFront custom origin allows SSLv3",
    severity="medium",
    description=(
        "Listing SSLv3 in OriginSSLProtocols lets CloudFront fall back to a protocol broken "
        "since POODLE (2014) when talking to the origin, so an attacker on that path can "
        "force the downgrade and decrypt the traffic."
    ),
    remediation=(
        "```yaml\nCustomOriginConfig:\n  OriginProtocolPolicy: https-only\n"
        "  OriginSSLProtocols: [TLSv1.2]\n```"
    ),
    references=(
        f"{_HUB}/cloudfront-controls.html#cloudfront-10",
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-ciphers-cloudfront-to-origin.html",
    ),
)
def origin_allows_sslv3(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_DISTRIBUTION):
        weak: list[str] = []
        first_line = None
        for config, path, name in _custom_origins(res):
            protocols = config.get("OriginSSLProtocols")
            values = [
                v for item in as_list(protocols) for v in tpl.possible_values(item)
            ] + tpl.possible_values(protocols)
            names = {p.strip() for v in values if isinstance(v, str) for p in v.split(",")}
            if "SSLv3" in names:
                weak.append(name)
                first_line = first_line or res.prop_line(*path, "OriginSSLProtocols")
        if weak:
            yield Hit(
                f"origin(s) {', '.join(weak)} accept SSLv3",
                line=first_line,
                resource=res.logical_id,
            )
