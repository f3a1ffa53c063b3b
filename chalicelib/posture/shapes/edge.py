"""Load balancers and listeners, API Gateway REST APIs, CloudFront distributions."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.inventory import InventoryResource
from chalicelib.posture.shapes._base import (
    Context,
    Mapping,
    Shape,
    drop_none,
    ref,
    tags_of,
)


def load_balancer(res: InventoryResource, ctx: Context) -> list[Shape]:
    """A load balancer (attributes as LoadBalancerAttributes) and its listeners."""
    config = res.configuration
    attributes = config.get("Attributes")
    props = {
        "Name": res.id,
        "Type": config.get("Type"),
        "Scheme": config.get("Scheme"),
        "SecurityGroups": config.get("SecurityGroups"),
        "Subnets": [z.get("SubnetId") for z in config.get("AvailabilityZones") or []],
        "LoadBalancerAttributes": [
            {"Key": k, "Value": v} for k, v in sorted((attributes or {}).items())
        ],
        "Tags": tags_of(res),
    }
    shapes = [Shape(res.arn, "AWS::ElasticLoadBalancingV2::LoadBalancer", drop_none(props))]
    for listener in config.get("Listeners") or []:
        arn = listener.get("ListenerArn")
        if not arn:
            continue
        listener_props = {
            "LoadBalancerArn": ref(res.arn),
            "Protocol": listener.get("Protocol"),
            "Port": listener.get("Port"),
            "SslPolicy": listener.get("SslPolicy"),
            "Certificates": listener.get("Certificates"),
            "DefaultActions": listener.get("DefaultActions"),
        }
        shapes.append(
            Shape(
                arn,
                "AWS::ElasticLoadBalancingV2::Listener",
                drop_none(listener_props),
                label=f"listener {listener.get('Protocol')}:{listener.get('Port')}",
                keeps_id=True,
            )
        )
    return shapes


def _method_settings(settings: Any) -> list[dict[str, Any]]:
    """API Gateway's `{"resource/method": {...}}` as CloudFormation's MethodSettings."""
    out = []
    for path, values in (settings or {}).items():
        if not isinstance(values, dict):
            continue
        resource, _, method = str(path).rpartition("/")
        out.append(
            drop_none(
                {
                    "ResourcePath": "/" + resource.lstrip("/") if resource != "*" else "/*",
                    "HttpMethod": method or "*",
                    "LoggingLevel": values.get("loggingLevel"),
                    "MetricsEnabled": values.get("metricsEnabled"),
                    "DataTraceEnabled": values.get("dataTraceEnabled"),
                    "CachingEnabled": values.get("cachingEnabled"),
                    "CacheDataEncrypted": values.get("cacheDataEncrypted"),
                }
            )
        )
    return out


def rest_api(res: InventoryResource, ctx: Context) -> list[Shape]:
    """A REST API, its stages (with ARNs of their own) and its methods."""
    config = res.configuration
    props = {
        "Name": config.get("name"),
        "EndpointConfiguration": drop_none(
            {"Types": (config.get("endpointConfiguration") or {}).get("types")}
        ),
        "Tags": tags_of(res),
    }
    shapes = [Shape(res.arn, "AWS::ApiGateway::RestApi", drop_none(props))]
    for stage in config.get("Stages") or []:
        name = stage.get("stageName")
        logs = stage.get("accessLogSettings") or {}
        stage_props = {
            "RestApiId": ref(res.arn),
            "StageName": name,
            "DeploymentId": stage.get("deploymentId"),
            "TracingEnabled": bool(stage.get("tracingEnabled")),
            "CacheClusterEnabled": bool(stage.get("cacheClusterEnabled")),
            "ClientCertificateId": stage.get("clientCertificateId"),
            "AccessLogSetting": drop_none(
                {"DestinationArn": logs.get("destinationArn"), "Format": logs.get("format")}
            ),
            "MethodSettings": _method_settings(stage.get("methodSettings")),
        }
        shapes.append(
            Shape(
                f"{res.arn}/stages/{name}",
                "AWS::ApiGateway::Stage",
                drop_none(stage_props),
                label=f"stage {name}",
                keeps_id=True,
            )
        )
    for item in config.get("Resources") or []:
        for verb, method in (item.get("resourceMethods") or {}).items():
            if not isinstance(method, dict):
                continue
            method_props = {
                "RestApiId": ref(res.arn),
                "ResourceId": item.get("id"),
                "HttpMethod": verb,
                "AuthorizationType": method.get("authorizationType"),
                "AuthorizerId": method.get("authorizerId"),
                "ApiKeyRequired": method.get("apiKeyRequired"),
            }
            shapes.append(
                Shape(
                    f"{res.arn}#{verb} {item.get('path')}",
                    "AWS::ApiGateway::Method",
                    drop_none(method_props),
                    label=f"method {verb} {item.get('path')}",
                )
            )
    return shapes


def _items(value: Any) -> list[Any]:
    """CloudFront's `{"Quantity": n, "Items": [...]}` lists as plain lists."""
    return list((value or {}).get("Items") or []) if isinstance(value, dict) else []


