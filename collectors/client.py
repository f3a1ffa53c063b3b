"""A small HTTP client for the Pipeguard API (standard library only)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class ApiFailure(Exception):
    """The service refused or failed a request; `status` is 0 when it could not be reached."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Client:
    def __init__(self, api_url: str, api_key: str, timeout: float = 30.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None, params: dict | None = None) -> Any:
        url = self.api_url + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.api_key}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ApiFailure(exc.code, _error_message(exc)) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiFailure(0, f"cannot reach {self.api_url}: {reason}") from None

    def submit_scan(self, scan: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/v1/scans", body=scan)

    def wait_for_scan(self, scan_id: str, timeout: float, interval: float = 0.25) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            scan = self.request("GET", f"/v1/scans/{urllib.parse.quote(scan_id)}")
            if scan["status"] in ("complete", "failed"):
                return scan
            if time.monotonic() > deadline:
                raise TimeoutError(f"scan {scan_id} still {scan['status']} after {timeout:.0f}s")
            time.sleep(interval)
            interval = min(interval * 1.5, 2.0)

    def report(self, scan_id: str) -> dict[str, Any]:
        """A complete scan with every finding it saw."""
        return self.request("GET", f"/v1/scans/{urllib.parse.quote(scan_id)}/report")

    def findings(self, **filters: Any) -> list[dict[str, Any]]:
        """Every finding matching the filters (all pages)."""
        found: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.request("GET", "/v1/findings", params={**filters, "cursor": cursor})
            found.extend(page["findings"])
            cursor = page.get("next_cursor")
            if not cursor:
                return found


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read())
        return body["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.code} {exc.reason}"
