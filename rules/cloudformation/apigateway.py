"""API Gateway rules: stage logging, tracing, caching, client certificates and authorization."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, UNRESOLVED, Resource, Template
from rules.cloudformation._helpers import (
    MISSING,
    as_list,
    describe,
    each,
    item_line,
    none_of,
    truthy,
)

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_METHOD_VERBS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"})


def _stages(tpl: Template, *, sam: bool = True) -> Iterator[tuple[Resource, tuple[str, ...]]]:
    """REST API stages, with the property path that holds their settings.

    An `AWS::ApiGateway::Stage` (and the stage a SAM `AWS::Serverless::Api` creates, its
    `Globals.Api` applied) carries them at the top; an `AWS::ApiGateway::Deployment` with a
    StageName creates a stage configured by its StageDescription.
    """
    types = ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment")
    for res in tpl.of_type(*types, include_sam=sam):
        if res.type != "AWS::ApiGateway::Deployment":
            yield res, ()
        elif res.prop("StageName") not in (None, ""):
            yield res, ("StageDescription",)


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


def _may_be_true(tpl: Template, value: Any) -> bool:
    """True, or unknowable: the setting cannot be ruled out."""
    if value is MISSING or value is None:
        return False
    return any(
        truthy(v) is True or (v is not NO_VALUE and truthy(v) is None)
        for v in tpl.possible_values(value)
    )


def _unset(value: Any) -> str:
    """How an absent value is absent, for messages."""
    return "is not set" if value is MISSING or value is None else "can be empty or removed"


def _absent(tpl: Template, value: Any) -> bool:
    """Missing, empty or removed in some case (an unresolvable expression names something)."""
    if value is MISSING or value is None or value == "":
        return True
    return any(v is NO_VALUE or v == "" or v is None for v in tpl.possible_values(value))


@rule(
    id="CF-APIGW-001",
    controls=("nist-800-53-r5 AU-2", "nist-800-53-r5 AU-12", "pci-dss-4.0 10.2.1"),
    artifact_type="cloudformation",
    title="API Gateway REST stage without access logging",
    severity="medium",
    resource_types=("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"),
    description=(
        "Access logs record every call to the API (caller address, identity, route, status, "
        "latency). Without them there is no trail to investigate abuse, credential stuffing "
        "or data scraping through the API, and no input for alerting on it."
    ),
    remediation=(
        "```yaml\nProdStage:\n  Type: AWS::ApiGateway::Stage\n  Properties:\n"
        "    AccessLogSetting:\n      DestinationArn: !GetAtt ApiAccessLogs.Arn\n"
        "      Format: '$context.requestId $context.identity.sourceIp $context.httpMethod "
        "$context.resourcePath $context.status'\n```\n"
        "For a Deployment that creates its stage, put AccessLogSetting under StageDescription."
    ),
    references=(
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html",
        f"{_HUB}/apigateway-controls.html#apigateway-1",
    ),
)
def rest_stage_without_access_logs(tpl: Template) -> Iterator[Hit]:
    for res, base in _stages(tpl):
        destination = res.prop(*base, "AccessLogSetting", "DestinationArn", default=MISSING)
        if _absent(tpl, destination):
            where = ".".join((*base, "AccessLogSetting", "DestinationArn"))
            yield Hit(
                f"{where} {_unset(destination)}, so the stage may write no access logs",
                line=res.prop_line(*base, "AccessLogSetting", "DestinationArn"),
                resource=res.logical_id,
            )


@rule(
    id="CF-APIGW-002",
    controls=("fsbp APIGateway.3",),
    artifact_type="cloudformation",
    title="API Gateway REST stage without X-Ray tracing",
    severity="low",
    resource_types=("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"),
    description=(
        "Without active tracing, requests through the stage leave no X-Ray trace, so latency "
        "spikes, failing integrations and unusual call patterns cannot be followed from the "
        "API into the services behind it."
    ),
    remediation=(
        "```yaml\nProdStage:\n  Type: AWS::ApiGateway::Stage\n  Properties:\n"
        "    TracingEnabled: true\n```"
    ),
    references=(
        f"{_HUB}/apigateway-controls.html#apigateway-3",
        "https://docs.aws.amazon.com/xray/latest/devguide/xray-services-apigateway.html",
    ),
)
def rest_stage_without_tracing(tpl: Template) -> Iterator[Hit]:
    for res, base in _stages(tpl):
        value = res.prop(*base, "TracingEnabled", default=MISSING)
        state = _state(tpl, value)
        where = ".".join((*base, "TracingEnabled"))
        line = res.prop_line(*base, "TracingEnabled")
        if state == "missing":
            yield Hit(f"{where} is not set, so tracing is off", line=line, resource=res.logical_id)
        elif state == "false":
            yield Hit(
                f"{where} can be false, so tracing can be off", line=line, resource=res.logical_id
            )
        elif state == "unknown":
            yield Hit(
                f"{where} comes from {describe(value)}, which cannot be resolved from the "
                "template: make sure tracing is on",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-APIGW-003",
    controls=("fsbp APIGateway.5", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="API Gateway cache data not encrypted",
    severity="medium",
    resource_types=("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"),
    description=(
        "When a stage caches responses, the cached data (which may hold personal data or "
        "tokens returned by the back end) is stored in clear unless CacheDataEncrypted is "
        "set on the cached methods."
    ),
    remediation=(
        "```yaml\nCacheClusterEnabled: true\nMethodSettings:\n  - ResourcePath: '/*'\n"
        "    HttpMethod: '*'\n    CachingEnabled: true\n    CacheDataEncrypted: true\n```"
    ),
    references=(
        f"{_HUB}/apigateway-controls.html#apigateway-5",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-caching.html",
    ),
)
def cache_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res, base in _stages(tpl):
        cluster = res.prop(*base, "CacheClusterEnabled", default=MISSING)
        if not _may_be_true(tpl, cluster):
            continue  # no cache cluster, nothing is cached
        settings: list[tuple[dict, tuple[Any, ...]]] = []
        if base:  # StageDescription-level settings apply to every method of the stage
            description = res.prop(*base)
            if isinstance(description, dict):
                settings.append((description, base))
        for index, item in enumerate(as_list(res.prop(*base, "MethodSettings"))):
            if isinstance(item, dict):
                settings.append((item, (*base, "MethodSettings", index)))
        unencrypted = None
        any_encrypted = False
        for item, path in settings:
            encrypted = _state(tpl, item.get("CacheDataEncrypted", MISSING)) == "true"
            any_encrypted = any_encrypted or encrypted
            if not encrypted and _may_be_true(tpl, item.get("CachingEnabled", MISSING)):
                key = "CacheDataEncrypted" if "CacheDataEncrypted" in item else "CachingEnabled"
                unencrypted = unencrypted or res.prop_line(*path, key)
        if unencrypted is not None:
            yield Hit(
                "caching is enabled on methods whose CacheDataEncrypted is not true",
                line=unencrypted,
                resource=res.logical_id,
            )
        elif not any_encrypted:
            yield Hit(
                "the stage has a cache cluster but no method setting encrypts cached data",
                line=res.prop_line(*base, "CacheClusterEnabled"),
                resource=res.logical_id,
            )


def _route_api_protocol(tpl: Template, route: Resource) -> str | None:
    api = route.prop("ApiId")
    if isinstance(api, dict) and isinstance(api.get("Ref"), str):
        target = tpl.resources.get(api["Ref"])
        if target is not None and target.type == "AWS::ApiGatewayV2::Api":
            protocol = target.prop("ProtocolType")
            return protocol.upper() if isinstance(protocol, str) else None
    return None


def _route_needs_auth(tpl: Template, route: Resource) -> bool:
    """Routes where an authorizer applies: not CORS preflight, and $connect only for WebSocket."""
    keys = tpl.possible_values(route.prop("RouteKey"))
    if not all(isinstance(k, str) for k in keys):
        return True
    protocol = _route_api_protocol(tpl, route)
    for key in (k.strip() for k in keys):
        verb = key.split(" ", 1)[0].upper()
        websocket = protocol == "WEBSOCKET" or (
            protocol is None and verb not in _METHOD_VERBS and verb != "$DEFAULT"
        )
        if websocket:  # WebSocket APIs authorize the $connect route only
            if key == "$connect":
                return True
        elif verb != "OPTIONS":
            return True
    return False


@rule(
    id="CF-APIGW-004",
    controls=("fsbp APIGateway.8", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="API Gateway method or route without authorization",
    severity="medium",
    resource_types=(
        "AWS::ApiGateway::Method",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Route",
    ),
    description=(
        "A REST API method or HTTP/WebSocket API route with AuthorizationType NONE (the "
        "default) can be called by anyone who finds the endpoint: no IAM signature, Cognito "
        "token or Lambda authorizer is checked. API keys are meant for usage plans, not for "
        "authentication. CORS preflight (OPTIONS) methods are not reported."
    ),
    remediation=(
        "Attach an authorizer (or IAM authorization) to every non-public method:\n"
        "```yaml\nGetOrders:\n  Type: AWS::ApiGateway::Method\n  Properties:\n"
        "    HttpMethod: GET\n    AuthorizationType: COGNITO_USER_POOLS\n"
        "    AuthorizerId: !Ref UserPoolAuthorizer\n```"
    ),
    references=(
        f"{_HUB}/apigateway-controls.html#apigateway-8",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-to-api.html",
    ),
)
def method_without_authorization(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::ApiGateway::Method", "AWS::ApiGatewayV2::Route"):
        if res.type == "AWS::ApiGateway::Method":
            verbs = tpl.possible_values(res.prop("HttpMethod"))
            if all(isinstance(v, str) and v.strip().upper() == "OPTIONS" for v in verbs):
                continue
        elif not _route_needs_auth(tpl, res):
            continue
        value = res.prop("AuthorizationType", default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "AuthorizationType is not set, so anyone can call it",
                line=res.properties_line,
                resource=res.logical_id,
            )
            continue
        values = tpl.possible_values(value)
        line = res.prop_line("AuthorizationType")
        if any(
            v is NO_VALUE or (isinstance(v, str) and v.strip().upper() == "NONE") for v in values
        ):
            yield Hit(
                "AuthorizationType can be NONE, so anyone can call it",
                line=line,
                resource=res.logical_id,
            )
        elif any(not isinstance(v, str) for v in values):
            yield Hit(
                f"AuthorizationType comes from {describe(value)}, which cannot be resolved from "
                "the template: make sure callers are authorized",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-APIGW-005",
    controls=("fsbp APIGateway.2",),
    artifact_type="cloudformation",
    title="API Gateway REST stage without client certificate",
    severity="info",
    resource_types=("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"),
    description=(
        "Without a client certificate, the back end of an HTTP integration cannot tell requests "
        "relayed by API Gateway from direct calls, so it must be protected some other way "
        "(private integration, VPC link, its own authentication)."
    ),
    remediation=(
        "```yaml\nBackendCertificate:\n  Type: AWS::ApiGateway::ClientCertificate\n"
        "ProdStage:\n  Type: AWS::ApiGateway::Stage\n  Properties:\n"
        "    ClientCertificateId: !Ref BackendCertificate\n```\n"
        "and have the back end verify it; or reach the back end through a VPC link."
    ),
    references=(
        f"{_HUB}/apigateway-controls.html#apigateway-2",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/getting-started-client-side-ssl-authentication.html",
    ),
)
def stage_without_client_certificate(tpl: Template) -> Iterator[Hit]:
    for res, base in _stages(tpl, sam=False):
        value = res.prop(*base, "ClientCertificateId", default=MISSING)
        if _absent(tpl, value):
            yield Hit(
                f"ClientCertificateId {_unset(value)}, so calls to the back end carry no "
                "client certificate",
                line=res.prop_line(*base, "ClientCertificateId"),
                resource=res.logical_id,
            )


@rule(
    id="CF-APIGW-006",
    controls=(
        "fsbp APIGateway.9",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="API Gateway HTTP/WebSocket stage without access logs",
    severity="medium",
    resource_types=("AWS::ApiGatewayV2::Stage",),
    description=(
        "An HTTP or WebSocket API stage without AccessLogSettings keeps no record of the "
        "requests and connections it served, so abuse of the API cannot be detected or "
        "investigated."
    ),
    remediation=(
        "```yaml\nDefaultStage:\n  Type: AWS::ApiGatewayV2::Stage\n  Properties:\n"
        "    AccessLogSettings:\n      DestinationArn: !GetAtt HttpApiLogs.Arn\n"
        "      Format: '$context.requestId $context.identity.sourceIp $context.routeKey "
        "$context.status'\n```"
    ),
    references=(
        f"{_HUB}/apigateway-controls.html#apigateway-9",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html",
    ),
)
def v2_stage_without_access_logs(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::ApiGatewayV2::Stage", include_sam=True):
        destination = res.prop("AccessLogSettings", "DestinationArn", default=MISSING)
        if _absent(tpl, destination):
            yield Hit(
                f"AccessLogSettings.DestinationArn {_unset(destination)}, so the stage may write "
                "no access logs",
                line=res.prop_line("AccessLogSettings", "DestinationArn"),
                resource=res.logical_id,
            )


@rule(
    id="CF-APIGW-007",
    controls=("nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="API Gateway custom domain accepts TLS 1.0",
    severity="medium",
    resource_types=("AWS::ApiGateway::DomainName", "AWS::ApiGatewayV2::DomainName"),
    description=(
        "A custom domain name whose SecurityPolicy is TLS_1_0, or is not set (REST API "
        "domains then accept TLS 1.0 and 1.1), lets clients negotiate protocol versions with "
        "known weaknesses, and fails PCI DSS and most compliance baselines. Checked on "
        "AWS::ApiGateway::DomainName and each DomainNameConfigurations entry of "
        "AWS::ApiGatewayV2::DomainName."
    ),
    remediation=(
        "```yaml\nApiDomain:\n  Type: AWS::ApiGateway::DomainName\n  Properties:\n"
        "    DomainName: api.example.com\n    RegionalCertificateArn: !Ref Certificate\n"
        "    SecurityPolicy: TLS_1_2\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-domainname.html",
    ),
)
def domain_accepts_tls10(tpl: Template) -> Iterator[Hit]:
    what = "clients may use TLS 1.0"
    yield from each(
        tpl, "AWS::ApiGateway::DomainName", none_of, "SecurityPolicy", bad=("TLS_1_0",), what=what
    )
    for res in tpl.of_type("AWS::ApiGateway::DomainName"):
        if res.prop("SecurityPolicy", default=MISSING) is MISSING:
            yield Hit(
                "SecurityPolicy is not set, so TLS 1.0 is accepted",
                res.properties_line,
                res.logical_id,
            )
    for res in tpl.of_type("AWS::ApiGatewayV2::DomainName"):
        for index, _ in enumerate(as_list(res.prop("DomainNameConfigurations"))):
            hit = none_of(
                tpl,
                res,
                "DomainNameConfigurations",
                index,
                "SecurityPolicy",
                bad=("TLS_1_0",),
                what=what,
            )
            if hit:
                yield hit


_LOGGING_ON = ("ERROR", "INFO")


def _method_settings(res: Resource, base: tuple[str, ...]) -> list[tuple[dict, tuple[Any, ...]]]:
    """The settings that apply to methods of a REST stage: StageDescription itself (for a
    deployment) and each MethodSettings item."""
    settings: list[tuple[dict, tuple[Any, ...]]] = []
    if base and isinstance(res.prop(*base), dict):
        settings.append((res.prop(*base), base))
    for index, item in enumerate(as_list(res.prop(*base, "MethodSettings"))):
        if isinstance(item, dict):
            settings.append((item, (*base, "MethodSettings", index)))
    return settings


@rule(
    id="CF-APIGW-008",
    controls=(
        "fsbp APIGateway.1",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="API Gateway execution logging disabled",
    severity="medium",
    resource_types=(
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
    ),
    description=(
        "Execution logs record how API Gateway handled each request: authorizer decisions, "
        "throttling, integration errors and timeouts. A REST stage without a method setting "
        "whose LoggingLevel is ERROR or INFO, or a WebSocket stage whose "
        "DefaultRouteSettings.LoggingLevel is OFF or missing, keeps none, which hides "
        "authorization failures and abuse. (Access logs are CF-APIGW-001 and CF-APIGW-006; "
        "HTTP APIs have no execution logs.) Relates to AWS FSBP APIGateway.1."
    ),
    remediation=(
        "```yaml\nProdStage:\n  Type: AWS::ApiGateway::Stage\n  Properties:\n"
        "    MethodSettings:\n      - ResourcePath: '/*'\n        HttpMethod: '*'\n"
        "        LoggingLevel: ERROR\n        DataTraceEnabled: false\n```\n(the account needs "
        "an AWS::ApiGateway::Account with a CloudWatch role)"
    ),
    references=(
        f"{_HUB}/apigateway-controls.html#apigateway-1",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html",
    ),
)
def execution_logging_off(tpl: Template) -> Iterator[Hit]:
    for res, base in _stages(tpl):
        settings = _method_settings(res, base)
        levels = [(item, path, item.get("LoggingLevel", MISSING)) for item, path in settings]
        if any(_logging_on(tpl, level) for _, _, level in levels):
            continue
        off = next(((item, path) for item, path, level in levels if level is not MISSING), None)
        if off:
            yield Hit(
                "LoggingLevel is OFF, so the stage keeps no execution logs",
                item_line(off[0], "LoggingLevel") or res.prop_line(*off[1]),
                res.logical_id,
            )
        else:
            yield Hit(
                "no method setting sets LoggingLevel, so the stage keeps no execution logs",
                res.prop_line(*base, "MethodSettings"),
                res.logical_id,
            )
    for res in tpl.of_type("AWS::ApiGatewayV2::Stage"):
        level = res.prop("DefaultRouteSettings", "LoggingLevel", default=MISSING)
        if _logging_on(tpl, level):
            continue
        websocket = _route_api_protocol(tpl, res) == "WEBSOCKET"
        if level is MISSING and websocket:
            yield Hit(
                "DefaultRouteSettings.LoggingLevel is not set, so the WebSocket stage keeps no "
                "execution logs",
                res.prop_line("DefaultRouteSettings", "LoggingLevel"),
                res.logical_id,
            )
        elif level is not MISSING and any(
            str(v).strip().upper() == "OFF" for v in tpl.possible_values(level)
        ):
            yield Hit(
                "DefaultRouteSettings.LoggingLevel is OFF, so the stage keeps no execution logs",
                res.prop_line("DefaultRouteSettings", "LoggingLevel"),
                res.logical_id,
            )


def _logging_on(tpl: Template, level: Any) -> bool:
    """ERROR or INFO in every case (an expression that cannot be resolved counts as on)."""
    if level is MISSING or level is None:
        return False
    values = tpl.possible_values(level)
    return all(v is UNRESOLVED or str(v).strip().upper() in _LOGGING_ON for v in values)
