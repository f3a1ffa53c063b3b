"""Delivery of the embedded outbox's alerts to the operator's webhook (`PIPEGUARD_ALERT_WEBHOOK`).

Each alert is one JSON POST (`{"alert_id", "tenant_id", "subject", "message", "attributes"}`,
header `X-Pipeguard-Alert-Id`); any 2xx marks it delivered. A refused or failed POST is tried
again later, each wait doubling from `RETRY_BASE` up to `RETRY_CAP` seconds, for ever: delivery is
at least once (a receiver that answered 2xx but whose answer was lost gets the alert again), so
receivers dedupe on the alert id.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.stores.embedded.outbox import SqliteAlertOutbox, StoredAlert

log = logging.getLogger(__name__)

RETRY_BASE = 2.0
RETRY_CAP = 300.0
TIMEOUT = 10.0


@dataclass(frozen=True)
class Delivery:
    delivered: int
    failed: int


def deliver_due(
    outbox: SqliteAlertOutbox,
    url: str,
    limit: int = 100,
    now: float | None = None,
    timeout: float = TIMEOUT,
) -> Delivery:
    """POST the due alerts to `url` once each, recording each outcome in the outbox."""
    now = time.time() if now is None else now
    delivered = failed = 0
    for stored in outbox.due(now, limit):
        error = _post(url, stored, timeout)
        if error is None:
            outbox.delivered(stored.seq, datetime.now(UTC).isoformat(timespec="milliseconds"))
            delivered += 1
        else:
            wait = min(RETRY_CAP, RETRY_BASE * 2**stored.attempts)
            outbox.failed(stored.seq, error, now + wait)
            failed += 1
    return Delivery(delivered, failed)


def payload(stored: StoredAlert) -> dict[str, Any]:
    alert = stored.alert
    return {
        "alert_id": alert.alert_id,
        "tenant_id": alert.tenant_id,
        "subject": alert.subject,
        "message": json.loads(alert.message),
        "attributes": alert.attributes,
    }


def _post(url: str, stored: StoredAlert, timeout: float) -> str | None:
    """None when the webhook took the alert, else why not."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload(stored)).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Pipeguard-Alert-Id": stored.alert.alert_id,
            "User-Agent": "pipeguard-alerts",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    return None


def deliver_forever(
    outbox: SqliteAlertOutbox, url: str, stop: threading.Event, interval: float = 2.0
) -> None:
    """Deliver due alerts every `interval` seconds until `stop` is set (a worker's loop)."""
    while not stop.is_set():
        try:
            deliver_due(outbox, url)
        except Exception:  # the database busy or gone for a moment: the next pass tries again
            log.exception("alert delivery pass failed")
        stop.wait(interval)
