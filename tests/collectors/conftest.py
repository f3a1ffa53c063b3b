"""A real local HTTP server that plays the Pipeguard API from a script, and a clean CI env."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.collectors.helpers import CI_NAMES, CI_PREFIXES

SCAN_ID = "scn_" + "a" * 24


@pytest.fixture(autouse=True)
def no_ci_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start outside any CI system, whatever runs them."""
    for name in list(os.environ):
        if name.startswith(CI_PREFIXES) or name in CI_NAMES:
            monkeypatch.delenv(name)


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": []}}


def finding(rule_id: str = "DF-USER-001", severity: str = "high", **extra: Any) -> dict[str, Any]:
    base = {
        "finding_id": "fnd_" + "b" * 24,
        "scan_id": SCAN_ID,
        "pipeline": "shop",
        "run_id": "run-1",
        "commit": None,
        "artifact_type": "dockerfile",
        "path": "Dockerfile",
        "rule_id": rule_id,
        "title": "Container runs as root",
        "severity": severity,
        "message": "the final stage never sets USER, so it runs as root",
        "resource": None,
        "line": 1,
        "lines": [1],
        "status": "open",
        "first_seen": "2026-01-01T00:00:00+00:00",
        "last_seen": "2026-01-01T00:00:00+00:00",
    }
    return {**base, **extra}


def scan(status: str = "complete", verdict: str | None = "pass", **extra: Any) -> dict[str, Any]:
    complete = status == "complete"
    counts = dict.fromkeys(("info", "low", "medium", "high", "critical"), 0)
    base = {
        "scan_id": SCAN_ID,
        "pipeline": "shop",
        "run_id": "run-1",
        "commit": None,
        "status": status,
        "verdict": verdict if complete else None,
        "counts": counts if complete else None,
        "fail_on": "high",
        "received_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "completed_at": "2026-01-01T00:00:01+00:00" if complete else None,
        "failure": None,
        "artifacts_total": 1,
        "artifacts_done": 1 if complete else 0,
        "artifacts": [
            {
                "index": 0,
                "type": "dockerfile",
                "path": "Dockerfile",
                "sha256": "0" * 64,
                "size": 10,
                "status": "evaluated" if complete else "pending",
                "error": None,
                "counts": counts if complete else None,
                "findings": 0 if complete else None,
            }
        ],
        "findings_url": f"/v1/findings?scan_id={SCAN_ID}",
    }
    return {**base, **extra}


Response = tuple[int, dict[str, str], Any]


@dataclass
class FakeApi:
    """Answers from per-route scripts (then the route's default); records every request."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    scripts: dict[str, list[Response]] = field(default_factory=dict)
    defaults: dict[str, Response] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, route: str, *responses: Response) -> None:
        self.scripts.setdefault(route, []).extend(responses)

    def answer(self, route: str) -> Response:
        with self.lock:
            queue = self.scripts.get(route)
            if queue:
                return queue.pop(0)
        return self.defaults[route]

    def calls(self, route: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["route"] == route]


def _route(method: str, path: str) -> str:
    path = path.split("?", 1)[0]
    if method == "POST" and path == "/v1/scans":
        return "submit"
    if method == "GET" and path.startswith("/v1/scans/") and path.endswith("/report"):
        return "report"
    if method == "GET" and path.startswith("/v1/scans/"):
        return "scan"
    return "other"


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    report = {**scan(), "findings": []}
    api.defaults = {
        "submit": (
            202,
            {},
            {"scan_id": SCAN_ID, "status": "queued", "status_url": f"/v1/scans/{SCAN_ID}"},
        ),
        "scan": (200, {}, scan()),
        "report": (200, {}, report),
        "other": (404, {}, error_body("not_found", "no such route")),
    }

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            route = _route(self.command, self.path)
            with api.lock:
                api.requests.append(
                    {
                        "route": route,
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": body,
                    }
                )
            status, headers, payload = api.answer(route)
            data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = _handle
        do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