def _behavior(item: dict[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "PathPattern": item.get("PathPattern"),
            "TargetOriginId": item.get("TargetOriginId"),
            "ViewerProtocolPolicy": item.get("ViewerProtocolPolicy"),
        }
    )


def distribution(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration.get("DistributionConfig") or {}
    origins = []
    for origin in _items(config.get("Origins")):
        custom = origin.get("CustomOriginConfig")
        origins.append(
            drop_none(
                {
                    "Id": origin.get("Id"),
                    "DomainName": origin.get("DomainName"),
                    "S3OriginConfig": origin.get("S3OriginConfig"),
                    "OriginAccessControlId": origin.get("OriginAccessControlId") or None,
                    "CustomOriginConfig": drop_none(
                        {
                            "OriginProtocolPolicy": custom.get("OriginProtocolPolicy"),
                            "OriginSSLProtocols": _items(custom.get("OriginSslProtocols")),
                            "HTTPPort": custom.get("HTTPPort"),
                            "HTTPSPort": custom.get("HTTPSPort"),
                        }
                    )
                    if isinstance(custom, dict)
                    else None,
                }
            )
        )
    logging = config.get("Logging") or {}
    certificate = config.get("ViewerCertificate") or {}
    distribution_config = {
        "Enabled": config.get("Enabled"),
        "Aliases": _items(config.get("Aliases")),
        "Origins": origins,
        "DefaultCacheBehavior": _behavior(config.get("DefaultCacheBehavior") or {}),
        "CacheBehaviors": [_behavior(b) for b in _items(config.get("CacheBehaviors"))],
        "ViewerCertificate": drop_none(
            {
                "CloudFrontDefaultCertificate": certificate.get("CloudFrontDefaultCertificate"),
                "AcmCertificateArn": certificate.get("ACMCertificateArn"),
                "IamCertificateId": certificate.get("IAMCertificateId"),
                "MinimumProtocolVersion": certificate.get("MinimumProtocolVersion"),
                "SslSupportMethod": certificate.get("SSLSupportMethod"),
            }
        ),
        "Logging": drop_none({"Bucket": logging.get("Bucket"), "Prefix": logging.get("Prefix")})
        if logging.get("Enabled")
        else None,
        "WebACLId": config.get("WebACLId") or None,
    }
    props = {"DistributionConfig": drop_none(distribution_config), "Tags": tags_of(res)}
    return [Shape(res.arn, "AWS::CloudFront::Distribution", drop_none(props))]


MAPPINGS: dict[str, Mapping] = {
    "AWS::ElasticLoadBalancingV2::LoadBalancer": load_balancer,
    "AWS::ApiGateway::RestApi": rest_api,
    "AWS::CloudFront::Distribution": distribution,
}
