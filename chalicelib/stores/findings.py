"""Findings, on the configured backend's `FindingStore` (on AWS its stream feeds the index)."""

from __future__ import annotations

from typing import Any

from chalicelib.stores.backend import stores


def put_many(findings: list[dict[str, Any]]) -> None:
    """Write findings of any tenants (idempotent: the same finding id replaces the same one)."""
    by_tenant: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_tenant.setdefault(finding["tenant_id"], []).append(finding)
    store = stores().findings
    for tenant_id, own in by_tenant.items():
        store.put_many(tenant_id, own)


def get(tenant_id: str, finding_id: str) -> dict[str, Any] | None:
    return stores().findings.get(tenant_id, finding_id)


def get_many(tenant_id: str, finding_ids: list[str]) -> dict[str, dict[str, Any]]:
    """This tenant's stored findings among `finding_ids`, by id."""
    return stores().findings.get_many(tenant_id, finding_ids)


def of_artifact(tenant_id: str, artifact_key: str) -> dict[str, dict[str, Any]]:
    """Every stored finding of one file of one pipeline, by id."""
    return stores().findings.of_artifact(tenant_id, artifact_key)


def of_pipeline(tenant_id: str, pipeline_key: str) -> list[dict[str, Any]]:
    """Every stored finding of one pipeline."""
    return stores().findings.of_pipeline(tenant_id, pipeline_key)
