"""Findings, on the configured backend's `FindingStore` (its change stream feeds the search
index and the trend counters). Every write goes through `put_many`, which keeps each finding's
`version` and `history` (`chalicelib.finding_history`)."""

from __future__ import annotations

from typing import Any

from chalicelib import finding_history
from chalicelib.stores.backend import stores


def put_many(findings: list[dict[str, Any]]) -> None:
    """Write findings of any tenants (idempotent: the same finding id replaces the same one, and
    a finding written again unchanged is not written). Each finding's writes come from one
    pipeline's stream shard, in order, so reading the stored versions first is safe."""
    by_tenant: dict[str, dict[str, dict[str, Any]]] = {}
    for finding in findings:
        by_tenant.setdefault(finding["tenant_id"], {})[finding["finding_id"]] = finding
    store = stores().findings
    for tenant_id, own in by_tenant.items():
        stored = store.get_many(tenant_id, list(own))
        stamped = [finding_history.stamp(stored.get(fid), item) for fid, item in own.items()]
        changed = [item for item in stamped if item is not None]
        if changed:
            store.put_many(tenant_id, changed)


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


STORED_ONLY = ("tenant_id", "artifact_key", "pipeline_key", *finding_history.TRACKED)
"""Fields of a stored finding that API responses and reports leave out."""


def public(item: dict[str, Any]) -> dict[str, Any]:
    """The finding as API clients and reports see it."""
    return {k: v for k, v in item.items() if k not in STORED_ONLY}
