"""Values the contract tests write."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

from chalicelib.stores.ports import AuditEntry, Stores

_count = itertools.count()


def entry(tenant_id: str, action: str = "test.change", at: str | None = None) -> AuditEntry:
    """A new audit entry (a unique position, later than the ones before unless `at` says)."""
    n = next(_count)
    return AuditEntry(
        tenant_id=tenant_id,
        at=at or f"2026-12-01T10:00:{n // 1000:02d}.{n % 1000:03d}+00:00",
        nonce=f"{n:08x}",
        actor="key_test",
        action=action,
        target="target",
        before="null",
        after=f'{{"n": {n}}}',
    )


def log(stores: Stores, tenant_id: str) -> list[AuditEntry]:
    """The tenant's whole audit log, newest first."""
    entries, after = stores.audit.page(tenant_id, 1000)
    assert after is None
    return entries


def actions(stores: Stores, tenant_id: str) -> list[str]:
    return [e.action for e in log(stores, tenant_id)]


def tenant(tenant_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "name": tenant_id.title(),
        "status": "active",
        "created_at": "2026-12-01T10:00:00+00:00",
        **changes,
    }


def key(tenant_id: str, n: int, **changes: Any) -> tuple[str, dict[str, Any]]:
    """A key's hash and record."""
    key_hash = hashlib.sha256(f"{tenant_id}-{n}".encode()).hexdigest()
    record = {
        "tenant_id": tenant_id,
        "key_id": "key_" + key_hash[:12],
        "name": f"k{n}",
        "scopes": ["admin", "read"],
        "status": "active",
        "created_at": "2026-12-01T10:00:00+00:00",
        "shown": "pgk_abcd…wxyz",
        **changes,
    }
    return key_hash, record
