"""The account-scan job queue, on the configured backend's `JobQueue`: one job per scan the
service collects itself."""

from __future__ import annotations

from chalicelib.stores.backend import stores
from chalicelib.stores.ports import QueueUnavailable

__all__ = ["QueueUnavailable", "send"]


def send(tenant_id: str, body: str) -> str:
    """Put one job of the tenant on the queue; its id (`QueueUnavailable` if refused)."""
    return stores().jobs.send(tenant_id, body)
