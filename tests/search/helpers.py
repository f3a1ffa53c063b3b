"""Finding documents for the search tests."""

from __future__ import annotations

from typing import Any


def make_doc(tenant_id: str, n: int, **fields: Any) -> dict[str, Any]:
    """A complete finding document; `n` picks its id (`fnd_` + 24 hex digits)."""
    doc: dict[str, Any] = {
        "tenant_id": tenant_id,
        "finding_id": f"fnd_{n:024x}",
        "scan_id": "scn_1",
        "pipeline": "api",
        "run_id": "run_1",
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "artifact_type": "dockerfile",
        "path": f"svc{n}/Dockerfile",
        "rule_id": "DF001",
        "title": f"Finding number {n}",
        "message": "Something to fix",
        "severity": "high",
        "resource": None,
        "line": n,
        "lines": [n, n + 1],
        "status": "open",
        "first_seen": "2024-05-01T10:00:00Z",
        "last_seen": "2024-05-02T10:00:00Z",
    }
    doc.update(fields)
    return doc


def without_tenant(doc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key != "tenant_id"}
