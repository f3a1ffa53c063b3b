"""A small HTTP client for the Pipeguard API (standard library only), with bounded retries.

Retried, with exponential back-off and jitter: 429 (after `Retry-After` when the service sends
it), 5xx, and failures to connect or to get an answer. Every other answer is final. Retrying
`POST /v1/scans` is safe: the service keeps one scan per pipeline and run id, so a resubmitted
run answers with the scan the first attempt created.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import random
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["ApiFailure", "Client", "RetryPolicy", "WaitTimeout"]

USER_AGENT = "pipeguard-collector/0.1"


class ApiFailure(Exception):
    """The service refused or failed a request; `status` is 0 when it could not be reached."""

    def __init__(
        self,
        status: int,
        message: str,
        details: list[dict[str, Any]] | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.attempts = attempts
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status == 429 or self.status >= 500


class WaitTimeout(Exception):
    """The scan had no verdict before the deadline."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries per request, the first included
    base: float = 0.5  # seconds before the first retry (doubled each time)
    cap: float = 20.0  # longest back-off between two tries
    max_retry_after: float = 120.0  # longest `Retry-After` honoured

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based): exponential, equal jitter."""
        ceiling = min(self.cap, self.base * 2 ** (retry - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class Client:
    def __init__(
        self,
        api_url: str,
        api_key: str,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        deadline: float | None = None,
        on_retry: Callable[[ApiFailure, float, int, int], None] | None = None,
    ) -> None:
        """`deadline` (a `time.monotonic()` value) bounds every wait, retries included."""
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.deadline = deadline
        self.on_retry = on_retry

    def _remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def request(self, method: str, path: str, body: Any = None, params: dict | None = None) -> Any:
        url = self.api_url + path
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            if query:
                url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode("utf-8")
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(method, url, data)
            except ApiFailure as failure:
                failure.attempts = attempt
                if not failure.retryable or attempt >= self.retry.attempts:
                    raise
                if failure.retry_after is not None:
                    delay = min(failure.retry_after, self.retry.max_retry_after)
                    delay += random.uniform(0, 0.25)
                else:
                    delay = self.retry.backoff(attempt)
                remaining = self._remaining()
                if remaining is not None and delay >= remaining:
                    raise
                if self.on_retry:
                    self.on_retry(failure, delay, attempt + 1, self.retry.attempts)
                time.sleep(delay)

    def _once(self, method: str, url: str, data: bytes | None) -> Any:
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.api_key}")
        req.add_header("Accept", "application/json")
        req.add_header("User-Agent", USER_AGENT)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        timeout = self.timeout
        remaining = self._remaining()
        if remaining is not None:
            timeout = max(1.0, min(timeout, remaining))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            message, details = _error_body(exc)
            raise ApiFailure(
                exc.code, message, details, retry_after=_retry_after(exc.headers.get("Retry-After"))
            ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLCertVerificationError):  # retrying will not help
                raise ApiFailure(
                    -1, f"TLS certificate of {self.api_url} refused: {reason}"
                ) from None
            raise ApiFailure(0, _describe(reason)) from None
        except (TimeoutError, ConnectionError, http.client.HTTPException, OSError) as exc:
            raise ApiFailure(0, _describe(exc)) from None
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise ApiFailure(
                502, f"the service answered {method} {url} with a body that is not JSON"
            ) from None

    def submit_scan(self, scan: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/v1/scans", body=scan)

    def upload(self, path: str, data: bytes) -> str:
        """Upload a large artifact through a presigned POST; returns its `upload_id`."""
        grant = self.request("POST", "/v1/uploads", body={"path": path, "size": len(data)})
        boundary = "pipeguard" + os.urandom(12).hex()
        parts = []
        for name, value in grant["fields"].items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="artifact"'
            "\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        req = urllib.request.Request(grant["url"], data=b"".join(parts), method="POST")
        req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout):
                pass
        except urllib.error.HTTPError as exc:
            raise ApiFailure(
                exc.code, f"the upload of {path} was refused (HTTP {exc.code})"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ApiFailure(0, f"the upload of {path} failed: {_describe(exc)}") from None
        return grant["upload_id"]

    def get_scan(self, scan_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/scans/{urllib.parse.quote(scan_id)}")

    def wait_for_scan(
        self,
        scan_id: str,
        timeout: float | None = None,
        interval: float = 0.25,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll until the scan is `complete` or `failed`; WaitTimeout past the deadline."""
        if timeout is not None:
            deadline = time.monotonic() + timeout
            self.deadline = min(deadline, self.deadline or deadline)
        started = time.monotonic()
        while True:
            try:
                scan = self.get_scan(scan_id)
            except ApiFailure as failure:
                remaining = self._remaining()
                if failure.retryable and remaining is not None and remaining <= 1.0:
                    raise WaitTimeout(self._timeout_message(scan_id, "unknown", started)) from None
                raise
            if on_progress:
                on_progress(scan)
            if scan["status"] in ("complete", "failed"):
                return scan
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                raise WaitTimeout(self._timeout_message(scan_id, scan["status"], started))
            time.sleep(interval if remaining is None else max(0.0, min(interval, remaining)))
            interval = min(interval * 1.5, 2.0)

    @staticmethod
    def _timeout_message(scan_id: str, status: str, started: float) -> str:
        waited = time.monotonic() - started
        return f"scan {scan_id} is still {status} after {waited:.0f} s"

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


def _describe(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "no answer in time"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "the connection was closed without an answer"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_body(exc: urllib.error.HTTPError) -> tuple[str, list[dict[str, Any]]]:
    try:
        body = json.loads(exc.read())
        error = body["error"]
        details = error.get("details") or []
        return str(error["message"]), details if isinstance(details, list) else []
    except (ValueError, KeyError, TypeError, AttributeError, OSError):
        return f"HTTP {exc.code} {exc.reason}", []
