"""Key checks both backends apply: a group key or blob key is the tenant's, and well formed."""

from __future__ import annotations

import json
from typing import Any


def owns(tenant_id: str, group_key: str) -> bool:
    """Whether an `ids.artifact_key` / `ids.pipeline_key` is one of the tenant's."""
    return bool(tenant_id) and group_key.startswith(f"{tenant_id}#")


def tenant_key(tenant_id: str, *parts: str) -> str:
    """`tenants/<tenant>/<parts...>`: every blob key starts with its tenant."""
    if not tenant_id or "/" in tenant_id:
        raise ValueError("invalid tenant id")
    return "/".join(("tenants", tenant_id, *parts))


def blob_parts(tenant_id: str, key: str) -> list[str]:
    """The parts of a blob key after its tenant's prefix; `ValueError` for a key that is not
    the tenant's or whose parts (the tenant's too) are empty, start with `.` (so `..`, and the
    embedded store's temporary files) or hold a backslash or NUL."""
    prefix = tenant_key(tenant_id) + "/"
    if not key.startswith(prefix):
        raise ValueError(f"blob key {key!r} is not under {prefix!r}")
    parts = key[len(prefix) :].split("/")
    for part in (tenant_id, *parts):
        if not part or part.startswith(".") or "\\" in part or "\x00" in part:
            raise ValueError(f"blob key {key!r} has an invalid part {part!r}")
    return parts


def scan_cursor(scan: dict[str, Any]) -> str:
    """The position after a scan in its pipeline's listing."""
    return json.dumps([scan["received_at"], scan["scan_id"]], separators=(",", ":"))


def scan_position(after: str) -> tuple[str, str]:
    """`(received_at, scan_id)` of a cursor; `ValueError` if it is not one."""
    try:
        received_at, scan_id = json.loads(after)
    except (ValueError, TypeError):
        raise ValueError("not a scan listing cursor") from None
    if not (isinstance(received_at, str) and isinstance(scan_id, str)):
        raise ValueError("not a scan listing cursor")
    return received_at, scan_id
