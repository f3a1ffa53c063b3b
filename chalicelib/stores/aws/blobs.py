"""Blobs in S3: the artifact bucket, one object per key (`tenants/<tenant>/...`)."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.stores import keys
from chalicelib.stores.clients import client

# How S3 answers for a missing key: 404, or 403 for a role without s3:ListBucket.
_MISSING = ("404", "NoSuchKey", "NotFound", "403")


def _missing(exc: Exception) -> bool:
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    return response.get("Error", {}).get("Code") in _MISSING


class S3Blobs:
    """`BlobStore` on the artifact bucket."""

    def put(
        self, tenant_id: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        keys.blob_parts(tenant_id, key)
        client("s3").put_object(
            Bucket=settings().artifact_bucket, Key=key, Body=data, ContentType=content_type
        )

    def get(self, tenant_id: str, key: str) -> bytes | None:
        keys.blob_parts(tenant_id, key)
        try:
            obj = client("s3").get_object(Bucket=settings().artifact_bucket, Key=key)
        except Exception as exc:
            if _missing(exc):
                return None
            raise
        data: bytes = obj["Body"].read()
        return data

    def size(self, tenant_id: str, key: str) -> int | None:
        keys.blob_parts(tenant_id, key)
        try:
            head = client("s3").head_object(Bucket=settings().artifact_bucket, Key=key)
        except Exception as exc:
            if _missing(exc):
                return None
            raise
        return int(head["ContentLength"])
