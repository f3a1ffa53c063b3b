"""Lazily created, cached boto3 clients and resources.

boto3 honours `AWS_ENDPOINT_URL`, which is how the embedded stack points every call at moto.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from chalicelib.config import settings

_lock = threading.Lock()


@cache
def _session() -> Any:
    import boto3

    return boto3.session.Session(region_name=settings().region)


def client(service: str) -> Any:
    """A cached boto3 client for `service` (thread-safe creation)."""
    with _lock:
        return _client(service)


@cache
def _client(service: str) -> Any:
    from botocore.config import Config

    return _session().client(
        service, config=Config(retries={"mode": "standard", "max_attempts": 5})
    )


def resource(service: str) -> Any:
    """A cached boto3 resource for `service` (thread-safe creation)."""
    with _lock:
        return _resource(service)


@cache
def _resource(service: str) -> Any:
    return _session().resource(service)


def reset() -> None:
    """Forget cached clients (after the environment changed, e.g. in tests)."""
    with _lock:
        _client.cache_clear()
        _resource.cache_clear()
        _session.cache_clear()
        settings.cache_clear()
