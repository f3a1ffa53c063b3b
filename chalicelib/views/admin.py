"""The operator's routes: create, list, disable and enable tenants, issue their first keys."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib import tenancy
from chalicelib.errors import Conflict, NotFound, from_pydantic
from chalicelib.paging import PageQuery, page, parse_query
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
        api_key = tenancy.create_tenant(
            wanted.tenant_id, wanted.name, exist_ok=False, actor=call.principal.key_id
        )
    except tenancy.TenantExists:
        raise Conflict(f"tenant {wanted.tenant_id!r} exists already") from None
    created = {"tenant_id": wanted.tenant_id, "name": wanted.name or wanted.tenant_id}
    return Reply({**created, "api_key": api_key}, 201)


def list_tenants(call: Call) -> dict[str, Any]:
    """Every tenant by id, one page at a time."""
    query = parse_query(PageQuery, call.query)
    listed, next_cursor = page(tenancy.list_tenants(), lambda t: t["tenant_id"], query, "tenants")
    return {"tenants": listed, "next_cursor": next_cursor}


def disable_tenant(call: Call, tenant_id: str) -> dict[str, Any]:
    return _set_status(call, tenant_id, "disabled")


def enable_tenant(call: Call, tenant_id: str) -> dict[str, Any]:
    return _set_status(call, tenant_id, "active")


def _set_status(call: Call, tenant_id: str, status: str) -> dict[str, Any]:
    after = tenancy.set_status(tenant_id, status, call.principal.key_id)
    if after is None:
        raise NotFound(f"no tenant {tenant_id!r}")
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
    if wanted.tenant_id and tenancy.get_tenant(wanted.tenant_id) is None:
        raise NotFound(f"no tenant {wanted.tenant_id!r}")
    return asdict(maintenance.reindex(wanted.tenant_id))
