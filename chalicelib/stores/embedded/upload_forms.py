"""Upload forms on the embedded backend: the local server's `POST /uploads` takes the same
multipart form a presigned S3 POST does (the grant's fields, then `file`).

The `policy` field is base64url JSON (tenant, upload id, key, size limit, expiry) and
`signature` its HMAC-SHA256 under a secret kept in the database (made on first use). A form is
accepted once: before expiry, with the signed key in `key`, a file of 1 to `max_bytes` bytes,
and only while its grant is unused; the file goes to the blob store under that key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.config import settings
from chalicelib.stores import keys
from chalicelib.stores.embedded.database import Database
from chalicelib.stores.ports import BlobStore, UploadGrant

UPLOAD_PATH = "/uploads"
_SECRET = "upload-forms"


class UploadRefused(Exception):
    """A form the server does not accept: `status` and a message saying why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class UploadsUnavailable(RuntimeError):
    """The server's public URL is not configured (`PIPEGUARD_PUBLIC_URL`)."""


class SignedUploadForms:
    """`UploadGrants` for the embedded server, and the check of the forms it receives."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._secret: bytes | None = None

    def secret(self) -> bytes:
        if self._secret is None:
            with self.database.write() as conn:
                conn.execute(
                    "INSERT INTO signing_secrets (name, secret) VALUES (?, ?)"
                    " ON CONFLICT (name) DO NOTHING",
                    (_SECRET, secrets.token_bytes(32)),
                )
                (self._secret,) = conn.execute(
                    "SELECT secret FROM signing_secrets WHERE name = ?", (_SECRET,)
                ).fetchone()
        return self._secret

    def _sign(self, policy: str) -> str:
        return hmac.new(self.secret(), policy.encode(), hashlib.sha256).hexdigest()

    def grant(
        self, tenant_id: str, upload_id: str, key: str, max_bytes: int, expires_in: int
    ) -> UploadGrant:
        keys.blob_parts(tenant_id, key)
        base = settings().public_url.rstrip("/")
        if not base:
            raise UploadsUnavailable("PIPEGUARD_PUBLIC_URL (the API's own URL) is not set")
        document = {
            "tenant_id": tenant_id,
            "upload_id": upload_id,
            "key": key,
            "max_bytes": max_bytes,
            "expires": int(time.time()) + expires_in,
        }
        policy = base64.urlsafe_b64encode(json.dumps(document).encode()).decode()
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO upload_grants (upload_id, tenant_id) VALUES (?, ?)",
                (upload_id, tenant_id),
            )
        return UploadGrant(
            url=base + UPLOAD_PATH,
            fields={"key": key, "policy": policy, "signature": self._sign(policy)},
        )

    def accept(self, fields: dict[str, str], data: bytes, blobs: BlobStore) -> str:
        """Check a received form and store its file; the key it was stored under."""
        document = self._verified(fields)
        if not 1 <= len(data) <= document["max_bytes"]:
            raise UploadRefused(
                413 if data else 400,
                "payload_too_large" if data else "bad_request",
                f"the file must be 1 to {document['max_bytes']} bytes; it is {len(data)}",
            )
        tenant_id, upload_id, key = document["tenant_id"], document["upload_id"], document["key"]
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self.database.write() as conn:
            claimed = conn.execute(
                "UPDATE upload_grants SET used_at = ? WHERE upload_id = ? AND tenant_id = ?"
                " AND used_at IS NULL",
                (now, upload_id, tenant_id),
            ).rowcount
        if not claimed:
            raise UploadRefused(
                403, "forbidden", "this upload form was used already: ask POST /v1/uploads again"
            )
        try:
            blobs.put(tenant_id, key, data)
        except BaseException:
            with self.database.write() as conn:  # not stored: the form may be sent again
                conn.execute(
                    "UPDATE upload_grants SET used_at = NULL WHERE upload_id = ?", (upload_id,)
                )
            raise
        return key

    def _verified(self, fields: dict[str, str]) -> dict[str, Any]:
        policy, signature = fields.get("policy", ""), fields.get("signature", "")
        if not policy or not signature or "key" not in fields:
            raise UploadRefused(
                400,
                "bad_request",
                "the form needs the fields key, policy and signature it was given",
            )
        if not hmac.compare_digest(self._sign(policy), signature):
            raise UploadRefused(403, "forbidden", "the form's signature does not match its policy")
        document = json.loads(base64.urlsafe_b64decode(policy.encode()))
        if fields["key"] != document["key"]:
            raise UploadRefused(
                403, "forbidden", "the key field is not the key the form was signed for"
            )
        if time.time() > document["expires"]:
            raise UploadRefused(
                403, "forbidden", "the upload form expired: ask POST /v1/uploads again"
            )
        keys.blob_parts(document["tenant_id"], document["key"])
        return document
