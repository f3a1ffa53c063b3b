"""RDS: DB instances and clusters (one paginated describe each), and their manual snapshots
with who may restore them (one attribute read per snapshot: there is no batch call)."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    for item in (
        scope.pages("describe_db_instances", "DBInstances", feeds=["AWS::RDS::DBInstance"]) or []
    ):
        scope.add(
            "AWS::RDS::DBInstance",
            item["DBInstanceArn"],
            item["DBInstanceIdentifier"],
            item,
            tags=item.get("TagList"),
        )
    for item in (
        scope.pages("describe_db_clusters", "DBClusters", feeds=["AWS::RDS::DBCluster"]) or []
    ):
        scope.add(
            "AWS::RDS::DBCluster",
            item["DBClusterArn"],
            item["DBClusterIdentifier"],
            item,
            tags=item.get("TagList"),
        )
    _snapshots(
        scope,
        "describe_db_snapshots",
        "DBSnapshots",
        "describe_db_snapshot_attributes",
        "DBSnapshotIdentifier",
        "DBSnapshotArn",
        "AWS::RDS::DBSnapshot",
    )
    _snapshots(scope, "describe_db_cluster_snapshots", "DBClusterSnapshots",
               "describe_db_cluster_snapshot_attributes", "DBClusterSnapshotIdentifier",
               "DBClusterSnapshotArn", "AWS::RDS::DBClusterSnapshot")  # fmt: skip


def _snapshots(
    scope: Scope, list_op: str, key: str, attr_op: str, id_key: str, arn_key: str, type_: str
) -> None:
    snapshots = scope.pages(list_op, key, feeds=[type_], SnapshotType="manual")
    if snapshots is NOT_READ:
        return

    def read(item: dict[str, Any]) -> None:
        config = dict(item)
        missing: dict[str, str] = {}
        scope.section(
            config,
            missing,
            "RestoreAttributes",
            attr_op,
            pick=_restore_attributes,
            resource=item[arn_key],
            **{id_key: item[id_key]},
        )
        scope.add(type_, item[arn_key], item[id_key], config, tags=item.get("TagList"),
                  not_assessed=missing)  # fmt: skip

    scope.each(snapshots, read)


def _restore_attributes(response: dict[str, Any]) -> list[str]:
    result = (
        response.get("DBSnapshotAttributesResult")
        or response.get("DBClusterSnapshotAttributesResult")
        or {}
    )
    attributes = (
        result.get("DBSnapshotAttributes") or result.get("DBClusterSnapshotAttributes") or []
    )
    return sorted(
        value
        for attribute in attributes
        if attribute.get("AttributeName") == "restore"
        for value in attribute.get("AttributeValues") or []
    )
