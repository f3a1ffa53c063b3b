"""Elastic Load Balancing rules: listeners, TLS policies and load balancer attributes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, UNRESOLVED, Resource, Template
from rules.cloudformation._helpers import MISSING, as_list, describe, item_line, refers_to, truthy

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_V2 = "AWS::ElasticLoadBalancingV2::LoadBalancer"
_CLASSIC = "AWS::ElasticLoadBalancing::LoadBalancer"
_LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
# predefined ELB policies that accept TLS 1.2 and newer only (TLS13-1-2-*, TLS13-1-3-*,
# TLS-1-2-*, FS-1-2-*, with their Res / Ext / FIPS / PQ variants)
_MODERN_ELB_POLICY = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)-")


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None


def _lb_type(tpl: Template, res: Resource) -> str | None:
    """`application`, `network` or `gateway` (None when it cannot be resolved)."""
    value = res.prop("Type", default="application")
    values = tpl.possible_values(value)
    if len(values) == 1 and isinstance(values[0], str):
        return values[0].strip().lower()
    return None


def _attribute(tpl: Template, res: Resource, key: str) -> tuple[list[Any], int | None]:
    """The possible values of a LoadBalancerAttributes entry, MISSING among them when the
    entry may be absent, and the line of its Value (the resource's line when absent)."""
    values: list[Any] = []
    line = None
    found = False
    for index, item in enumerate(as_list(res.prop("LoadBalancerAttributes"))):
        for variant in tpl.possible_values(item):  # list items may be wrapped in Fn::If
            if not isinstance(variant, dict) or variant.get("Key") != key:
                continue
            found = True
            if variant is item:
                line = res.prop_line("LoadBalancerAttributes", index, "Value")
            else:
                line = line or res.prop_line("LoadBalancerAttributes", index)
                if any(v is NO_VALUE for v in tpl.possible_values(item)):
                    values.append(MISSING)
            values.extend(tpl.possible_values(variant.get("Value")))
    if not found:
        return [MISSING], res.properties_line
    return values, line


def _attribute_hits(tpl: Template, res: Resource, key: str, what: str) -> Iterator[Hit]:
    """A hit unless the boolean attribute `key` is true in every case the template allows."""
    values, line = _attribute(tpl, res, key)
    if values == [MISSING]:
        yield Hit(f"{key} is not set, so {what} is off", line=line, resource=res.logical_id)
    elif any(v is MISSING or v is NO_VALUE or truthy(v) is False for v in values):
        yield Hit(f"{key} can be false, so {what} can be off", line=line, resource=res.logical_id)
    elif any(truthy(v) is None for v in values):
        yield Hit(
            f"{key} cannot be resolved from the template: make sure {what} is on",
            line=line,
            resource=res.logical_id,
        )


def _state(tpl: Template, value: Any) -> str:
    """`missing`, `false` (false in some case), `true` (in every case) or `unknown`."""
    if value is MISSING or value is None:
        return "missing"
    values = tpl.possible_values(value)
    if any(v is NO_VALUE or truthy(v) is False for v in values):
        return "false"
    if all(truthy(v) is True for v in values):
        return "true"
    return "unknown"


def _protocols(tpl: Template, res: Resource) -> list[Any]:
    return [_text(v).upper() if _text(v) else v for v in tpl.possible_values(res.prop("Protocol"))]


@rule(
    id="CF-ELB-001",
    controls=("fsbp ELB.1", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="HTTP listener does not redirect to HTTPS",
    severity="medium",
    resource_types=("AWS::ElasticLoadBalancingV2::Listener",),
    description=(
        "A load balancer listener that serves plain HTTP instead of redirecting to HTTPS lets "
        "session cookies, tokens and form data travel in clear, where anyone on the path "
        "(public Wi-Fi, a compromised router) can read or alter them."
    ),
    remediation=(
        "Keep port 80 only to redirect, and serve the application on an HTTPS listener:\n"
        "```yaml\nHttpListener:\n  Type: AWS::ElasticLoadBalancingV2::Listener\n"
        "  Properties:\n    LoadBalancerArn: !Ref WebLoadBalancer\n    Port: 80\n"
        "    Protocol: HTTP\n    DefaultActions:\n      - Type: redirect\n"
        "        RedirectConfig:\n          Protocol: HTTPS\n          Port: '443'\n"
        "          StatusCode: HTTP_301\n```"
    ),
    references=(
        f"{_HUB}/elb-controls.html#elb-1",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#redirect-actions",
    ),
)
def http_listener_without_redirect(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_LISTENER):
        protocols = _protocols(tpl, res)
        if "HTTP" not in protocols and UNRESOLVED not in protocols:
            continue
        if _redirects_to_https(tpl, res):
            continue
        line = res.prop_line("Protocol")
        if "HTTP" in protocols:
            yield Hit(
                "the listener serves plain HTTP without redirecting to HTTPS",
                line=line,
                resource=res.logical_id,
            )
        else:
            yield Hit(
                f"Protocol comes from {describe(res.prop('Protocol'))}, which cannot be "
                "resolved from the template, and the listener does not redirect to HTTPS",
                line=line,
                resource=res.logical_id,
            )


def _redirects_to_https(tpl: Template, res: Resource) -> bool:
    actions = [a for a in as_list(res.prop("DefaultActions")) if isinstance(a, dict)]
    if not actions:
        return False
    for action in actions:
        kinds = tpl.possible_values(action.get("Type"))
        if any(_text(k) is None or _text(k).lower() != "redirect" for k in kinds):
            return False
        config = action.get("RedirectConfig")
        protocol = config.get("Protocol") if isinstance(config, dict) else None
        if not all(_text(p) == "HTTPS" for p in tpl.possible_values(protocol)):
            return False
    return True


@rule(
    id="CF-ELB-002",
    controls=("fsbp ELB.17", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="Load balancer listener allows TLS older than 1.2",
    severity="medium",
    resource_types=("AWS::ElasticLoadBalancingV2::Listener",),
    description=(
        "HTTPS and TLS listeners without an SslPolicy get ELBSecurityPolicy-2016-08, which, "
        "like the other older predefined policies, still accepts TLS 1.0 and 1.1 and weak "
        "CBC/SHA-1 cipher suites. Clients can be downgraded to these protocols, which no "
        "longer meet PCI DSS or most compliance baselines."
    ),
    remediation=(
        "Pick a policy that accepts TLS 1.2 and 1.3 only:\n"
        "```yaml\nHttpsListener:\n  Type: AWS::ElasticLoadBalancingV2::Listener\n"
        "  Properties:\n    Protocol: HTTPS\n    Port: 443\n"
        "    SslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06\n    Certificates:\n"
        "      - CertificateArn: !Ref Certificate\n```"
    ),
    references=(
        f"{_HUB}/elb-controls.html#elb-17",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html",
    ),
)
def outdated_tls_policy(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_LISTENER):
        protocols = _protocols(tpl, res)
        if not any(p in ("HTTPS", "TLS") for p in protocols):
            continue
        policy = res.prop("SslPolicy", default=MISSING)
        if policy is MISSING or policy is None:
            yield Hit(
                "no SslPolicy is set, so the default ELBSecurityPolicy-2016-08 (TLS 1.0+) applies",
                line=res.properties_line,
                resource=res.logical_id,
            )
            continue
        values = tpl.possible_values(policy)
        line = res.prop_line("SslPolicy")
        old = [
            "removed (default ELBSecurityPolicy-2016-08)" if v is NO_VALUE else v
            for v in values
            if v is NO_VALUE or (isinstance(v, str) and not _MODERN_ELB_POLICY.match(v.strip()))
        ]
        if old:
            yield Hit(
                f"SslPolicy can be {old[0]}, which accepts protocols older than TLS 1.2",
                line=line,
                resource=res.logical_id,
            )
        elif any(not isinstance(v, str) for v in values):
            yield Hit(
                f"SslPolicy comes from {describe(policy)}, which cannot be resolved from the "
                "template: make sure it allows TLS 1.2 or newer only",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-ELB-003",
    controls=("fsbp ELB.5", "nist-800-53-r5 AU-2", "nist-800-53-r5 AU-12", "pci-dss-4.0 10.2.1"),
    artifact_type="cloudformation",
    title="Load balancer access logging disabled",
    severity="medium",
    resource_types=(
        "AWS::ElasticLoadBalancing::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ),
    description=(
        "Access logs are the only record of who called the application through the load "
        "balancer (client address, request, TLS version, response code). Without them, an "
        "attack, a data scrape or a misbehaving client cannot be investigated afterwards. "
        "Application and classic load balancers are checked, and network load balancers with "
        "a TLS listener in the template (they log TLS connections only)."
    ),
    remediation=(
        "```yaml\nLoadBalancerAttributes:\n  - Key: access_logs.s3.enabled\n    Value: 'true'\n"
        "  - Key: access_logs.s3.bucket\n    Value: !Ref AccessLogsBucket\n```\n"
        "For a Classic Load Balancer: `AccessLoggingPolicy: {Enabled: true, S3BucketName: ...}`."
    ),
    references=(
        f"{_HUB}/elb-controls.html#elb-5",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html",
    ),
)
def access_logs_disabled(tpl: Template) -> Iterator[Hit]:
    tls_balancers = _tls_listener_targets(tpl)
    for res in tpl.of_type(_V2, _CLASSIC):
        if res.type == _CLASSIC:
            enabled = res.prop("AccessLoggingPolicy", "Enabled", default=MISSING)
            state = _state(tpl, enabled)
            line = res.prop_line("AccessLoggingPolicy", "Enabled")
            if state == "missing":
                yield Hit(
                    "AccessLoggingPolicy.Enabled is not set, so access logging is off",
                    line=line,
                    resource=res.logical_id,
                )
            elif state == "false":
                yield Hit(
                    "AccessLoggingPolicy.Enabled can be false, so access logging can be off",
                    line=line,
                    resource=res.logical_id,
                )
            elif state == "unknown":
                yield Hit(
                    f"AccessLoggingPolicy.Enabled comes from {describe(enabled)}, which cannot "
                    "be resolved from the template: make sure access logging is on",
                    line=line,
                    resource=res.logical_id,
                )
        elif _lb_type(tpl, res) in ("application", None) or (
            _lb_type(tpl, res) == "network" and res.logical_id in tls_balancers
        ):
            yield from _attribute_hits(tpl, res, "access_logs.s3.enabled", "access logging")


def _tls_listener_targets(tpl: Template) -> set[str]:
    """Load balancers of the template that have (or may have) a TLS listener."""
    found = set()
    for res in tpl.of_type(_LISTENER):
        if "TLS" not in _protocols(tpl, res):
            continue
        target = res.prop("LoadBalancerArn")
        if isinstance(target, dict) and isinstance(target.get("Ref"), str):
            found.add(target["Ref"])
    return found


@rule(
    id="CF-ELB-004",
    controls=("fsbp ELB.4",),
    artifact_type="cloudformation",
    title="ALB does not drop invalid HTTP header fields",
    severity="medium",
    resource_types=("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    description=(
        "An Application Load Balancer forwards header fields with invalid names unless told "
        "to drop them. Back ends that parse headers differently from the load balancer can "
        "then be fed smuggled or spoofed headers (request smuggling, header injection)."
    ),
    remediation=(
        "```yaml\nLoadBalancerAttributes:\n"
        "  - Key: routing.http.drop_invalid_header_fields.enabled\n    Value: 'true'\n```"
    ),
    references=(
        f"{_HUB}/elb-controls.html#elb-4",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-attributes",
    ),
)
def invalid_headers_not_dropped(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_V2):
        if _lb_type(tpl, res) in ("application", None):
            yield from _attribute_hits(
                tpl,
                res,
                "routing.http.drop_invalid_header_fields.enabled",
                "dropping of invalid header fields",
            )


@rule(
    id="CF-ELB-005",
    controls=("fsbp ELB.6",),
    artifact_type="cloudformation",
    title="Load balancer deletion protection disabled",
    severity="low",
    resource_types=("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    description=(
        "Without deletion protection a load balancer can be deleted by one API call or a "
        "stack update that replaces it, taking every service behind it offline and "
        "releasing its DNS name."
    ),
    remediation=(
        "```yaml\nLoadBalancerAttributes:\n  - Key: deletion_protection.enabled\n"
        "    Value: 'true'\n```"
    ),
    references=(
        f"{_HUB}/elb-controls.html#elb-6",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#deletion-protection",
    ),
)
def deletion_protection_disabled(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_V2):
        yield from _attribute_hits(tpl, res, "deletion_protection.enabled", "deletion protection")


@rule(
    id="CF-ELB-006",
    controls=("fsbp ELB.3", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="Classic load balancer listener without TLS",
    severity="medium",
    resource_types=("AWS::ElasticLoadBalancing::LoadBalancer",),
    description=(
        "A Classic Load Balancer listener on HTTP, or on TCP port 80, carries the traffic "
        "between clients and the load balancer unencrypted. Classic listeners cannot redirect "
        "to HTTPS, so the plain endpoint stays usable by every client."
    ),
    remediation=(
        "Terminate TLS on the listener (or migrate to an ALB with an HTTP-to-HTTPS redirect):\n"
        "```yaml\nListeners:\n  - LoadBalancerPort: '443'\n    Protocol: HTTPS\n"
        "    InstancePort: '8080'\n    InstanceProtocol: HTTP\n"
        "    SSLCertificateId: !Ref Certificate\n```"
    ),
    references=(
        f"{_HUB}/elb-controls.html#elb-3",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-listener-config.html",
    ),
)
def classic_listener_without_tls(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_CLASSIC):
        plain: list[str] = []
        first_line = None
        for index, listener in enumerate(as_list(res.prop("Listeners"))):
            if not isinstance(listener, dict):
                continue
            protocols = [
                _text(v).upper() if _text(v) else v
                for v in tpl.possible_values(listener.get("Protocol"))
            ]
            ports = [str(v).strip() for v in tpl.possible_values(listener.get("LoadBalancerPort"))]
            port = "/".join(p for p in ports if p != "UNRESOLVED") or "?"
            if "HTTP" in protocols or ("TCP" in protocols and "80" in ports):
                plain.append(f"{'HTTP' if 'HTTP' in protocols else 'TCP'}:{port}")
            elif UNRESOLVED in protocols:
                plain.append(f"port {port} (protocol cannot be resolved from the template)")
            else:
                continue
            first_line = first_line or res.prop_line("Listeners", index, "Protocol")
        if plain:
            yield Hit(
                f"listener(s) {', '.join(plain)} accept unencrypted connections",
                line=first_line,
                resource=res.logical_id,
            )


@rule(
    id="CF-ELB-007",
    artifact_type="cloudformation",
    title="Load balancer is internet-facing",
    severity="info",
    resource_types=(
        "AWS::ElasticLoadBalancing::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ),
    description=(
        "An internet-facing load balancer has public addresses and accepts connections from "
        "anywhere its security groups and listeners allow. That is intended for public "
        "services; for internal ones, it is an exposure worth reviewing. When Scheme is not "
        "set, the load balancer is internet-facing."
    ),
    remediation=(
        "For services only used inside the VPC, make the load balancer internal:\n"
        "```yaml\nInternalLoadBalancer:\n  Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
        "  Properties:\n    Scheme: internal\n"
        "    Subnets: [!Ref PrivateSubnetA, !Ref PrivateSubnetB]\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-scheme",
    ),
)
def internet_facing(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_V2, _CLASSIC):
        if res.type == _V2 and _lb_type(tpl, res) == "gateway":
            continue
        scheme = res.prop("Scheme", default=MISSING)
        if scheme is MISSING or scheme is None:
            yield Hit(
                "Scheme is not set, so the load balancer is internet-facing",
                line=res.properties_line,
                resource=res.logical_id,
            )
            continue
        values = tpl.possible_values(scheme)
        if all(_text(v) == "internal" for v in values):
            continue
        public = any(v is NO_VALUE or _text(v) == "internet-facing" for v in values)
        yield Hit(
            "the load balancer can be internet-facing"
            if public
            else f"Scheme comes from {describe(scheme)}, which cannot be resolved from the "
            "template: the load balancer may be internet-facing",
            line=res.prop_line("Scheme"),
            resource=res.logical_id,
        )


_WEAK_PROTOCOLS = frozenset(
    {"protocol-sslv2", "protocol-sslv3", "protocol-tlsv1", "protocol-tlsv1.1"}
)
# cipher suites without encryption, authentication or with broken algorithms
_WEAK_CIPHER = re.compile(r"NULL|EXPORT|EXP-|DES|RC4|MD5|ANON|ADH|AECDH|PSK", re.IGNORECASE)
_MODERN_CLASSIC_POLICY = re.compile(r"^ELBSecurityPolicy-TLS-1-2-")


def _negotiation_problem(tpl: Template, name: str, value: Any) -> str | None:
    """Why an attribute of a classic SSLNegotiationPolicyType policy is weak, if it is."""
    key = name.strip()
    if key.lower() == "reference-security-policy":
        policies = [v for v in tpl.possible_values(value) if isinstance(v, str)]
        old = [p for p in policies if not _MODERN_CLASSIC_POLICY.match(p.strip())]
        return f"it refers to {old[0]}, which accepts TLS 1.0" if old else None
    if all(truthy(v) is False for v in tpl.possible_values(value)):
        return None  # switched off
    if key.lower() in _WEAK_PROTOCOLS:
        return f"it enables {key[len('Protocol-') :]}"
    if _WEAK_CIPHER.search(key):
        return f"it enables the weak cipher {key}"
    return None


@rule(
    id="CF-ELB-008",
    controls=("fsbp ELB.8", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="Classic load balancer negotiates weak protocols or ciphers",
    severity="medium",
    resource_types=("AWS::ElasticLoadBalancing::LoadBalancer",),
    description=(
        "A classic load balancer's SSLNegotiationPolicyType policy decides what HTTPS and SSL "
        "listeners accept. An attribute enabling SSLv2, SSLv3, TLS 1.0 or 1.1, or a cipher "
        "suite without encryption or authentication (NULL, anonymous), with export-grade or "
        "broken algorithms (DES, 3DES, RC4, MD5), or a Reference-Security-Policy older than "
        "ELBSecurityPolicy-TLS-1-2-2017-01, lets a network attacker downgrade or read the "
        "connections. Relates to AWS FSBP ELB.8."
    ),
    remediation=(
        "Refer to a predefined TLS 1.2 policy instead of listing attributes:\n```yaml\n"
        "Policies:\n  - PolicyName: tls12-only\n    PolicyType: SSLNegotiationPolicyType\n"
        "    Attributes:\n      - Name: Reference-Security-Policy\n"
        "        Value: ELBSecurityPolicy-TLS-1-2-2017-01\n```"
    ),
    references=(
        f"{_HUB}/elb-controls.html#elb-8",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-security-policy-table.html",
    ),
)
def classic_weak_negotiation(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_CLASSIC):
        for index, policy in enumerate(as_list(res.prop("Policies"))):
            if not isinstance(policy, dict):
                continue
            kinds = tpl.possible_values(policy.get("PolicyType"))
            if not any(_text(k) == "SSLNegotiationPolicyType" for k in kinds):
                continue
            for attribute in as_list(policy.get("Attributes")):
                if not isinstance(attribute, dict) or not isinstance(attribute.get("Name"), str):
                    continue
                problem = _negotiation_problem(tpl, attribute["Name"], attribute.get("Value"))
                if problem:
                    yield Hit(
                        f"policy {policy.get('PolicyName', index)!s}: {problem}",
                        item_line(attribute, "Name") or res.prop_line("Policies", index),
                        res.logical_id,
                    )


@rule(
    id="CF-ELB-009",
    controls=("nist-800-53-r5 SC-7", "pci-dss-4.0 6.4.2"),
    artifact_type="cloudformation",
    title="Internet-facing application load balancer without AWS WAF",
    severity="low",
    resource_types=(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::WAFRegional::WebACLAssociation",
        "AWS::WAFv2::WebACLAssociation",
    ),
    description=(
        "No AWS::WAFv2::WebACLAssociation (or WAF Classic regional association) in the "
        "template attaches a web ACL to this internet-facing application load balancer, so "
        "requests reach the application without filtering of injection attempts, known bad "
        "inputs, bots or request floods. Internal and network load balancers are not checked."
    ),
    remediation=(
        "```yaml\nWebAclAssociation:\n  Type: AWS::WAFv2::WebACLAssociation\n  Properties:\n"
        "    ResourceArn: !Ref PublicAlb\n    WebACLArn: !GetAtt RegionalWebAcl.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-associating-aws-resource.html",
        f"{_HUB}/elb-controls.html",
    ),
)
def alb_without_waf(tpl: Template) -> Iterator[Hit]:
    balancers = [
        res
        for res in tpl.of_type(_V2)
        if _lb_type(tpl, res) == "application" and _internet_facing(tpl, res)
    ]
    if not balancers:
        return
    targets = [
        assoc.prop("ResourceArn")
        for assoc in tpl.of_type(
            "AWS::WAFv2::WebACLAssociation", "AWS::WAFRegional::WebACLAssociation"
        )
    ]
    for res in balancers:
        if not any(refers_to(target, res.logical_id) for target in targets):
            yield Hit("no web ACL is associated with the load balancer", res.line, res.logical_id)


def _internet_facing(tpl: Template, res: Resource) -> bool:
    schemes = tpl.possible_values(res.prop("Scheme", default="internet-facing"))
    return any(_text(s) != "internal" for s in schemes)
