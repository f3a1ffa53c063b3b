"""HTTP plumbing shared by the routes: the principal of a request and JSON error responses."""

from __future__ import annotations

import importlib
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from chalicelib import observability, ratelimit, storage_errors
from chalicelib.errors import ApiError, Forbidden, Unauthorized, error_body
from chalicelib.routes import Route
from chalicelib.tenancy import Principal
from chalicelib.views.call import Call, Reply

log = logging.getLogger(__name__)

_CHALICE_ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}
_INTERNAL_MESSAGE = "the service failed to handle this request; it has been logged"


def principal_of(request: Any, scope: str) -> Principal:
    """The principal the authorizer attached to `request`, checked for `scope`."""
    context = (getattr(request, "context", None) or {}).get("authorizer") or {}
    if not context.get("tenant_id"):
        raise Unauthorized("missing or invalid API key: send 'Authorization: Bearer <api key>'")
    principal = Principal.from_context(context)
    if scope not in principal.scopes:
        raise Forbidden(f"this API key lacks the {scope!r} scope needed here")
    return principal


_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def correlation_id(request: Any) -> str:
    """The request's correlation id: the caller's `X-Correlation-Id`, API Gateway's request id,
    or a new one; remembered in the request context so the view passes the same one on."""
    context = getattr(request, "context", None)
    if context is None:
        return uuid.uuid4().hex
    if "correlation_id" not in context:
        supplied = (getattr(request, "headers", None) or {}).get("x-correlation-id", "")
        context["correlation_id"] = (
            supplied
            if _CORRELATION_ID.match(supplied)
            else context.get("requestId") or uuid.uuid4().hex
        )
    return context["correlation_id"]


def view_for(route: Route, request: Callable[[], Any]) -> Callable[..., Any]:
    """The Chalice view of a route: authenticate, check the scope, call the view lazily,
    render `ApiError`s and `Reply`s, and log with the tenant and correlation id."""
    from chalice import Response

    module_name, function_name = route.view.split(":", 1)

    def view(**params: str) -> Any:
        current = request()
        correlation = correlation_id(current)
        try:
            principal = principal_of(current, route.scope)
            ratelimit.check(principal.tenant_id)
            call = Call(
                principal=principal,
                body=current.raw_body,
                query=dict(current.query_params or {}),
                correlation_id=correlation,
            )
            handler = getattr(
                importlib.import_module(f"chalicelib.views.{module_name}"), function_name
            )
            with observability.bound(tenant_id=principal.tenant_id, correlation_id=correlation):
                result = handler(call, **params)
        except ApiError as exc:
            return Response(body=exc.body(), status_code=exc.status, headers=dict(exc.headers))
        except Exception as exc:
            reason = storage_errors.storage_failure(exc)
            if reason is None:
                raise
            log.error("storage unavailable: %s (%s)", reason, exc)
            refused = storage_errors.unavailable(reason)
            return Response(
                body=refused.body(), status_code=refused.status, headers=dict(refused.headers)
            )
        finally:
            observability.flush()
        if isinstance(result, Reply):
            return Response(body=result.body, status_code=result.status, headers=result.headers)
        return result

    view.__name__ = view.__qualname__ = function_name
    return view


def json_error_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Render Chalice's own errors (405, 415, a crash's 500) as `{"error": {...}}` too."""
    response = get_response(event)
    if response.status_code >= 400 and _is_chalice_error(response.body):
        body = response.body if isinstance(response.body, dict) else json.loads(response.body)
        code = _CHALICE_ERROR_CODES.get(response.status_code, "error")
        message = _INTERNAL_MESSAGE if response.status_code >= 500 else body.get("Message", "")
        response.body = error_body(code, message)
        response.headers.pop("Content-Type", None)
    return response


def _is_chalice_error(body: Any) -> bool:
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return False
    return isinstance(body, dict) and "Code" in body and "Message" in body
