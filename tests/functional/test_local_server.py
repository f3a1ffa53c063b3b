"""The local API server over raw sockets: slow, stalled, oversized and malformed requests.

Whatever a client sends, the server answers with the API's JSON error body (never HTML, never a
dropped connection), and one client's slowness delays nobody else.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.conftest import scan_body

MiB = 1024 * 1024
ServerFactory = Callable[..., str]


@pytest.fixture
def serve(app_module: Any) -> Iterator[ServerFactory]:
    """Start the app behind a local server with the given options; returns its URL."""
    from chalicelib.local.server import create_server

    servers = []

    def start(**options: Any) -> str:
        server = create_server(app_module.app, "127.0.0.1", 0, **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def url(serve: ServerFactory) -> str:
    return serve()


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _connect(url: str, timeout: float = 10) -> socket.socket:
    return socket.create_connection(_address(url), timeout=timeout)


def _response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def _raw(url: str, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    with _connect(url, timeout) as sock:
        sock.sendall(data)
        return _response(sock)


def _json_error(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict:
    assert status == expected, body[:300]
    assert headers["content-type"].startswith("application/json")
    document = json.loads(body)
    assert set(document) == {"error"}
    assert set(document["error"]) == {"code", "message", "details"}
    assert document["error"]["message"]
    return document["error"]


def _closed(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_a_client_sending_its_body_slowly_delays_nobody_else(
    url: str, keys: dict[str, str]
) -> None:
    with _connect(url) as slow:
        slow.sendall(
            b"POST /v1/scans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 5000\r\n\r\n{"pipeline": '
        )
        time.sleep(0.2)  # its body is now being read
        started = time.monotonic()
        response = requests.get(
            url + "/v1/findings", headers={"Authorization": f"Bearer {keys['acme']}"}, timeout=10
        )
        assert response.status_code == 200
        assert time.monotonic() - started < 2


def test_requests_on_many_connections_are_served_side_by_side(
    url: str, keys: dict[str, str]
) -> None:
    stalled = [_connect(url) for _ in range(10)]  # connected, request not sent yet
    try:
        for sock in stalled[:4]:
            sock.sendall(b"GET /v1/findings HTTP/1.1\r\nHost: x\r\n")  # headers unfinished
        for sock in stalled[4:8]:  # bodies unfinished
            sock.sendall(b"PUT /v1/policy HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n{")
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {keys['acme']}"
        started = time.monotonic()
        for _ in range(5):
            assert api.get(url + "/v1/findings", timeout=10).status_code == 200
        assert time.monotonic() - started < 3
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.parametrize(
    "sent",
    [
        b"POST /v1/scans HTTP/1.1\r\nHost: x\r\nContent-Le",  # headers unfinished
        b"POST /v1/scans HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}",  # body short
        b"POST /v1/scans HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{",
    ],
    ids=["headers", "body", "chunked-body"],
)
def test_a_stalled_request_gets_408_json_at_the_deadline(serve: ServerFactory, sent: bytes) -> None:
    url = serve(read_timeout=1.0)
    with _connect(url) as sock:
        sock.sendall(sent)
        started = time.monotonic()
        error = _json_error(*_response(sock), 408)
        assert 0.8 < time.monotonic() - started < 6  # the deadline, not the 20 s default
        assert error["code"] == "request_timeout"
        assert "1 s" in error["message"]
        assert _closed(sock, within=3)


@pytest.mark.parametrize(
    "sent", [b"Content-Length: 100\r\n\r\n{}", b"Transfer-Encoding: chunked\r\n\r\n9\r\n{"]
)
def test_a_body_read_timing_out_before_the_deadline_watcher_acts_is_still_a_408(
    serve: ServerFactory, monkeypatch: pytest.MonkeyPatch, sent: bytes
) -> None:
    """On a loaded machine the socket's own timeout can fire first: still a 408 JSON body."""
    from chalicelib.local import server

    monkeypatch.setattr(server, "SOCKET_GRACE", -0.5)  # the socket read times out first
    monkeypatch.setattr(server._Deadlines, "arm", lambda *_: None)  # the watcher never acts
    url = serve(read_timeout=1.0)
    with _connect(url) as sock:
        sock.sendall(b"POST /v1/scans HTTP/1.1\r\nHost: x\r\n" + sent)
        error = _json_error(*_response(sock), 408)
        assert error["code"] == "request_timeout"


