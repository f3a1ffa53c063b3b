"""Logs, trails, databases and tables."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.inventory import InventoryResource
from chalicelib.posture.shapes._base import (
    Context,
    Mapping,
    Shape,
    drop_none,
    tags_of,
)


def log_group(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    props = {
        "LogGroupName": res.id,
        "RetentionInDays": config.get("retentionInDays"),
        "KmsKeyId": config.get("kmsKeyId"),
    }
    return [Shape(res.arn, "AWS::Logs::LogGroup", drop_none(props))]


def trail(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    status = config.get("Status")
    props = {
        "TrailName": config.get("Name"),
        "S3BucketName": config.get("S3BucketName"),
        "S3KeyPrefix": config.get("S3KeyPrefix"),
        "IsMultiRegionTrail": bool(config.get("IsMultiRegionTrail")),
        "IncludeGlobalServiceEvents": config.get("IncludeGlobalServiceEvents"),
        "EnableLogFileValidation": bool(config.get("LogFileValidationEnabled")),
        "KMSKeyId": config.get("KmsKeyId"),
        "CloudWatchLogsLogGroupArn": config.get("CloudWatchLogsLogGroupArn"),
        "CloudWatchLogsRoleArn": config.get("CloudWatchLogsRoleArn"),
        "IsLogging": bool(status.get("IsLogging")) if isinstance(status, dict) else None,
        "IsOrganizationTrail": config.get("IsOrganizationTrail"),
    }
    return [Shape(res.arn, "AWS::CloudTrail::Trail", drop_none(props))]


def _database_common(config: dict[str, Any], res: InventoryResource) -> dict[str, Any]:
    return {
        "Engine": config.get("Engine"),
        "EngineVersion": config.get("EngineVersion"),
        "StorageEncrypted": bool(config.get("StorageEncrypted")),
        "KmsKeyId": config.get("KmsKeyId"),
        "BackupRetentionPeriod": config.get("BackupRetentionPeriod"),
        "DeletionProtection": bool(config.get("DeletionProtection")),
        "EnableIAMDatabaseAuthentication": bool(config.get("IAMDatabaseAuthenticationEnabled")),
        "MasterUsername": config.get("MasterUsername"),
        "CopyTagsToSnapshot": bool(config.get("CopyTagsToSnapshot")),
        "EnableCloudwatchLogsExports": config.get("EnabledCloudwatchLogsExports") or None,
        "Tags": tags_of(res),
    }


def db_instance(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    subnets = config.get("DBSubnetGroup") or {}
    in_default = not subnets or subnets.get("VpcId") in ctx.default_vpcs
    props = {
        **_database_common(config, res),
        "DBInstanceIdentifier": res.id,
        "DBInstanceClass": config.get("DBInstanceClass"),
        "PubliclyAccessible": bool(config.get("PubliclyAccessible")),
        "MultiAZ": bool(config.get("MultiAZ")),
        "AutoMinorVersionUpgrade": config.get("AutoMinorVersionUpgrade"),
        "DBClusterIdentifier": config.get("DBClusterIdentifier"),
        "SourceDBInstanceIdentifier": config.get("ReadReplicaSourceDBInstanceIdentifier"),
        "DBSubnetGroupName": None if in_default else subnets.get("DBSubnetGroupName"),
        "VPCSecurityGroups": [
            g.get("VpcSecurityGroupId") for g in config.get("VpcSecurityGroups") or []
        ],
    }
    return [Shape(res.arn, "AWS::RDS::DBInstance", drop_none(props))]


def db_cluster(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    props = {
        **_database_common(config, res),
        "DBClusterIdentifier": res.id,
        "EngineMode": config.get("EngineMode"),
        "AutoMinorVersionUpgrade": config.get("AutoMinorVersionUpgrade"),
        "DBSubnetGroupName": config.get("DBSubnetGroup"),
        "VpcSecurityGroupIds": [
            g.get("VpcSecurityGroupId") for g in config.get("VpcSecurityGroups") or []
        ],
    }
    return [Shape(res.arn, "AWS::RDS::DBCluster", drop_none(props))]


def table(res: InventoryResource, ctx: Context) -> list[Shape]:
    config = res.configuration
    sse = config.get("SSEDescription") or {}
    backups = config.get("ContinuousBackups") or {}
    recovery = (backups.get("PointInTimeRecoveryDescription") or {}).get(
        "PointInTimeRecoveryStatus"
    )
    props = {
        "TableName": res.id,
        "BillingMode": (config.get("BillingModeSummary") or {}).get("BillingMode"),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": recovery == "ENABLED"}
        if "ContinuousBackups" in config
        else None,
        "SSESpecification": drop_none(
            {
                "SSEEnabled": sse.get("Status") in ("ENABLED", "UPDATING"),
                "SSEType": sse.get("SSEType"),
                "KMSMasterKeyId": sse.get("KMSMasterKeyArn"),
            }
        ),
        "DeletionProtectionEnabled": bool(config.get("DeletionProtectionEnabled")),
        "Tags": tags_of(res),
    }
    return [Shape(res.arn, "AWS::DynamoDB::Table", drop_none(props))]


MAPPINGS: dict[str, Mapping] = {
    "AWS::Logs::LogGroup": log_group,
    "AWS::CloudTrail::Trail": trail,
    "AWS::RDS::DBInstance": db_instance,
    "AWS::RDS::DBCluster": db_cluster,
    "AWS::DynamoDB::Table": table,
}
