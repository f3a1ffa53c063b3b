"""Large artifacts: a signed upload form (S3 presigned POST on AWS, the local server's form on
the embedded backend) under the tenant's prefix, bounded in size and time, used once; the
uploaded file is read back through the blob store."""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import PayloadTooLarge, ServiceUnavailable, ValidationFailed
from chalicelib.models import UploadRequest
from chalicelib.stores import blobs
from chalicelib.stores.backend import stores


def upload_key(tenant_id: str, upload_id: str) -> str:
    return blobs.tenant_key(tenant_id, "uploads", upload_id)


def start(tenant_id: str, request: UploadRequest) -> dict[str, Any]:
    """A signed form POST that accepts one file of at most `max_upload_bytes`, for a while."""
    limits = settings()
    if request.size > limits.max_upload_bytes:
        raise PayloadTooLarge(
            f"an uploaded artifact may be at most {limits.max_upload_bytes} bytes; "
            f"this one is {request.size}"
        )
    upload_id = "upl_" + uuid.uuid4().hex[:24]
    try:
        form = stores().uploads.grant(
            tenant_id,
            upload_id,
            upload_key(tenant_id, upload_id),
            limits.max_upload_bytes,
            limits.upload_expiry_seconds,
        )
    except RuntimeError as exc:  # the embedded server's own URL is not configured
        raise ServiceUnavailable(f"uploads are not available: {exc}") from None
    return {
        "upload_id": upload_id,
        "method": "POST",
        "url": form.url,
        "fields": form.fields,
        "max_bytes": limits.max_upload_bytes,
        "expires_in": limits.upload_expiry_seconds,
    }


def fetch(tenant_id: str, upload_id: str, where: str) -> bytes:
    """The uploaded file (422 when it was never uploaded, 413 when it is too large)."""
    key = upload_key(tenant_id, upload_id)
    size = stores().blobs.size(tenant_id, key)
    if size is None:
        raise _not_uploaded(upload_id, where)
    if size > settings().max_upload_bytes:
        raise PayloadTooLarge(f"{where}: the uploaded file is larger than allowed")
    data = stores().blobs.get(tenant_id, key)
    if data is None:  # removed since
        raise _not_uploaded(upload_id, where)
    return data


def _not_uploaded(upload_id: str, where: str) -> ValidationFailed:
    return ValidationFailed(
        f"{where}: upload {upload_id!r} has no file: upload it to the URL you were given",
        [{"field": where, "message": "not uploaded"}],
    )
