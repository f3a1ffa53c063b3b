"""The process-wide search adapter, chosen by `settings().search_backend`."""

from __future__ import annotations

import os
import threading

from chalicelib.config import settings
from chalicelib.search.port import SearchIndex

BACKENDS = ("sqlite", "opensearch")

_lock = threading.Lock()
_index: SearchIndex | None = None


def _build() -> SearchIndex:
    config = settings()
    backend = config.search_backend.strip().lower()
    if backend == "sqlite":
        from chalicelib.search.sqlite import SqliteIndex

        parent = os.path.dirname(os.path.abspath(config.search_sqlite_path))
        os.makedirs(parent, exist_ok=True)
        return SqliteIndex(config.search_sqlite_path)
    if backend == "opensearch":
        from chalicelib.search.opensearch import OpenSearchIndex, client_from_endpoint

        if not config.opensearch_endpoint:
            raise ValueError("SEARCH_BACKEND=opensearch needs OPENSEARCH_ENDPOINT")
        client = client_from_endpoint(config.opensearch_endpoint, config.region)
        return OpenSearchIndex(client, config.opensearch_index)
    raise ValueError(
        f"unknown SEARCH_BACKEND {config.search_backend!r}: expected one of {', '.join(BACKENDS)}"
    )


def get_index() -> SearchIndex:
    """The adapter of this process, built on first use and then reused."""
    global _index
    with _lock:
        if _index is None:
            _index = _build()
        return _index


def reset_index() -> None:
    """Forget the cached adapter (tests; the next `get_index()` builds a new one)."""
    global _index
    with _lock:
        _index = None
