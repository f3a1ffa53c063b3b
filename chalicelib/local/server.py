"""The embedded stack's HTTP server for the API, with the responses API Gateway gives.

Deployed, API Gateway answers some requests itself (missing or bad key, unknown route, a body
or header too large, a client too slow); its Gateway Responses use the API's JSON error shape.
This server does the same locally:

- one thread per connection, at most `max_connections` open (one more is answered 503 at once);
- a request's line, headers and body must arrive within `read_timeout` seconds (else 408), and
  an idle keep-alive connection is closed after as long;
- the body (Content-Length or chunked, at most MAX_REQUEST_BYTES, else 413) is read in full
  before the request enters the app, so a slow or stalled client delays nobody else;
- every error the server sends itself is the JSON error body;
- `POST /uploads` (the embedded backend's presigned upload form, `local.upload_receiver`) is
  answered without the app: its body may be as large as an upload, and it carries no API key.

Calls into the app are serialised: Chalice keeps `current_request` and `lambda_context` on the
app object, and a Lambda instance handles one request at a time anyway. Only the app call holds
the lock, never a socket read or write.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalice.local import (
    ForbiddenError,
    LocalGateway,
    LocalGatewayException,
    NotAuthorizedError,
)

from chalicelib.errors import error_body
from chalicelib.storage_errors import storage_failure, unavailable

log = logging.getLogger(__name__)

UNAUTHORIZED_MESSAGE = "missing or invalid API key: send 'Authorization: Bearer <api key>'"
MAX_CONNECTIONS = 64
READ_TIMEOUT = 20.0
SOCKET_GRACE = 1.0  # how much later than the deadline a single socket read times out
LINGER_SECONDS = 2.0  # after refusing a body, how long its rest is read and dropped
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_app_lock = threading.Lock()
_DIGITS = re.compile(r"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")

# The errors http.server itself detects, in the API's words.
_PROTOCOL_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "the request is not valid HTTP/1.1"),
    408: (
        "request_timeout",
        "the request's headers and body did not arrive within {timeout:g} s: send them at once",
    ),
    414: ("uri_too_long", "the request line is over 65536 bytes: shorten the URL"),
    431: (
        "headers_too_large",
        "a request header is over 65536 bytes or there are over 100 headers: send fewer, "
        "smaller headers (an API key is 47 characters)",
    ),
    501: ("not_implemented", "method not supported: use " + ", ".join(METHODS)),
    505: ("http_version_not_supported", "send HTTP/1.1 or HTTP/1.0"),
}


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


class Refused(Exception):
    """A request the server answers itself with a JSON error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Deadlines:
    """Stops reading from connections whose request did not arrive in time."""

    def __init__(self) -> None:
        self._due: dict[GatewayRequestHandler, float] = {}
        self._changed = threading.Condition()
        self._closed = False
        threading.Thread(target=self._watch, name="api-deadlines", daemon=True).start()

    def arm(self, handler: GatewayRequestHandler, seconds: float) -> None:
        with self._changed:
            self._due[handler] = time.monotonic() + seconds
            self._changed.notify()

    def disarm(self, handler: GatewayRequestHandler) -> None:
        with self._changed:
            self._due.pop(handler, None)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()

    def _watch(self) -> None:
        with self._changed:
            while not self._closed:
                now = time.monotonic()
                for handler in [h for h, due in self._due.items() if due <= now]:
                    del self._due[handler]
                    handler.expire()
                nearest = min(self._due.values(), default=None)
                self._changed.wait(None if nearest is None else max(nearest - now, 0.01))


