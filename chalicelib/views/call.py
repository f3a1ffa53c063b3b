"""What a view receives and may return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib import jsonbody
from chalicelib.config import settings
from chalicelib.errors import BadRequest, PayloadTooLarge, ValidationFailed
from chalicelib.tenancy import Principal


@dataclass(frozen=True)
class Call:
    """One API call, after authentication and the scope check."""

    principal: Principal
    body: bytes | None
    query: dict[str, str]
    correlation_id: str

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id

    def json(self, what: str) -> dict[str, Any]:
        """The body as a JSON object (400 when it is not JSON, 413 over the request limit,
        422 when not an object)."""
        if not self.body:
            raise BadRequest(f"the request body is empty: send {what} as JSON")
        limit = settings().max_request_bytes
        if len(self.body) > limit:
            raise PayloadTooLarge(
                f"the request body is {len(self.body)} bytes; the limit is {limit}"
            )
        try:
            document = jsonbody.loads(self.body)
        except jsonbody.NumberTooLong as exc:
            raise BadRequest(f"the request body cannot be read: {exc}") from None
        except (ValueError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise BadRequest(
                f"the request body is not valid JSON ({reason}): send {what}"
            ) from None
        if not isinstance(document, dict):
            raise ValidationFailed(f"{what} must be a JSON object")
        return document


@dataclass(frozen=True)
class Reply:
    """A response other than `200` with a JSON body."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
