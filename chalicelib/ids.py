"""Deterministic identifiers (GUIDE §3): retries and redeliveries always produce the same ids."""

from __future__ import annotations

import hashlib


def _digest(*parts: str | None, length: int) -> str:
    joined = "\x1f".join("" if p is None else p for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:length]


def scan_id(tenant_id: str, pipeline: str, run_id: str) -> str:
    """One scan per (tenant, pipeline, run): resubmitting a run finds the same scan."""
    return "scn_" + _digest("scan", tenant_id, pipeline, run_id, length=24)


def finding_id(
    tenant_id: str,
    pipeline: str,
    path: str,
    resource: str | None,
    rule_id: str,
    fingerprint: str | None = None,
) -> str:
    """The same problem in the next run of the pipeline is the same finding. `fingerprint`
    is what the artifact says tells a hit apart from others of its rule on its resource (an
    imported SARIF result's fingerprints); without one the id is that of (resource, rule)."""
    if fingerprint:
        resource = f"{resource or ''}#{fingerprint}"
    return "fnd_" + _digest("finding", tenant_id, pipeline, path, resource, rule_id, length=24)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def artifact_key(tenant_id: str, pipeline: str, path: str) -> str:
    """Groups a pipeline's findings in one file (the findings table's `by_artifact` index)."""
    return f"{tenant_id}#" + _digest("artifact", pipeline, path, length=32)


def pipeline_key(tenant_id: str, pipeline: str) -> str:
    """Groups a pipeline's findings and scans (the `by_pipeline` indexes)."""
    return f"{tenant_id}#" + _digest("pipeline", pipeline, length=32)