class ApiServer(ThreadingHTTPServer):
    """A threaded HTTP server for one Chalice app; bound (and so owning its port) on creation.

    `attach` gives it the app; `serve_forever` then answers requests until `stop`.
    """

    daemon_threads = True
    block_on_close = False  # `stop` waits for the request in the app, not for stalled clients

    def __init__(
        self,
        host: str,
        port: int,
        max_connections: int = MAX_CONNECTIONS,
        read_timeout: float = READ_TIMEOUT,
        max_request_bytes: int | None = None,
    ) -> None:
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._max_request_bytes = max_request_bytes
        self._slots = threading.BoundedSemaphore(max_connections)
        self.deadlines = _Deadlines()  # before binding: a failed bind calls server_close
        super().__init__((host, port), GatewayRequestHandler)
        self.gateway: LocalGateway | None = None
        self.stopping = False
        self._serving = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def max_request_bytes(self) -> int:
        if self._max_request_bytes is None:
            from chalicelib.config import settings

            self._max_request_bytes = settings().max_request_bytes
        return self._max_request_bytes

    def attach(self, app: Any, stage: str = "dev") -> None:
        from chalice.config import Config

        config = Config.create(chalice_stage=stage, app_name="pipeguard", lambda_timeout=60)
        self.gateway = LocalGateway(app, config)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._serving.set()
        super().serve_forever(poll_interval)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """Over the connection bound: 503 at once, from the accepting thread."""
        body = json.dumps(
            error_body(
                "service_unavailable",
                f"the server has {self.max_connections} open connections, its limit: "
                "send the request again in a moment",
            )
        ).encode()
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            request.settimeout(0)
            with contextlib.suppress(BlockingIOError):
                request.recv(65536)  # what already arrived: closing over it would reset
            request.settimeout(1.0)
            request.sendall(head.encode() + body)
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is no error of ours; anything else is logged."""
        if isinstance(sys.exc_info()[1], OSError):
            log.debug("connection from %s failed", client_address, exc_info=True)
        else:
            log.exception("connection from %s failed", client_address)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let the request in the app finish (at most `timeout` s), close."""
        self.stopping = True
        if self._serving.is_set():
            self.shutdown()
        if _app_lock.acquire(timeout=timeout):
            _app_lock.release()
        self.server_close()

    def server_close(self) -> None:
        self.deadlines.close()
        super().server_close()


