"""The scan stream (Kinesis): one record per artifact, partitioned by tenant and pipeline."""

from __future__ import annotations

import time

from chalicelib.config import settings
from chalicelib.stores.clients import client

_MAX_BATCH = 500
_ATTEMPTS = 5


class StreamUnavailable(RuntimeError):
    """Records could not be put on the stream after retries."""


def put_records(records: list[tuple[str, bytes]]) -> None:
    """Put `(partition_key, data)` records; retries throttled ones with back-off."""
    for start in range(0, len(records), _MAX_BATCH):
        pending = [
            {"PartitionKey": key, "Data": data} for key, data in records[start : start + _MAX_BATCH]
        ]
        for attempt in range(_ATTEMPTS):
            try:
                response = client("kinesis").put_records(
                    StreamName=settings().scan_stream, Records=pending
                )
            except Exception as exc:  # botocore already retried throttling with back-off
                raise StreamUnavailable(f"the scan stream refused the records: {exc}") from exc
            if not response.get("FailedRecordCount"):
                break
            pending = [
                rec
                for rec, result in zip(pending, response["Records"], strict=True)
                if "ErrorCode" in result
            ]
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise StreamUnavailable(f"{len(pending)} records could not be put on the stream")
