"""Tenants, API keys and the principal a request acts as."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib import audit
from chalicelib.errors import Conflict
from chalicelib.stores.backend import stores
from chalicelib.stores.ports import NotWritten

SCOPES = ("ingest", "read", "admin")
KEY_PREFIX = "pgk_"
_KEY_SHAPE = re.compile(r"^pgk_[A-Za-z0-9_-]{20,100}$")
KEY_ID = re.compile(r"^key_[0-9a-f]{12}$")
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant, through one of its keys, with some scopes."""

    tenant_id: str
    key_id: str
    scopes: frozenset[str]
    usage_key: str | None = None  # the tenant's API Gateway key: its usage plan throttles it

    def to_context(self) -> dict[str, str]:
        """The authorizer context (API Gateway only carries flat strings)."""
        return {
            "tenant_id": self.tenant_id,
            "key_id": self.key_id,
            "scopes": " ".join(sorted(self.scopes)),
        }

    @classmethod
    def from_context(cls, context: dict[str, str]) -> Principal:
        return cls(
            tenant_id=context["tenant_id"],
            key_id=context["key_id"],
            scopes=frozenset(context.get("scopes", "").split()),
        )


def hash_key(api_key: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a safe stored form."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def bearer_token(header: str | None) -> str | None:
    """The API key of an `Authorization: Bearer <key>` header, if well-formed."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not _KEY_SHAPE.match(token):
        return None
    return token


OPERATOR = "_operator"  # not a valid tenant id, so no tenant can be it


def authenticate(header: str | None) -> Principal | None:
    """The principal for an Authorization header; None for a missing, unknown or revoked key.

    The operator's key is configured (`OPERATOR_KEY_SHA256`, its hash); it has only the
    `operator` scope, so it administers tenants but reads no tenant's data.
    """
    token = bearer_token(header)
    if token is None:
        return None
    token_hash = hash_key(token)
    operator_hash = os.environ.get("OPERATOR_KEY_SHA256", "")
    if operator_hash and hmac.compare_digest(token_hash, operator_hash):
        return Principal(tenant_id=OPERATOR, key_id="operator", scopes=frozenset({"operator"}))
    store = stores().tenants
    record = store.key_by_hash(token_hash)
    if not record or record.get("status") != "active":
        return None
    tenant = store.get(record["tenant_id"])
    if not tenant or tenant.get("status") != "active":
        return None
    return Principal(
        tenant_id=record["tenant_id"],
        key_id=record["key_id"],
        scopes=frozenset(record.get("scopes", [])),
        usage_key=tenant.get("usage_key"),
    )


def valid_tenant_id(tenant_id: str) -> bool:
    return bool(_TENANT_ID.match(tenant_id))


def create_tenant(
    tenant_id: str, name: str | None = None, exist_ok: bool = True, actor: str = "operator"
) -> str:
    """Create a tenant and issue it a key with every scope; returns the key. The tenant, its
    key and the audit entry (`tenant.create`, by `actor`) are written together.

    With `exist_ok` an existing tenant is re-activated; without, it raises `TenantExists`.
    """
    if not valid_tenant_id(tenant_id):
        raise ValueError("tenant_id: 2-63 lowercase letters, digits or dashes, not starting with -")
    tenant = {
        "tenant_id": tenant_id,
        "name": name or tenant_id,
        "status": "active",
        "created_at": _now(),
    }
    usage_plan = os.environ.get("TENANT_USAGE_PLAN")
    if usage_plan:
        tenant["usage_key"] = _usage_plan_key(tenant_id, usage_plan)
    api_key, key_hash, record = _new_key(tenant_id, SCOPES, "")
    created = {"tenant_id": tenant_id, "name": tenant["name"], "key_id": record["key_id"]}
    entry = audit.new_entry(tenant_id, actor, "tenant.create", tenant_id, None, created)
    try:
        stores().tenants.create(tenant, key_hash, record, entry, exist_ok=exist_ok)
    except NotWritten:
        raise TenantExists(tenant_id) from None
    return api_key


def get_tenant(tenant_id: str) -> dict[str, Any] | None:
    """The tenant as `GET /v1/admin/tenants` shows it, None if there is no such tenant."""
    stored = stores().tenants.get(tenant_id) if valid_tenant_id(tenant_id) else None
    return public(stored) if stored else None


def list_tenants() -> list[dict[str, Any]]:
    """Every tenant by id."""
    return [public(t) for t in stores().tenants.all()]


def list_keys(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's keys by key id (masked; never the hash)."""
    return [public(k) for k in stores().tenants.keys(tenant_id)]


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A tenant or key without its secrets (the usage plan key; a key's hash)."""
    return {k: v for k, v in record.items() if k not in ("usage_key", "key_hash")}


def set_status(tenant_id: str, status: str, actor: str) -> dict[str, Any] | None:
    """Disable (`disabled`) or re-enable (`active`) a tenant, audited (`tenant.<status>`);
    returns the tenant as it is now, None if there is no such tenant."""
    for _ in range(3):
        before = get_tenant(tenant_id)
        if before is None:
            return None
        after = {**before, "status": status}
        entry = audit.new_entry(tenant_id, actor, f"tenant.{status}", tenant_id, before, after)
        try:
            stores().tenants.set_status(tenant_id, status, before["status"], entry)
        except NotWritten:
            continue  # changed since it was read: read it again
        return after
    raise Conflict(f"tenant {tenant_id!r} was changed at the same time: retry")


def _usage_plan_key(tenant_id: str, usage_plan: str) -> str:
    """Deployed: an API Gateway key for the tenant in the tenants' usage plan (by name), so
    API Gateway throttles each tenant on its own (the authorizer names this key)."""
    from chalicelib.stores.clients import client

    gateway = client("apigateway")
    plans = gateway.get_paginator("get_usage_plans").paginate()
    matching = [p["id"] for page in plans for p in page["items"] if p["name"] == usage_plan]
    if not matching:
        raise LookupError(f"no API Gateway usage plan named {usage_plan!r}")
    usage_plan_id = matching[0]
    value = "usage-" + secrets.token_urlsafe(30)
    created = gateway.create_api_key(
        name=f"pipeguard-tenant-{tenant_id}", enabled=True, value=value
    )
    gateway.create_usage_plan_key(usagePlanId=usage_plan_id, keyId=created["id"], keyType="API_KEY")
    return value


class TenantExists(Exception):
    """A tenant with this id exists already."""


def issue_key(
    tenant_id: str, scopes: tuple[str, ...] | list[str], name: str = "", actor: str = "operator"
) -> str:
    """Issue a new random key; only its hash is stored, the key itself is returned once. The
    key and its audit entry (`key.issue`, by `actor`) are written together."""
    api_key, key_hash, record = _new_key(tenant_id, scopes, name)
    issued = {"key_id": record["key_id"], "scopes": record["scopes"], "name": name}
    entry = audit.new_entry(tenant_id, actor, "key.issue", record["key_id"], None, issued)
    stores().tenants.add_key(key_hash, record, entry)
    return api_key


def revoke_key(tenant_id: str, key_id: str, actor: str, now: str) -> dict[str, Any] | None:
    """Revoke one of the tenant's keys at once, audited (`key.revoke`); returns the key as it
    is now (masked, no hash), None if the tenant has no such key."""
    store = stores().tenants
    for _ in range(3):
        listed = store.key(tenant_id, key_id) if KEY_ID.match(key_id) else None
        if listed is None:
            return None
        before = public(listed)
        after = {**before, "status": "revoked", "revoked_at": now}
        entry = audit.new_entry(tenant_id, actor, "key.revoke", key_id, before, after)
        try:
            store.revoke_key(tenant_id, key_id, now, entry)
        except NotWritten:
            continue  # gone since it was read: read it again
        return after
    raise Conflict(f"key {key_id!r} was changed at the same time: retry")


def _new_key(
    tenant_id: str, scopes: tuple[str, ...] | list[str], name: str
) -> tuple[str, str, dict[str, Any]]:
    """A new random key, its hash and the record stored for it."""
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}")
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    key_hash = hash_key(api_key)
    record = {
        "tenant_id": tenant_id,
        "key_id": key_id_of(key_hash),
        "name": name,
        "scopes": sorted(scopes),
        "status": "active",
        "created_at": _now(),
        "shown": mask(api_key),
    }
    return api_key, key_hash, record


def key_id_of(key_hash: str) -> str:
    return "key_" + key_hash[:12]


def mask(api_key: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    return api_key[:8] + "…" + api_key[-4:]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
