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


def exists(key: str) -> bool:
    """Whether `key` is known to be stored. A key S3 will not confirm (404, or 403 for a role
    without s3:ListBucket, which is how S3 answers for a missing key then) is not."""
    s3 = client("s3")
    try:
        s3.head_object(Bucket=settings().artifact_bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound", "403"):
            return False
        raise
    return True


def get_bytes(key: str) -> bytes:
    obj = client("s3").get_object(Bucket=settings().artifact_bucket, Key=key)
    return obj["Body"].read()


def put_json(key: str, document: Any) -> None:
    put_bytes(key, json.dumps(document, sort_keys=True).encode("utf-8"), "application/json")


def get_json(key: str) -> Any:
    return json.loads(get_bytes(key))
