"""API errors: a caller mistake becomes `{"error": {"code", "message", "details"}}` with a 4xx."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the caller can act on; the route wrapper renders it as a JSON response."""

    status = 400
    code = "bad_request"
    headers: dict[str, str] = {}  # noqa: RUF012 - read-only per class

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class ValidationFailed(ApiError):
    status, code = 422, "validation_failed"


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"
    headers = {"Retry-After": "2"}  # noqa: RUF012


class StorageUnavailable(ApiError):
    """The state directory cannot be written (disk full, read-only, I/O error): nothing of the
    request was stored."""

    status, code = 503, "storage_unavailable"
    headers = {"Retry-After": "30"}  # noqa: RUF012


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or []}}


MAX_DETAILS = 50
MAX_SHOWN = 300


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """`text` cut to `limit` characters (an error never echoes a whole oversized input)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def from_pydantic(exc: Any, what: str) -> ValidationFailed:
    """Turn a pydantic ValidationError into a 422 naming each field at fault (the first
    `MAX_DETAILS` of them, each field and message shortened)."""
    details = [
        {
            "field": shorten(".".join(str(p) for p in err.get("loc", ())) or what),
            "message": shorten(err.get("msg", "invalid")),
        }
        for err in exc.errors(include_url=False, include_input=False)[:MAX_DETAILS]
    ]
    fields = ", ".join(d["field"] for d in details[:5])
    return ValidationFailed(f"{what} is invalid: check {fields}", details)
