"""The operator's routes: create, list, disable and enable tenants, issue their first keys."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib import audit, tenancy
from chalicelib.errors import Conflict, NotFound, from_pydantic
from chalicelib.stores import tenants as store
from chalicelib.views.call import Call, Reply


class NewTenant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str | None = Field(default=None, max_length=200)


def create_tenant(call: Call) -> Reply:
    try:
        wanted = NewTenant.model_validate(call.json("the tenant"))
    except ValidationError as exc:
        raise from_pydantic(exc, "the tenant") from None
    try:
        api_key = tenancy.create_tenant(wanted.tenant_id, wanted.name, exist_ok=False)
    except tenancy.TenantExists:
        raise Conflict(f"tenant {wanted.tenant_id!r} exists already") from None
    created = {"tenant_id": wanted.tenant_id, "name": wanted.name or wanted.tenant_id}
    audit.record(
        wanted.tenant_id, call.principal.key_id, "tenant.create", wanted.tenant_id, None, created
    )
    return Reply({**created, "api_key": api_key}, 201)


def list_tenants(call: Call) -> dict[str, Any]:
    return {"tenants": store.list_tenants()}


def disable_tenant(call: Call, tenant_id: str) -> dict[str, Any]:
    return _set_status(call, tenant_id, "disabled")


def enable_tenant(call: Call, tenant_id: str) -> dict[str, Any]:
    return _set_status(call, tenant_id, "active")


def _set_status(call: Call, tenant_id: str, status: str) -> dict[str, Any]:
    before = (
        store.set_tenant_status(tenant_id, status) if tenancy.valid_tenant_id(tenant_id) else None
    )
    if before is None:
        raise NotFound(f"no tenant {tenant_id!r}")
    after = {**before, "status": status}
    audit.record(tenant_id, call.principal.key_id, f"tenant.{status}", tenant_id, before, after)
    return after


class ReindexRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")


def reindex(call: Call) -> dict[str, Any]:
    """Rebuild the search index from DynamoDB, for one tenant or all (`{}`)."""
    from dataclasses import asdict

    from chalicelib import maintenance

    try:
        wanted = ReindexRequest.model_validate(
            call.json("the reindex request") if call.body else {}
        )
    except ValidationError as exc:
        raise from_pydantic(exc, "the reindex request") from None
    if wanted.tenant_id and store.get_tenant(wanted.tenant_id) is None:
        raise NotFound(f"no tenant {wanted.tenant_id!r}")
    return asdict(maintenance.reindex(wanted.tenant_id))
