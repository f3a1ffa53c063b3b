"""Chalice's local API server, with the gateway responses the deployed API Gateway is given.

Deployed, API Gateway answers some requests itself (missing or bad key, unknown route); its
Gateway Responses are configured to use the API's JSON error shape. This handler does the same
locally, and serialises calls into the app: Chalice keeps `current_request` on the app object,
and a Lambda instance handles one request at a time anyway.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    LocalDevServer,
    LocalGatewayException,
    NotAuthorizedError,
)

from chalicelib.errors import error_body

UNAUTHORIZED_MESSAGE = "missing or invalid API key: send 'Authorization: Bearer <api key>'"

_app_lock = threading.Lock()


def gateway_response(error: LocalGatewayException) -> tuple[int, dict[str, Any]]:
    """The status and body API Gateway sends for a request it refuses itself."""
    if isinstance(error, NotAuthorizedError):
        return 401, error_body("unauthorized", UNAUTHORIZED_MESSAGE)
    if isinstance(error, ForbiddenError) and b"Missing Authentication Token" in (error.body or b""):
        return 404, error_body("not_found", "no such route: see swagger/openapi.yaml")
    if isinstance(error, ForbiddenError) and b"Authorization header requires" in (
        error.body or b""
    ):
        return 404, error_body("not_found", "no such route: see swagger/openapi.yaml")
    if isinstance(error, ForbiddenError):
        return 403, error_body("forbidden", "this API key may not call this route")
    return error.CODE, error_body("error", "the request was refused by the gateway")


class GatewayRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler with our gateway responses; one request in the app at a time."""

    def _generic_handle(self) -> None:
        with _app_lock:
            try:
                super()._generic_handle()
            except Exception as exc:
                # A Lambda authorizer raising "Unauthorized" is API Gateway's 401.
                if str(exc) != "Unauthorized":
                    raise
                self._send_json(401, error_body("unauthorized", UNAUTHORIZED_MESSAGE))

    def _send_error_response(self, error: LocalGatewayException) -> None:
        status, body = gateway_response(error)
        self._send_json(status, body)

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        self._send_http_response(
            status, {"Content-Type": "application/json"}, json.dumps(body).encode("utf-8")
        )

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the stack logs requests at debug level only."""


def create_server(app: Any, host: str, port: int, stage: str = "dev") -> LocalDevServer:
    """A local API server for `app` on host:port (port 0 picks a free one)."""
    from chalice.config import Config

    config = Config.create(chalice_stage=stage, app_name="pipeguard", lambda_timeout=60)
    return LocalDevServer(app, config, host, port, handler_cls=GatewayRequestHandler)
