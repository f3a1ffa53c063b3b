"""Trends: per-day finding counters kept from the findings change stream, rebuilt from the
findings table on demand (`chalicelib.trend_series` reads them for `GET /v1/trends`).

A change record carries the finding's new image with its `version` and `history`; the store
counts the history entries above the version it holds for that finding, and holds the new
one, in the same transaction. A redelivered or replayed record is at or below that version
and counts nothing; a record missed in between is made up by the next one (its history holds
every entry).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.stores.backend import stores
from chalicelib.trend_counts import Update


def apply_images(images: Iterable[dict[str, Any]]) -> int:
    """Count the findings' new images (stream order), per tenant; returns those that counted.
    Images without a `version` (written before findings had one) count from their history as
    `finding_history.history_of` reads it."""
    by_tenant: dict[str, list[Update]] = {}
    for image in images:
        by_tenant.setdefault(image["tenant_id"], []).append(Update.of(image))
    store = stores().trends
    return sum(store.apply(tenant_id, updates) for tenant_id, updates in by_tenant.items())


@dataclass
class RebuildResult:
    tenants: int = 0
    findings: int = 0


def rebuild(tenant_id: str | None = None, page_size: int = 500) -> RebuildResult:
    """Recompute the counters of one tenant (or of every tenant with findings) from the
    findings table. Run it while the change stream is drained: a change applied during the
    rebuild may be counted by both."""
    found = stores().findings
    tenants = [tenant_id] if tenant_id is not None else found.tenants()
    result = RebuildResult(tenants=len(tenants))
    for tenant in tenants:
        updates: list[Update] = []
        after: str | None = None
        while True:
            page, after = found.page(tenant, page_size, after)
            updates.extend(Update.of(item) for item in page)
            if after is None:
                break
        stores().trends.replace(tenant, updates)
        result.findings += len(updates)
    return result
