"""The scan stream on Kinesis (`settings().scan_stream`)."""

from __future__ import annotations

import time

from chalicelib.config import settings
from chalicelib.stores.clients import client
from chalicelib.stores.ports import StreamUnavailable

_MAX_BATCH = 500
_ATTEMPTS = 5


class KinesisStream:
    """`ScanStream` on Kinesis: `PutRecords` in batches, throttled records retried."""

    def put(self, records: list[tuple[str, bytes]]) -> None:
        for start in range(0, len(records), _MAX_BATCH):
            self._put_batch(records[start : start + _MAX_BATCH])

    def _put_batch(self, records: list[tuple[str, bytes]]) -> None:
        pending = [{"PartitionKey": key, "Data": data} for key, data in records]
        for attempt in range(_ATTEMPTS):
            try:
                response = client("kinesis").put_records(
                    StreamName=settings().scan_stream, Records=pending
                )
            except Exception as exc:  # botocore already retried throttling with back-off
                raise StreamUnavailable(f"the scan stream refused the records: {exc}") from exc
            if not response.get("FailedRecordCount"):
                return
            pending = [
                rec
                for rec, result in zip(pending, response["Records"], strict=True)
                if "ErrorCode" in result
            ]
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise StreamUnavailable(f"{len(pending)} records could not be put on the stream")
