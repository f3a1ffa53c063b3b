"""The audit log: every administrative and policy change, per tenant, newest first.

An entry is written by the store in the same transaction as the change it records (each audited
store method takes its `AuditEntry`), so a change is never live without its entry, nor an entry
without its change. Each entry is bounded: a state whose JSON is over `INLINE_BYTES` is stored
as its small fields plus `truncated` (the fields left out, the state's size and SHA-256).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.errors import BadRequest
from chalicelib.stores.backend import stores
from chalicelib.stores.ports import AuditEntry

INLINE_BYTES = 64 * 1024
"""The most JSON a state (before or after) keeps in full in an entry."""
FIELD_BYTES = 1024
"""A truncated state keeps each of its fields up to this size of JSON."""
PAGE_BYTES = 1024 * 1024
"""A page of `entries` ends early once its states reach this size (DynamoDB reads 1 MB)."""


def new_entry(
    tenant_id: str,
    actor: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """An entry: who (key id), what (action on target), when, and the state before and after.
    Pass it to the store method that makes the change."""
    return AuditEntry(
        tenant_id=tenant_id,
        at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        nonce=uuid.uuid4().hex[:8],
        actor=actor,
        action=action,
        target=target,
        # JSON strings: before/after keep their exact shape whatever the store's types allow
        before=bounded(before),
        after=bounded(after),
    )


def bounded(state: Any) -> str:
    """`state` as the JSON an entry stores: in full up to `INLINE_BYTES`, else truncated."""
    text = json.dumps(state, sort_keys=True, default=str)
    if len(text) <= INLINE_BYTES:
        return text
    canonical = json.dumps(
        state, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    kept: dict[str, Any] = {}
    left_out: list[str] = []
    used = 0
    for name, value in sorted(state.items()) if isinstance(state, dict) else ():
        size = len(json.dumps(value, sort_keys=True, default=str))
        if size <= FIELD_BYTES and used + size <= INLINE_BYTES // 2:
            kept[name] = value
            used += size
        else:
            left_out.append(name)
    kept["truncated"] = {
        "fields": left_out,
        "bytes": len(canonical),
        "sha256": hashlib.sha256(canonical).hexdigest(),
    }
    return json.dumps(kept, sort_keys=True, default=str)


def entries(tenant_id: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """One page of the tenant's audit log, newest first, with `next_cursor`."""
    after = _decode(cursor) if cursor else None
    listed, last = stores().audit.page(tenant_id, limit, after)
    page: list[AuditEntry] = []
    size = 0
    for item in listed:
        if page and size + len(item.before) + len(item.after) > PAGE_BYTES:
            last = page[-1].position
            break
        size += len(item.before) + len(item.after)
        page.append(item)
    return {
        "entries": [shown(i) for i in page],
        "next_cursor": _encode(last) if last else None,
    }


def shown(item: AuditEntry) -> dict[str, Any]:
    """A stored entry as `GET /v1/audit` shows it."""
    return {
        "at": item.at,
        "actor": item.actor,
        "action": item.action,
        "target": item.target,
        "before": json.loads(item.before),
        "after": json.loads(item.after),
    }


def cursor_of(item: AuditEntry) -> str:
    """The cursor of the page that follows a stored entry."""
    return _encode(item.position)


# Cursors name a position as `AUDIT#<at>#<nonce>` (the DynamoDB sort key, as they always did).
_CURSOR = re.compile(r"AUDIT#([0-9T:.+-]{10,40}#[0-9a-f]{8})")


def _encode(position: str) -> str:
    return base64.urlsafe_b64encode(f"AUDIT#{position}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        text = ""
    matched = _CURSOR.fullmatch(text)
    if matched is None:
        raise BadRequest("the cursor is not valid: pass next_cursor from the previous page")
    return matched.group(1)