class GatewayRequestHandler(BaseHTTPRequestHandler):
    """Reads a whole request under a deadline, calls the app, sends its response."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: the headers and the body are two writes; with Nagle's algorithm the body
    # waits for the client's delayed ACK of the headers (~40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True
    server: ApiServer

    def setup(self) -> None:
        # Each socket read and write is bounded too, a little later than the request's deadline:
        # the deadline answers 408, while a socket timeout would just drop the connection.
        self.timeout = self.server.read_timeout + SOCKET_GRACE
        self._expired = False
        super().setup()

    def handle_one_request(self) -> None:
        self._expired = False
        self.server.deadlines.arm(self, self.server.read_timeout)
        try:
            super().handle_one_request()
        finally:
            self.server.deadlines.disarm(self)

    def expire(self) -> None:
        """Called by the deadline watcher: the pending read ends, the request gets 408."""
        self._expired = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RD)

    # Requests ----------------------------------------------------------------------------
    def _handle(self) -> None:
        try:
            if self._expired:
                raise Refused(408, *self._protocol_error(408))
            try:
                body = self._read_body()
            except TimeoutError:
                self._expired = True
                raise Refused(408, *self._protocol_error(408)) from None
            self.server.deadlines.disarm(self)
            if self._is_upload():
                status, headers, payload = self._receive_upload(body)
            else:
                status, headers, payload = self._call_app(body)
        except Refused as refused:
            self._refuse(refused)
            return
        self._send(status, headers, payload)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

    def _is_upload(self) -> bool:
        from chalicelib.stores.embedded.upload_forms import UPLOAD_PATH

        return self.command == "POST" and self.path.split("?")[0] == UPLOAD_PATH

    def _body_limit(self) -> int:
        if self._is_upload():
            from chalicelib.local.upload_receiver import body_limit

            return body_limit()
        return self.server.max_request_bytes

    def _receive_upload(self, body: bytes | None) -> tuple[int, dict[str, Any], bytes | None]:
        from chalicelib.local.upload_receiver import receive

        if self.server.stopping:
            raise Refused(503, "service_unavailable", "the stack is stopping")
        status, document = receive(self.headers, body)
        return (
            status,
            {"Content-Type": "application/json"},
            (None if document is None else _json(document)),
        )

    def _call_app(self, body: bytes | None) -> tuple[int, dict[str, Any], bytes | None]:
        headers = dict(self.headers)
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            headers = {k: v for k, v in headers.items() if k.lower() != "transfer-encoding"}
            headers["Content-Length"] = str(len(body or b""))
        with _app_lock:
            if self.server.stopping or self.server.gateway is None:
                raise Refused(503, "service_unavailable", "the stack is stopping")
            try:
                response = self.server.gateway.handle_request(
                    method=self.command, path=self.path, headers=headers, body=body
                )
            except LocalGatewayException as error:
                status, document = gateway_response(error)
                return status, {"Content-Type": "application/json"}, _json(document)
            except Exception as exc:
                # A Lambda authorizer raising "Unauthorized" is API Gateway's 401.
                if str(exc) == "Unauthorized":
                    raise Refused(401, "unauthorized", UNAUTHORIZED_MESSAGE) from None
                reason = storage_failure(exc)  # the authorizer could not read the keys
                if reason is not None:
                    log.error("storage unavailable: %s (%s)", reason, exc)
                    refused = unavailable(reason)
                    return (
                        refused.status,
                        {"Content-Type": "application/json", **refused.headers},
                        _json(refused.body()),
                    )
                log.exception("%s %s failed", self.command, self.path.split("?")[0])
                raise Refused(
                    500, "internal_error", "the request failed: see the stack's log"
                ) from None
        headers = {**response["headers"], **response["multiValueHeaders"]}
        payload = response["body"]
        if response.get("isBase64Encoded"):
            import base64

            payload = base64.b64decode(payload)
        elif isinstance(payload, str):
            payload = payload.encode("utf-8")
        return response["statusCode"], headers, payload

    # Bodies --------------------------------------------------------------------------------
    def _read_body(self) -> bytes | None:
        """The whole body, or Refused (400, 408, 413, 501) without reading past the limit."""
        codings = self.headers.get_all("Transfer-Encoding") or []
        lengths = self.headers.get_all("Content-Length") or []
        if codings and lengths:
            raise Refused(400, "bad_request", "send Content-Length or Transfer-Encoding, not both")
        if codings:
            names = [c.strip().lower() for value in codings for c in value.split(",")]
            if names != ["chunked"]:
                raise Refused(
                    501,
                    "not_implemented",
                    f"Transfer-Encoding {', '.join(names)} is not supported: send the body "
                    "with Content-Length or Transfer-Encoding: chunked",
                )
            return self._read_chunked() or None
        if not lengths:
            return None
        length = self._content_length(lengths)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self._incomplete(f"the body ended after {len(body)} of {length} bytes")
        return body or None

    def _content_length(self, values: list[str]) -> int:
        text = {v.strip() for v in values}
        if len(text) != 1:
            raise Refused(400, "bad_request", "the request has conflicting Content-Length headers")
        value = text.pop()
        if not value.isascii() or not value.isdigit():
            raise Refused(
                400, "bad_request", f"Content-Length must be a number of bytes, not {value[:40]!r}"
            )
        if not _DIGITS.fullmatch(value) or int(value) > self._body_limit():
            raise self._too_large(f"Content-Length is {value[:40]}")
        return int(value)

    def _read_chunked(self) -> bytes:
        limit = self._body_limit()
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            match = _CHUNK_SIZE.fullmatch(line)
            if not match:
                if not line.endswith(b"\n"):
                    self._incomplete(f"the chunked body ended after {total} bytes")
                raise Refused(400, "bad_request", "the chunked body has an invalid chunk size line")
            size = int(match.group(1), 16)
            if size == 0:
                self._skip_trailers()
                return b"".join(parts)
            total += size
            if total > limit:
                raise self._too_large(f"the chunked body is over {limit} bytes")
            data = self.rfile.read(size)
            if len(data) < size:
                self._incomplete(f"the chunked body ended after {total - size + len(data)} bytes")
            end = self.rfile.readline(3)
            if end not in (b"\r\n", b"\n"):
                if not end:
                    self._incomplete(f"the chunked body ended after {total} bytes")
                raise Refused(400, "bad_request", "a chunk of the body is longer than its size")
            parts.append(data)

    def _skip_trailers(self) -> None:
        for _ in range(100):
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n"):
                return
            if not line.endswith(b"\n"):
                self._incomplete("the chunked body ended in its trailer")
        raise Refused(431, *self._protocol_error(431))

    def _too_large(self, what: str) -> Refused:
        limit = self._body_limit()
        return Refused(
            413,
            "payload_too_large",
            f"{what}; the limit is {limit} bytes: upload large artifacts with POST /v1/uploads",
        )

    def _incomplete(self, message: str) -> None:
        if self._expired:
            raise Refused(408, *self._protocol_error(408))
        raise Refused(400, "bad_request", message)

    def handle_expect_100(self) -> bool:
        """Refuse a too large body before the client sends it."""
        lengths = self.headers.get_all("Content-Length") or []
        try:
            if lengths:
                self._content_length(lengths)
        except Refused as refused:
            self._refuse(refused)
            return False
        return super().handle_expect_100()

    # Responses -------------------------------------------------------------------------------
    def _protocol_error(self, status: int) -> tuple[str, str]:
        code, message = _PROTOCOL_ERRORS[status]
        return code, message.format(timeout=self.server.read_timeout)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":  # a request line without a version
            self.send_error(400, "HTTP/0.9 requests are not served")
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, header too large...) as JSON."""
        if self.request_version == "HTTP/0.9":  # not parsed yet: answer in HTTP/1.1 anyway
            self.request_version = "HTTP/1.1"
        status = 408 if self._expired else int(code)
        if status in _PROTOCOL_ERRORS:
            error, text = self._protocol_error(status)
        else:
            error, text = "bad_request", HTTPStatus(status).description
        if status == 400 and message:
            text = f"{text}: {message}"
        elif status == 501 and self.command:
            text = f"{self.command[:20]!r} is not supported: use " + ", ".join(METHODS)
        self.log_error("%d %s", status, message or text)
        self._send_json(status, error_body(error, text))
        self._linger()

    def _refuse(self, refused: Refused) -> None:
        self._send_json(refused.status, error_body(refused.code, refused.message))
        self._linger()

    def _send_json(self, status: int, document: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json"}
        if status >= 400 and status not in (401, 403, 404, 405, 409, 415, 422, 429):
            self.close_connection = True
            headers["Connection"] = "close"
        self._send(status, headers, _json(document))

    def _send(self, status: int, headers: dict[str, Any], body: bytes | None) -> None:
        self.send_response(status)
        headers = dict(headers)
        content_type = headers.pop("Content-Type", "application/json")
        headers.pop("Content-Length", None)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body or b"")))
        for name, value in headers.items():
            for one in value if isinstance(value, list) else [value]:
                self.send_header(name, str(one))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _linger(self) -> None:
        """After refusing a request, drop what the client still sends (bounded), then close,
        so the client reads the error instead of a connection reset."""
        if not self.close_connection:
            return
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_WR)
            end = time.monotonic() + LINGER_SECONDS
            while (left := end - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(65536):
                    break

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode("utf-8")


def create_server(app: Any, host: str, port: int, **options: Any) -> ApiServer:
    """A local API server for `app` on host:port (port 0 picks a free one), not yet serving."""
    server = ApiServer(host, port, **options)
    server.attach(app)
    return server
