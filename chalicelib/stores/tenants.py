"""Tenant look-ups for modules that read a tenant record directly (the configured backend's
`TenantStore`; `chalicelib.tenancy` is the service for everything else)."""

from __future__ import annotations

from typing import Any

from chalicelib.stores.backend import stores


def get_tenant(tenant_id: str) -> dict[str, Any] | None:
    """The tenant's stored record, None if there is no such tenant."""
    return stores().tenants.get(tenant_id)
