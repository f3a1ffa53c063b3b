"""IAM users, roles, groups and customer managed policies; KMS keys; secrets."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.inventory import InventoryResource
from chalicelib.posture.shapes._base import (
    Context,
    Mapping,
    Shape,
    drop_none,
    policy_of,
    ref,
    tags_of,
)


def _inline(items: Any) -> list[dict[str, Any]]:
    return [
        {"PolicyName": p.get("PolicyName"), "PolicyDocument": p.get("PolicyDocument")}
        for p in items or []
        if isinstance(p, dict)
    ]


def _managed(items: Any) -> list[str]:
    return [p.get("PolicyArn") for p in items or [] if isinstance(p, dict) and p.get("PolicyArn")]


def user(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    props: dict[str, Any] = {
        "UserName": res.id,
        "Path": config.get("Path"),
        "Policies": _inline(config.get("UserPolicyList")),
        "ManagedPolicyArns": _managed(config.get("AttachedManagedPolicies")),
        "Groups": config.get("GroupList"),
        "Tags": tags_of(res),
    }
    props = drop_none(props)
    if ctx.logins is not None and ctx.logins.get(res.arn):
        props["LoginProfile"] = {}  # a console password, whose value no API shows
    return [Shape(res.arn, "AWS::IAM::User", props)]


def role(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    props = {
        "RoleName": res.id,
        "Path": config.get("Path"),
        "AssumeRolePolicyDocument": policy_of(config.get("AssumeRolePolicyDocument")),
        "Policies": _inline(config.get("RolePolicyList")),
        "ManagedPolicyArns": _managed(config.get("AttachedManagedPolicies")),
        "Tags": tags_of(res),
    }
    return [Shape(res.arn, "AWS::IAM::Role", drop_none(props))]


def group(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    props = {
        "GroupName": res.id,
        "Path": config.get("Path"),
        "Policies": _inline(config.get("GroupPolicyList")),
        "ManagedPolicyArns": _managed(config.get("AttachedManagedPolicies")),
    }
    return [Shape(res.arn, "AWS::IAM::Group", drop_none(props))]


def managed_policy(res: InventoryResource, ctx: Context) -> list[Shape]:
    versions = res.configuration.get("PolicyVersionList") or []
    default = next((v for v in versions if isinstance(v, dict) and v.get("IsDefaultVersion")), None)
    document = (default or (versions[0] if versions else {}) or {}).get("Document")
    props = {"ManagedPolicyName": res.id, "PolicyDocument": policy_of(document)}
    return [Shape(res.arn, "AWS::IAM::ManagedPolicy", drop_none(props))]


def key(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    if config.get("KeyManager") != "CUSTOMER":
        return []  # AWS managed keys are configured (and rotated) by AWS
    props = {
        "Description": config.get("Description"),
        "KeySpec": config.get("KeySpec"),
        "KeyUsage": config.get("KeyUsage"),
        "Origin": config.get("Origin"),
        "MultiRegion": config.get("MultiRegion"),
        "Enabled": config.get("KeyState") == "Enabled",
        "EnableKeyRotation": config.get("KeyRotationEnabled"),
        "KeyPolicy": policy_of(config.get("KeyPolicy")),
        "PendingWindowInDays": config.get("PendingDeletionWindowInDays"),
        "Tags": tags_of(res),
    }
    return [Shape(res.arn, "AWS::KMS::Key", drop_none(props))]


def secret(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    props = {
        "Name": config.get("Name"),
        "Description": config.get("Description"),
        "KmsKeyId": config.get("KmsKeyId"),
        "Tags": tags_of(res),
    }
    shapes = [Shape(res.arn, "AWS::SecretsManager::Secret", drop_none(props))]
    if config.get("RotationEnabled"):
        rotation = {
            "SecretId": ref(res.arn),
            "RotationLambdaARN": config.get("RotationLambdaARN"),
            "RotationRules": config.get("RotationRules"),
        }
        shapes.append(
            Shape(
                f"{res.arn}#rotation",
                "AWS::SecretsManager::RotationSchedule",
                drop_none(rotation),
                label="rotation schedule",
            )
        )
    return shapes


MAPPINGS: dict[str, Mapping] = {
    "AWS::IAM::User": user,
    "AWS::IAM::Role": role,
    "AWS::IAM::Group": group,
    "AWS::IAM::ManagedPolicy": managed_policy,
    "AWS::KMS::Key": key,
    "AWS::SecretsManager::Secret": secret,
}
