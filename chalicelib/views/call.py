"""What a view receives and may return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib import jsonbody
from chalicelib.errors import BadRequest, ValidationFailed
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
        """The body as a JSON object (400 when it is not JSON, 422 when not an object)."""
        if not self.body:
            raise BadRequest(f"the request body is empty: send {what} as JSON")
        try:
            document = jsonbody.loads(self.body)
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
