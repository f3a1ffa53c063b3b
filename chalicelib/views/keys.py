"""A tenant's own API keys and its audit log (the `admin` scope)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib import audit, tenancy
from chalicelib.errors import NotFound, ValidationFailed, from_pydantic
from chalicelib.paging import PageQuery, page, parse_query
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
    scopes = sorted(set(wanted.scopes))
    api_key = tenancy.issue_key(call.tenant_id, scopes, wanted.name, actor=call.principal.key_id)
    key_id = tenancy.key_id_of(tenancy.hash_key(api_key))
    issued = {"key_id": key_id, "scopes": scopes, "name": wanted.name}
    return Reply({**issued, "api_key": api_key, "shown": tenancy.mask(api_key)}, 201)


def list_keys(call: Call) -> dict[str, Any]:
    """The tenant's keys by key id, one page at a time."""
    query = parse_query(PageQuery, call.query)
    listed, next_cursor = page(
        tenancy.list_keys(call.tenant_id), lambda k: k["key_id"], query, "keys"
    )
    return {"keys": listed, "next_cursor": next_cursor}


def revoke_key(call: Call, key_id: str) -> dict[str, Any]:
    if key_id == call.principal.key_id:
        raise ValidationFailed("a key cannot revoke itself: use another admin key")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    revoked = tenancy.revoke_key(call.tenant_id, key_id, call.principal.key_id, now)
    if revoked is None:
        raise NotFound(f"no key {key_id!r} in this tenant")
    return revoked


def list_audit(call: Call) -> dict[str, Any]:
    query = parse_query(PageQuery, call.query)
    return audit.entries(call.tenant_id, query.limit, query.cursor)