def test_a_client_trickling_its_headers_is_cut_at_the_deadline(serve: ServerFactory) -> None:
    url = serve(read_timeout=1.0)
    with _connect(url) as sock:
        sock.sendall(b"GET /v1/findings HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        answered = threading.Event()
        result: list[Any] = []

        def read() -> None:
            result.append(_response(sock))
            answered.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        while not answered.wait(0.2) and time.monotonic() - started < 5:
            sock.send(b"a")  # a byte every 0.2 s keeps each read short, never the whole
        assert answered.is_set(), "the trickling client was never cut off"
        assert time.monotonic() - started < 3
        assert _json_error(*result[0], 408)["code"] == "request_timeout"


def test_an_idle_keep_alive_connection_is_closed(serve: ServerFactory) -> None:
    url = serve(read_timeout=1.0)
    with _connect(url) as sock:
        sock.sendall(b"GET /v1/findings HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _response(sock)[0] == 401
        assert _closed(sock, within=3)


def test_connections_over_the_bound_get_503_json_at_once(
    serve: ServerFactory, keys: dict[str, str]
) -> None:
    url = serve(max_connections=2)
    held = [_connect(url), _connect(url)]
    time.sleep(0.2)  # both accepted, each holding a slot
    started = time.monotonic()
    status, headers, body = _raw(url, b"GET /v1/findings HTTP/1.1\r\nHost: x\r\n\r\n")
    assert time.monotonic() - started < 1
    error = _json_error(status, headers, body, 503)
    assert error["code"] == "service_unavailable"
    assert "2 open connections" in error["message"]
    assert headers["retry-after"] == "1"
    for sock in held:
        sock.close()
    auth = {"Authorization": f"Bearer {keys['acme']}"}
    deadline = time.monotonic() + 5
    while requests.get(url + "/v1/findings", headers=auth, timeout=10).status_code == 503:
        assert time.monotonic() < deadline, "closed connections did not free their slots"
        time.sleep(0.05)


def test_a_100_kb_header_gets_431_json(url: str) -> None:
    response = requests.get(
        url + "/v1/findings", headers={"Authorization": "Bearer " + "k" * 100_000}, timeout=10
    )
    error = _json_error(
        response.status_code, dict(response.headers.lower_items()), response.content, 431
    )
    assert error["code"] == "headers_too_large"


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "uri_too_long"),
        (b"BREW /v1/findings HTTP/1.1\r\nHost: x\r\n\r\n", 501, "not_implemented"),
        (b"GET /v1/findings HTTP/3.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported"),
        (b"GET /v1/findings HTTP/x\r\n\r\n", 400, "bad_request"),
        (b"GET /v1/findings\r\n\r\n", 400, "bad_request"),
        (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 150 + b"\r\n", 431, "headers_too_large"),
        (b"POST /v1/scans HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "bad_request"),
        (b"POST /v1/scans HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, "bad_request"),
        (b"POST /v1/scans HTTP/1.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", 413,
         "payload_too_large"),
        (b"POST /v1/scans HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400,
         "bad_request"),
        (b"POST /v1/scans HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"0\r\n\r\n", 400, "bad_request"),
        (b"POST /v1/scans HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented"),
        (b"POST /v1/scans HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
         400, "bad_request"),
        (b"POST /v1/scans HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}}}\r\n0\r\n\r\n",
         400, "bad_request"),
    ],
    ids=[
        "uri-too-long", "unknown-method", "http-3", "bad-version", "http-0.9", "too-many-headers",
        "length-not-a-number", "negative-length", "5000-digit-length", "two-lengths",
        "length-and-chunked", "unknown-coding", "bad-chunk-size", "chunk-over-its-size",
    ],
)  # fmt: skip
def test_requests_the_server_refuses_itself_get_json_errors(
    url: str, request_bytes: bytes, status: int, code: str
) -> None:
    error = _json_error(*_raw(url, request_bytes), status)
    assert error["code"] == code
    assert "<" not in error["message"]  # no HTML, no stdlib wording


def _chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_chunked_body_is_read(url: str, keys: dict[str, str]) -> None:
    body = json.dumps(scan_body(run_id="chunked")).encode()
    response = requests.post(
        url + "/v1/scans",
        data=_chunks(body, 16),  # a generator: requests sends Transfer-Encoding: chunked
        headers={"Authorization": f"Bearer {keys['acme']}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_6_mib_body_gets_413_json(url: str, keys: dict[str, str], chunked: bool) -> None:
    body = b'{"pipeline": "big", "padding": "' + b"x" * (6 * MiB) + b'"}'
    response = requests.post(
        url + "/v1/scans",
        data=_chunks(body) if chunked else body,
        headers={"Authorization": f"Bearer {keys['acme']}", "Content-Type": "application/json"},
        timeout=30,
    )
    error = _json_error(
        response.status_code, dict(response.headers.lower_items()), response.content, 413
    )
    assert error["code"] == "payload_too_large"
    assert str(5 * MiB) in error["message"]


def test_a_too_large_body_is_refused_before_it_is_sent(url: str) -> None:
    with _connect(url) as sock:
        sock.sendall(
            b"POST /v1/scans HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: 7340032\r\n\r\n"
        )
        error = _json_error(*_response(sock), 413)
        assert error["code"] == "payload_too_large"


def test_keep_alive_connections_serve_request_after_request(url: str, keys: dict[str, str]) -> None:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {keys['acme']}"
    for run in range(3):
        created = api.post(url + "/v1/scans", json=scan_body(run_id=f"run-{run}"), timeout=10)
        assert created.status_code == 202
        assert api.get(url + created.json()["status_url"], timeout=10).status_code == 200
    head = api.head(url + "/v1/findings", timeout=10)
    assert head.content == b""  # no body on the connection after a HEAD's headers
    assert api.get(url + "/v1/findings", timeout=10).status_code == 200
