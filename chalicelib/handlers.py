"""Event-source handlers: Chalice event objects → services, with partial batch failure reports."""

from __future__ import annotations

from typing import Any

from chalicelib import observability


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
            observability.logger().exception(
                "evaluation failed", extra={"sequence_number": record.sequence_number}
            )
            observability.count("EvaluationFailures")
            failures.append({"itemIdentifier": record.sequence_number})
    observability.flush()
    return {"batchItemFailures": failures}


def index_batch(event: Any) -> dict[str, list[dict[str, str]]]:
    """Apply the findings-table changes to the search index; on failure retry the whole batch."""
    from chalicelib.indexing import apply, change_from_stream

    records = list(event)
    try:
        indexed = apply(change_from_stream(r.event_name, r.keys, r.new_image) for r in records)
    except Exception:
        observability.logger().exception("indexing failed", extra={"records": len(records)})
        observability.count("IndexFailures")
        observability.flush()
        return {"batchItemFailures": [{"itemIdentifier": r.sequence_number} for r in records]}
    observability.count("FindingsIndexed", indexed)
    observability.flush()
    return {"batchItemFailures": []}
