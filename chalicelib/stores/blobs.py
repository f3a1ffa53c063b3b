"""Artifact bodies and scan reports in S3, always under the tenant's prefix."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import settings
from chalicelib.stores.clients import client


def tenant_key(tenant_id: str, *parts: str) -> str:
    """`tenants/<tenant>/<parts...>`: every object key starts with its tenant."""
    if not tenant_id or "/" in tenant_id:
        raise ValueError("invalid tenant id")
    return "/".join(("tenants", tenant_id, *parts))


def put_bytes(key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
    client("s3").put_object(
        Bucket=settings().artifact_bucket, Key=key, Body=data, ContentType=content_type
    )


def get_bytes(key: str) -> bytes:
    obj = client("s3").get_object(Bucket=settings().artifact_bucket, Key=key)
    return obj["Body"].read()


def put_json(key: str, document: Any) -> None:
    put_bytes(key, json.dumps(document, sort_keys=True).encode("utf-8"), "application/json")


def get_json(key: str) -> Any:
    return json.loads(get_bytes(key))
