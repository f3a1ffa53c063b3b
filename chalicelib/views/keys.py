"""A tenant's own API keys and its audit log (the `admin` scope)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib import audit, tenancy
from chalicelib.errors import NotFound, ValidationFailed, from_pydantic
from chalicelib.stores import tenants as store
from chalicelib.views.call import Call, Reply


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[Literal["ingest", "read", "admin"]] = Field(min_length=1, max_length=3)
    name: str = Field(default="", max_length=100)


def create_key(call: Call) -> Reply:
    try:
        wanted = NewKey.model_validate(call.json("the key's scopes"))
    except ValidationError as exc:
        raise from_pydantic(exc, "the key") from None
    api_key = tenancy.issue_key(call.tenant_id, sorted(set(wanted.scopes)), wanted.name)
    key_id = tenancy.key_id_of(tenancy.hash_key(api_key))
    after = {"key_id": key_id, "scopes": sorted(set(wanted.scopes)), "name": wanted.name}
    audit.record(call.tenant_id, call.principal.key_id, "key.issue", key_id, None, after)
    return Reply({**after, "api_key": api_key, "shown": tenancy.mask(api_key)}, 201)


def list_keys(call: Call) -> dict[str, Any]:
    return {"keys": store.list_keys(call.tenant_id)}


def revoke_key(call: Call, key_id: str) -> dict[str, Any]:
    if key_id == call.principal.key_id:
        raise ValidationFailed("a key cannot revoke itself: use another admin key")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    before = store.revoke_key(call.tenant_id, key_id, now) if key_id.startswith("key_") else None
    if before is None:
        raise NotFound(f"no key {key_id!r} in this tenant")
    after = {**before, "status": "revoked", "revoked_at": now}
    audit.record(call.tenant_id, call.principal.key_id, "key.revoke", key_id, before, after)
    return after


def list_audit(call: Call) -> dict[str, Any]:
    limit = call.query.get("limit", "50")
    if not re.fullmatch(r"[0-9]{1,3}", limit) or not 1 <= int(limit) <= 200:
        raise ValidationFailed(
            "limit must be an integer from 1 to 200", [{"field": "limit", "message": limit}]
        )
    unknown = set(call.query) - {"limit", "cursor"}
    if unknown:
        raise ValidationFailed(f"unknown query parameters: {', '.join(sorted(unknown))}")
    return audit.entries(call.tenant_id, int(limit), call.query.get("cursor") or None)
