"""The account-scan queue of the embedded backend as an event source of the local runner.

`JobQueueSource` has the shape `EventSourceRunner(queues=...)` polls (`name`, `options`,
`poll()`, `pending()`, `stats`) and keeps Lambda's SQS semantics: a batch of received jobs
per invocation, in SQS's event shape; the jobs are deleted once the handler returned, except
those it names in `batchItemFailures`; after an error they are seen again `retry_after`
seconds later, and the queue moves a job received too often to its dead-letter queue. It
works on any `JobQueue`, so the sender may be another process on the same database file.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.local.runner import SourceStats
from chalicelib.stores.ports import Job, JobQueue

log = logging.getLogger(__name__)

ACCOUNT = "000000000000"
"""The account id of the embedded queues' ARNs."""


@dataclass
class JobQueueOptions:
    batch_size: int = 1
    wait_seconds: int = 0
    """0: the runner sleeps its idle time between polls of an empty queue."""
    retry_after: int = 2
    """After a failed invocation its jobs are visible again after this many seconds."""
    visibility_timeout: int = 960
    """How long a received job stays invisible (as deployed: the worker's limit + a margin);
    a job of a process that died is received again after it."""


class JobQueueSource:
    """A `JobQueue` bound to one handler."""

    def __init__(
        self,
        name: str,
        queue: JobQueue,
        handler: Callable[[dict[str, Any], Any], Any],
        options: JobQueueOptions,
        context_factory: Callable[[], Any],
        region: str = "us-east-1",
    ) -> None:
        self.name = name
        self.queue = queue
        self.handler = handler
        self.options = options
        self.context_factory = context_factory
        self.region = region
        self.stats = SourceStats()

    def pending(self) -> int:
        """Jobs received but not yet handled (none: each poll handles what it received)."""
        return 0

    def poll(self) -> int:
        """Receive one batch and invoke the handler; returns how many jobs it received."""
        jobs = self.queue.receive(self.options.batch_size, self.options.visibility_timeout)
        if not jobs:
            return 0
        self.stats.invocations += 1
        try:
            response = self.handler(self.event(jobs), self.context_factory())
        except Exception:
            log.exception("%s handler raised on a batch of %d", self.name, len(jobs))
            self.stats.retries += 1
            for job in jobs:
                self.queue.retry_after(job, self.options.retry_after)
            return len(jobs)
        failures = (response or {}).get("batchItemFailures") or []
        failed = {f.get("itemIdentifier") for f in failures}
        for job in jobs:
            if job.job_id in failed:
                self.queue.retry_after(job, self.options.retry_after)
            else:
                self.queue.delete(job)
                self.stats.processed += 1
        return len(jobs)

    def event(self, jobs: list[Job]) -> dict[str, Any]:
        """The jobs as Lambda's SQS event source hands them to a function."""
        return {"Records": [self._record(job) for job in jobs]}

    def _record(self, job: Job) -> dict[str, Any]:
        queue_name = job.queue.rsplit("/", 1)[-1]
        attributes = {
            "ApproximateReceiveCount": str(job.receive_count),
            "SentTimestamp": str(job.sent_at),
            "SenderId": ACCOUNT,
            "ApproximateFirstReceiveTimestamp": str(job.first_received_at),
        }
        tenant = (
            {"tenant_id": {"stringValue": job.tenant_id, "dataType": "String"}}
            if job.tenant_id is not None
            else {}
        )
        return {
            "messageId": job.job_id,
            "receiptHandle": job.receipt,
            "body": job.body,
            "attributes": attributes,
            "messageAttributes": tenant,
            "md5OfBody": hashlib.md5(job.body.encode("utf-8"), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{self.region}:{ACCOUNT}:{queue_name}",
            "awsRegion": self.region,
        }


def queue_sources(app_module: Any, options: JobQueueOptions | None = None) -> list[JobQueueSource]:
    """The embedded backend's queue sources of the app: account-scan jobs for
    `collect_account_scans` (one job per invocation, as deployed)."""
    from chalice.local import LambdaContext

    from chalicelib.config import settings
    from chalicelib.stores.backend import stores

    return [
        JobQueueSource(
            name="collect_account_scans",
            queue=stores().jobs,
            handler=app_module.collect_account_scans,
            options=options or JobQueueOptions(),
            context_factory=lambda: LambdaContext(
                "pipeguard-dev-collect_account_scans", 512, max_runtime_ms=900_000
            ),
            region=settings().region,
        )
    ]
