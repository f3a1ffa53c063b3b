"""Event-source handlers: Chalice event objects → services, with partial batch failure reports."""

from __future__ import annotations

from typing import Any

from chalicelib import observability


def evaluate_batch(event: Any) -> dict[str, list[dict[str, str]]]:
    """Evaluate a Kinesis batch together; once a record fails, it and all after it are retried.

    Records of one partition key must be handled in order, so the first failure ends the batch:
    every record from it on is reported, and Lambda (or the local runner) restarts from the
    lowest reported sequence number. The records before it are done.
    """
    from chalicelib.evaluate import process_batch

    records = list(event)
    failure = process_batch([record.data for record in records])
    failures: list[dict[str, str]] = []
    if failure is not None:
        observability.logger().error(
            "evaluation failed",
            exc_info=failure.error,
            extra={
                "sequence_number": records[failure.index].sequence_number,
                "records_retried": len(records) - failure.index,
            },
        )
        observability.count("EvaluationFailures")
        failures = [{"itemIdentifier": r.sequence_number} for r in records[failure.index :]]
    observability.flush()
    return {"batchItemFailures": failures}


def index_batch(event: Any) -> dict[str, list[dict[str, str]]]:
    """Count the findings-table changes into the trends, then apply them to the search index;
    on failure retry the whole batch (both steps are idempotent: the trends count each finding
    version once, the index keeps the latest document)."""
    from chalicelib.indexing import apply, change_from_stream
    from chalicelib.trends import apply_images

    records = list(event)
    try:
        changes = [change_from_stream(r.event_name, r.keys, r.new_image) for r in records]
        counted = apply_images(c.document for c in changes if c.document is not None)
        indexed = apply(changes)
    except Exception:
        observability.logger().exception("indexing failed", extra={"records": len(records)})
        observability.count("IndexFailures")
        observability.flush()
        return {"batchItemFailures": [{"itemIdentifier": r.sequence_number} for r in records]}
    observability.count("TrendUpdates", counted)
    observability.count("FindingsIndexed", indexed)
    observability.flush()
    return {"batchItemFailures": []}


def account_scan_batch(event: Any) -> None:
    """Run each account-scan job; an error fails the invocation and the queue delivers the
    job again (after its visibility timeout), up to its redrive policy's receive count."""
    from chalicelib.account_scans import run_job

    try:
        for record in event:
            attributes = record.to_dict().get("attributes") or {}
            run_job(record.body, int(attributes.get("ApproximateReceiveCount") or 1))
    finally:
        observability.flush()
