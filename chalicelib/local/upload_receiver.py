"""The local server's `POST /uploads`: the embedded stand-in for a presigned S3 POST.

It takes the multipart form the collector sends to S3 (the grant's fields, then `file`), which
the Chalice app cannot: the file may be larger than an API request (`MAX_REQUEST_BYTES`) and the
form carries no API key (its signed policy is the authority). 204 when stored, else the API's
JSON error.
"""

from __future__ import annotations

import email.parser
import email.policy
import logging
from typing import Any

from chalicelib.errors import error_body
from chalicelib.stores.embedded.upload_forms import UploadRefused

log = logging.getLogger(__name__)

FORM_OVERHEAD = 64 * 1024  # room for the form's fields and part headers beside the file


def body_limit() -> int:
    from chalicelib.config import settings

    return settings().max_upload_bytes + FORM_OVERHEAD


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], bytes | None]:
    """The text fields before `file`, and the file's bytes (None without a file part)."""
    if (
        not content_type.lower().startswith("multipart/form-data")
        or "boundary=" not in content_type
    ):
        raise UploadRefused(
            415, "unsupported_media_type", "send the form as multipart/form-data with a boundary"
        )
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise UploadRefused(400, "bad_request", "the multipart form could not be read")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True) or b""
        if name == "file":
            return fields, payload  # as S3: fields after the file are not read
        fields.setdefault(name, payload.decode("utf-8", "replace"))
    return fields, None


def receive(headers: Any, body: bytes | None) -> tuple[int, dict[str, Any] | None]:
    """The status and JSON body (None for 204) of one upload form POST."""
    from chalicelib.stores.backend import stores
    from chalicelib.stores.embedded.upload_forms import SignedUploadForms

    backend = stores()
    forms = backend.uploads
    try:
        if not isinstance(forms, SignedUploadForms):
            raise UploadRefused(404, "not_found", "uploads go to the URL POST /v1/uploads answers")
        fields, data = parse_form(headers.get("Content-Type", ""), body or b"")
        if data is None:
            raise UploadRefused(400, "bad_request", "the form has no file field")
        forms.accept(fields, data, backend.blobs)
    except UploadRefused as refused:
        return refused.status, error_body(refused.code, refused.message)
    except (ValueError, KeyError, TypeError) as exc:  # a policy that decodes to something else
        log.debug("upload form refused", exc_info=True)
        return 400, error_body("bad_request", f"the upload form is not valid: {type(exc).__name__}")
    return 204, None
