"""Lambda functions (URLs, permissions), ECR repositories, EKS clusters, OpenSearch domains."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.inventory import InventoryResource
from chalicelib.posture.shapes._base import (
    Context,
    Mapping,
    Shape,
    decoded,
    drop_none,
    policy_of,
    ref,
    tags_of,
)


def _condition_value(statement: dict[str, Any], key: str) -> Any:
    for block in (statement.get("Condition") or {}).values():
        if isinstance(block, dict):
            for name, value in block.items():
                if isinstance(name, str) and name.lower() == key.lower():
                    return value
    return None


def _principal(value: Any) -> Any:
    """A resource policy's principal as AWS::Lambda::Permission names it."""
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        return inner[0] if isinstance(inner, list) and len(inner) == 1 else inner
    return value


def function(res: InventoryResource, ctx: Context) -> list[Shape]:
    """A function, its URL (`AWS::Lambda::Url`) and each statement of its resource policy
    (an `AWS::Lambda::Permission`)."""
    config = res.configuration
    vpc_config = config.get("VpcConfig") or {}
    props = {
        "FunctionName": res.id,
        "Runtime": config.get("Runtime"),
        "Handler": config.get("Handler"),
        "Role": config.get("Role"),
        "PackageType": config.get("PackageType"),
        "Environment": drop_none({"Variables": (config.get("Environment") or {}).get("Variables")}),
        "DeadLetterConfig": drop_none(
            {"TargetArn": (config.get("DeadLetterConfig") or {}).get("TargetArn")}
        ),
        "VpcConfig": drop_none(
            {
                "SubnetIds": vpc_config.get("SubnetIds"),
                "SecurityGroupIds": vpc_config.get("SecurityGroupIds"),
            }
        ),
        "ReservedConcurrentExecutions": config.get("ReservedConcurrentExecutions"),
        "TracingConfig": config.get("TracingConfig"),
        "Tags": tags_of(res),
    }
    shapes = [Shape(res.arn, "AWS::Lambda::Function", drop_none(props))]
    url = config.get("Url")
    if isinstance(url, dict):
        shapes.append(
            Shape(
                f"{res.arn}#url",
                "AWS::Lambda::Url",
                drop_none({"TargetFunctionArn": ref(res.arn), "AuthType": url.get("AuthType")}),
                label="function URL",
            )
        )
    policy = config.get("Policy")
    statements = (policy or {}).get("Statement") if isinstance(policy, dict) else None
    for index, statement in enumerate(statements or []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        sid = str(statement.get("Sid") or index)
        permission = {
            "FunctionName": ref(res.arn),
            "Action": statement.get("Action"),
            "Principal": _principal(statement.get("Principal")),
            "SourceArn": _condition_value(statement, "AWS:SourceArn"),
            "SourceAccount": _condition_value(statement, "AWS:SourceAccount"),
            "PrincipalOrgID": _condition_value(statement, "aws:PrincipalOrgID"),
            "FunctionUrlAuthType": _condition_value(statement, "lambda:FunctionUrlAuthType"),
        }
        shapes.append(
            Shape(
                f"{res.arn}#permission-{sid}",
                "AWS::Lambda::Permission",
                drop_none(permission),
                label=f"permission {sid}",
            )
        )
    return shapes


def repository(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    props = {
        "RepositoryName": res.id,
        "ImageTagMutability": config.get("imageTagMutability"),
        "ImageScanningConfiguration": {
            "ScanOnPush": bool((config.get("imageScanningConfiguration") or {}).get("scanOnPush"))
        },
        "EncryptionConfiguration": drop_none(
            {
                "EncryptionType": (config.get("encryptionConfiguration") or {}).get(
                    "encryptionType"
                ),
                "KmsKey": (config.get("encryptionConfiguration") or {}).get("kmsKey"),
            }
        ),
        "RepositoryPolicyText": policy_of(config.get("Policy")),
    }
    return [Shape(res.arn, "AWS::ECR::Repository", drop_none(props))]


def cluster(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    vpc_config = config.get("resourcesVpcConfig") or {}
    enabled = [
        kind
        for item in (config.get("logging") or {}).get("clusterLogging") or []
        if isinstance(item, dict) and item.get("enabled")
        for kind in item.get("types") or []
    ]
    props = {
        "Name": res.id,
        "Version": config.get("version"),
        "RoleArn": config.get("roleArn"),
        "ResourcesVpcConfig": drop_none(
            {
                "SubnetIds": vpc_config.get("subnetIds"),
                "SecurityGroupIds": vpc_config.get("securityGroupIds"),
                "EndpointPublicAccess": vpc_config.get("endpointPublicAccess"),
                "EndpointPrivateAccess": vpc_config.get("endpointPrivateAccess"),
                "PublicAccessCidrs": vpc_config.get("publicAccessCidrs"),
            }
        ),
        "EncryptionConfig": [
            drop_none(
                {
                    "Resources": item.get("resources"),
                    "Provider": drop_none({"KeyArn": (item.get("provider") or {}).get("keyArn")}),
                }
            )
            for item in config.get("encryptionConfig") or []
            if isinstance(item, dict)
        ],
        "Logging": {"ClusterLogging": {"EnabledTypes": [{"Type": t} for t in enabled]}},
    }
    return [Shape(res.arn, "AWS::EKS::Cluster", drop_none(props))]


def domain(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    vpc_options = config.get("VPCOptions") or {}
    props = {
        "DomainName": res.id,
        "EngineVersion": config.get("EngineVersion"),
        "EncryptionAtRestOptions": config.get("EncryptionAtRestOptions"),
        "NodeToNodeEncryptionOptions": config.get("NodeToNodeEncryptionOptions"),
        "DomainEndpointOptions": config.get("DomainEndpointOptions"),
        "AdvancedSecurityOptions": drop_none(
            {
                "Enabled": (config.get("AdvancedSecurityOptions") or {}).get("Enabled"),
                "InternalUserDatabaseEnabled": (config.get("AdvancedSecurityOptions") or {}).get(
                    "InternalUserDatabaseEnabled"
                ),
            }
        ),
        "VPCOptions": drop_none(
            {
                "SubnetIds": vpc_options.get("SubnetIds"),
                "SecurityGroupIds": vpc_options.get("SecurityGroupIds"),
            }
        ),
        "AccessPolicies": decoded(config.get("AccessPolicies")) or None,
    }
    return [Shape(res.arn, "AWS::OpenSearchService::Domain", drop_none(props))]


MAPPINGS: dict[str, Mapping] = {
    "AWS::Lambda::Function": function,
    "AWS::ECR::Repository": repository,
    "AWS::EKS::Cluster": cluster,
    "AWS::OpenSearchService::Domain": domain,
}
