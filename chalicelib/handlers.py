"""Event-source handlers: Chalice event objects → services, with partial batch failure reports."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def evaluate_batch(event: Any) -> dict[str, list[dict[str, str]]]:
    """Evaluate each Kinesis record; once a record fails, it and all after it are retried.

    Records of one partition key must be handled in order, so the first failure stops the batch:
    Lambda restarts from the lowest reported sequence number.
    """
    from chalicelib.evaluate import process_record

    failures: list[dict[str, str]] = []
    for record in event:
        if failures:
            failures.append({"itemIdentifier": record.sequence_number})
            continue
        try:
            process_record(record.data)
        except Exception:
            log.exception("evaluation failed for record %s", record.sequence_number)
            failures.append({"itemIdentifier": record.sequence_number})
    return {"batchItemFailures": failures}


def index_batch(event: Any) -> dict[str, list[dict[str, str]]]:
    """Apply the findings-table changes to the search index; on failure retry the whole batch."""
    from chalicelib.indexing import apply, change_from_stream

    records = list(event)
    try:
        apply(change_from_stream(r.event_name, r.keys, r.new_image) for r in records)
    except Exception:
        log.exception("indexing failed for a batch of %d records", len(records))
        return {"batchItemFailures": [{"itemIdentifier": r.sequence_number} for r in records]}
    return {"batchItemFailures": []}
