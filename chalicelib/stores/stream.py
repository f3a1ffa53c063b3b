"""The scan stream, on the configured backend's `ScanStream`: one record per artifact,
partitioned by tenant and pipeline."""

from __future__ import annotations

from chalicelib.stores.backend import stores
from chalicelib.stores.ports import StreamUnavailable

__all__ = ["StreamUnavailable", "put_records"]


def put_records(records: list[tuple[str, bytes]]) -> None:
    """Put `(partition_key, data)` records on the stream (`StreamUnavailable` if it cannot)."""
    stores().stream.put(records)
