"""CloudFront distribution rules: viewer and origin encryption, WAF and access logs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Resource, Template, is_intrinsic
from rules.cloudformation._helpers import (
    MISSING,
    Possible,
    as_list,
    describe,
    item_line,
    possibilities,
    refers_to,
    when_text,
)

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
    controls=("fsbp CloudFront.3", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="CloudFront behavior allows unencrypted HTTP",
    severity="medium",
    resource_types=("AWS::CloudFront::Distribution",),
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
            first_line = (
                first_line
                or item_line(behavior, "ViewerProtocolPolicy")
                or res.prop_line(*path, "ViewerProtocolPolicy")
            )
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
    controls=("nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="CloudFront viewer TLS policy allows TLS below 1.2",
    severity="medium",
    resource_types=("AWS::CloudFront::Distribution",),
    description=(
        "The viewer security policy decides which protocols viewers may negotiate. With a "
        "custom certificate, the default (TLSv1) and TLSv1_2016 / TLSv1.1_2016 accept TLS 1.0 "
        "or 1.1, which are deprecated and expose viewers to downgrade attacks. A distribution "
        "on CloudFront's default *.cloudfront.net certificate always accepts TLS 1.0: its "
        "policy is fixed at TLSv1 whatever MinimumProtocolVersion says, so it is reported too "
        "(including when ViewerCertificate is absent or can be removed with Fn::If)."
    ),
    remediation=(
        "Serve the distribution on your own domain with an ACM certificate (in us-east-1) "
        "and a TLS 1.2 policy:\n"
        "```yaml\nAliases: [www.example.com]\nViewerCertificate:\n"
        "  AcmCertificateArn: !Ref Certificate\n"
        "  SslSupportMethod: sni-only\n  MinimumProtocolVersion: TLSv1.2_2021\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/secure-connections-supported-viewer-protocols-ciphers.html",
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-procedures.html",
    ),
)
def viewer_tls_outdated(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_DISTRIBUTION):
        hit = _viewer_tls_hit(tpl, res)
        if hit:
            yield hit


def _custom_certificate(certificate: dict) -> bool:
    return any(key in certificate for key in ("AcmCertificateArn", "IamCertificateId"))


def _viewer_tls_hit(tpl: Template, res: Resource) -> Hit | None:
    """The worst viewer TLS problem over every form ViewerCertificate may take."""
    certificate = res.prop(_CONFIG, "ViewerCertificate", default=MISSING)
    cert_line = res.prop_line(_CONFIG, "ViewerCertificate")
    cases = [Possible(MISSING)] if certificate is MISSING else possibilities(tpl, res, certificate)
    default_cases: list[Possible] = []
    unknown: Hit | None = None
    for case in cases:
        variant = case.value
        if variant is MISSING or variant is NO_VALUE or variant is None:
            default_cases.append(case)
            continue
        if not isinstance(variant, dict) or is_intrinsic(variant):
            unknown = unknown or Hit(
                f"ViewerCertificate comes from {describe(certificate)}, which cannot be "
                "resolved from the template: make sure viewers need TLS 1.2 or newer",
                line=cert_line,
                resource=res.logical_id,
            )
            continue
        if not _custom_certificate(variant):
            default_cases.append(case)
            if variant is certificate and "CloudFrontDefaultCertificate" in variant:
                cert_line = item_line(variant, "CloudFrontDefaultCertificate") or cert_line
            continue
        inline = variant is certificate  # its keys carry their own lines
        line = res.prop_line(_CONFIG, "ViewerCertificate", "MinimumProtocolVersion")
        line = line if inline else cert_line
        value = variant.get("MinimumProtocolVersion", MISSING)
        if value is MISSING or value is None:
            return Hit(
                f"MinimumProtocolVersion is not set{when_text([case])}, so viewers may use TLS 1.0",
                line=cert_line,
                resource=res.logical_id,
            )
        values = tpl.possible_values(value)
        old = [v for v in values if isinstance(v, str) and not _MODERN_VIEWER_TLS.match(v.strip())]
        if old or NO_VALUE in values:
            shown = old[0] if old else "removed (TLSv1)"
            return Hit(
                f"MinimumProtocolVersion can be {shown}{when_text([case])}, which accepts TLS "
                "below 1.2",
                line=line,
                resource=res.logical_id,
            )
        if any(not isinstance(v, str) for v in values):
            unknown = unknown or Hit(
                f"MinimumProtocolVersion comes from {describe(value)}, which cannot be resolved "
                "from the template: make sure it is TLSv1.2_2021 or newer",
                line=line,
                resource=res.logical_id,
            )
    if default_cases:
        if certificate is MISSING:
            message = (
                "the distribution has no ViewerCertificate, so it uses CloudFront's default "
                "certificate, "
            )
        else:
            message = (
                f"the distribution uses CloudFront's default certificate{when_text(default_cases)}"
                ", "
            )
        message += "whose security policy is fixed at TLSv1: viewers may use TLS 1.0"
        return Hit(message, line=cert_line, resource=res.logical_id)
    return unknown


@rule(
    id="CF-CFRONT-003",
    controls=("fsbp CloudFront.6", "nist-800-53-r5 SC-7", "pci-dss-4.0 6.4.2"),
    artifact_type="cloudformation",
    title="CloudFront distribution without AWS WAF",
    severity="low",
    resource_types=("AWS::CloudFront::Distribution",),
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
                line=res.prop_line(_CONFIG, "WebACLId"),
                resource=res.logical_id,
            )


@rule(
    id="CF-CFRONT-004",
    controls=(
        "fsbp CloudFront.5",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="CloudFront distribution without access logging",
    severity="low",
    resource_types=("AWS::CloudFront::Distribution", "AWS::Logs::DeliverySource"),
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
                line=res.prop_line(_CONFIG, "Logging", "Bucket"),
                resource=res.logical_id,
            )


@rule(
    id="CF-CFRONT-005",
    controls=("fsbp CloudFront.9", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="CloudFront sends traffic to custom origins over HTTP",
    severity="medium",
    resource_types=("AWS::CloudFront::Distribution",),
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
    controls=("fsbp CloudFront.10", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="CloudFront custom origin allows SSLv3",
    severity="medium",
    resource_types=("AWS::CloudFront::Distribution",),
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
