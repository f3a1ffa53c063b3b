"""Artifact bodies and scan reports, on the configured backend's `BlobStore`: each call names
its tenant, and a key outside that tenant's prefix is a `ValueError`."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.stores.backend import stores
from chalicelib.stores.keys import tenant_key

__all__ = ["BlobMissing", "exists", "get_bytes", "get_json", "put_bytes", "put_json", "tenant_key"]


class BlobMissing(LookupError):
    """Nothing is stored under the key."""


def put_bytes(
    tenant_id: str, key: str, data: bytes, content_type: str = "application/octet-stream"
) -> None:
    stores().blobs.put(tenant_id, key, data, content_type)


def exists(tenant_id: str, key: str) -> bool:
    """Whether `key` is known to be stored."""
    return stores().blobs.size(tenant_id, key) is not None


def get_bytes(tenant_id: str, key: str) -> bytes:
    """The bytes under `key`; `BlobMissing` when nothing is stored there."""
    data = stores().blobs.get(tenant_id, key)
    if data is None:
        raise BlobMissing(f"no blob {key!r}")
    return data


def put_json(tenant_id: str, key: str, document: Any) -> None:
    data = json.dumps(document, sort_keys=True).encode("utf-8")
    put_bytes(tenant_id, key, data, "application/json")


def get_json(tenant_id: str, key: str) -> Any:
    return json.loads(get_bytes(tenant_id, key))
