"""Per-tenant request rate limits for the embedded stack (a token bucket per tenant).

Deployed, API Gateway's usage plans throttle before a request reaches the functions; the
embedded stack has no such gateway, so the API enforces `RATE_LIMIT_PER_SECOND` (and
`RATE_LIMIT_BURST`) itself when they are set.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass

from chalicelib.errors import ApiError


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


@dataclass
class _Bucket:
    tokens: float
    updated: float


_buckets: dict[str, _Bucket] = {}
_lock = threading.Lock()


def check(tenant_id: str) -> None:
    """Take one token from the tenant's bucket, or raise 429 with the wait in Retry-After."""
    rate = float(os.environ.get("RATE_LIMIT_PER_SECOND") or 0)
    if rate <= 0:
        return
    burst = max(1.0, float(os.environ.get("RATE_LIMIT_BURST") or rate * 2))
    now = time.monotonic()
    with _lock:
        bucket = _buckets.setdefault(tenant_id, _Bucket(tokens=burst, updated=now))
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        wait = math.ceil((1 - bucket.tokens) / rate)
    error = RateLimited(
        f"too many requests for this tenant (limit {rate:g}/s, burst {burst:g}): "
        f"retry after {wait} s"
    )
    error.headers = {"Retry-After": str(wait)}
    raise error


def reset() -> None:
    with _lock:
        _buckets.clear()
