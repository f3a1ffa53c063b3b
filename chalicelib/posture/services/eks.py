"""EKS: every cluster with its description (one read per cluster: there is no batch call)."""

from __future__ import annotations

from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = False


def collect(scope: Scope) -> None:
    names = scope.pages("list_clusters", "clusters", feeds=["AWS::EKS::Cluster"])
    if names is NOT_READ:
        return
    scope.each(names, lambda name: _cluster(scope, name))


def _cluster(scope: Scope, name: str) -> None:
    described = scope.call("describe_cluster", feeds=["AWS::EKS::Cluster"], name=name)
    if not described:
        return
    cluster = described.get("cluster") or {}
    arn = cluster.get("arn") or scope.arn(f"cluster/{name}")
    scope.add("AWS::EKS::Cluster", arn, name, cluster, tags=cluster.get("tags"))
