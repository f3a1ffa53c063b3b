"""The ports of the stores: what every backend (AWS, embedded) keeps.

Each port is a Protocol; `chalicelib.stores.aws` implements it on DynamoDB and
`chalicelib.stores.embedded` on SQLite, and `chalicelib.stores.backend` picks one. Every method
that reads or changes a tenant's items takes the tenant id and applies it itself, so no caller
reaches another tenant's items by passing that tenant's ids. A change that is audited takes its
`AuditEntry` and writes both or neither.

A new store adds: its Protocol here (`<Thing>Store`, or a name for what it is, like `AuditLog`),
`aws/<things>.py` (`Dynamo<Things>`, on the tables `local/resources.py` creates) and
`embedded/<things>.py` (`Sqlite<Things>`, its tables in a new migration appended to
`embedded/schema.py`), a field of `Stores` filled by both `build()`s, and
`tests/contract/test_<things>.py`, whose tests take the `stores` fixture (both backends). A
condition that does not hold raises `NotWritten` on both, never a backend's own error; a scan
stream that cannot take records raises `StreamUnavailable` on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chalicelib.trend_counts import Update

MAX_JOB_BYTES = 262_144
"""The largest job body a `JobQueue` takes (SQS's message limit), in UTF-8 bytes."""


def check_job_size(body: str) -> None:
    """A `ValueError` for a job body over `MAX_JOB_BYTES`."""
    if len(body.encode("utf-8")) > MAX_JOB_BYTES:
        raise ValueError(f"a job body takes at most {MAX_JOB_BYTES} bytes")


class QueueUnavailable(RuntimeError):
    """The job queue could not be reached (botocore already retried) or cannot be found."""


class StreamUnavailable(RuntimeError):
    """Records could not be put on the scan stream (after retries): none or only some are."""


class NotWritten(Exception):
    """A condition of a write did not hold (the item exists already, is not the tenant's, or
    changed since it was read): nothing of the write was stored."""


@dataclass(frozen=True)
class AuditEntry:
    """One audit log entry; `before` and `after` are JSON text (bounded by the audit service).

    `position` orders a tenant's log (time, then a random nonce) and is unique in it.
    """

    tenant_id: str
    at: str
    nonce: str
    actor: str
    action: str
    target: str
    before: str
    after: str

    @property
    def position(self) -> str:
        return f"{self.at}#{self.nonce}"


@dataclass(frozen=True)
class PolicyVersion:
    """A stored policy version; `document` is the policy as compact JSON text."""

    version: int
    updated_at: str
    updated_by: str
    document: str


class TenantStore(Protocol):
    """Tenants and their API keys (only the keys' SHA-256 hashes are stored)."""

    def create(
        self,
        tenant: dict[str, Any],
        key_hash: str,
        key: dict[str, Any],
        audit: AuditEntry,
        exist_ok: bool,
    ) -> None:
        """Store a tenant with its first key. An existing tenant is replaced when `exist_ok`;
        otherwise `NotWritten`."""

    def get(self, tenant_id: str) -> dict[str, Any] | None:
        """The tenant's record (with its usage plan key, if any)."""

    def all(self) -> list[dict[str, Any]]:
        """Every tenant by id, without usage plan keys."""

    def set_status(self, tenant_id: str, status: str, seen: str, audit: AuditEntry) -> None:
        """Set the status of an existing tenant whose status is still `seen`; else `NotWritten`."""

    def add_key(self, key_hash: str, key: dict[str, Any], audit: AuditEntry) -> None:
        """Store a new key of `key["tenant_id"]`; `NotWritten` if its hash is stored already."""

    def key_by_hash(self, key_hash: str) -> dict[str, Any] | None:
        """The key stored under this hash (what authentication looks up), of any tenant."""

    def keys(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's keys by key id, without their hashes."""

    def key(self, tenant_id: str, key_id: str) -> dict[str, Any] | None:
        """One of the tenant's keys, with its hash (`key_hash`); None if not the tenant's."""

    def revoke_key(self, tenant_id: str, key_id: str, now: str, audit: AuditEntry) -> None:
        """Mark one of the tenant's keys revoked at `now`; `NotWritten` if it has none such."""


class PolicyStore(Protocol):
    """A tenant's policy versions (never changed once written) and the current version."""

    def current_version(self, tenant_id: str) -> int:
        """The tenant's current version; 0 (the built-in policy) when it never saved one."""

    def version(self, tenant_id: str, version: int) -> dict[str, Any] | None:
        """The policy document of one of the tenant's versions, None if it has no such one."""

    def save(self, tenant_id: str, stored: PolicyVersion, expected: int, audit: AuditEntry) -> None:
        """Write `stored` and make it current if the current version is still `expected`
        (`stored.version` is `expected + 1`), with its audit entry; else `NotWritten`."""


class AuditLog(Protocol):
    """The tenant's audit log, newest first. Entries are written by the changes they record."""

    def page(
        self, tenant_id: str, limit: int, after: str | None = None
    ) -> tuple[list[AuditEntry], str | None]:
        """Up to `limit` entries older than position `after` (all when None), newest first,
        and the position to continue after (None when no entry follows)."""


class WaiverStore(Protocol):
    """A tenant's waivers (records keyed by `waiver_id`)."""

    def create(self, tenant_id: str, waiver: dict[str, Any], audit: AuditEntry) -> None:
        """Store a new waiver; `NotWritten` if the tenant has one with its id."""

    def get(self, tenant_id: str, waiver_id: str) -> dict[str, Any] | None:
        """One of the tenant's waivers."""

    def all(self, tenant_id: str) -> list[dict[str, Any]]:
        """Every waiver of the tenant, by waiver id."""

    def revoke(
        self, tenant_id: str, waiver_id: str, seen: str, now: str, audit: AuditEntry
    ) -> None:
        """Mark one of the tenant's waivers revoked at `now` if its status is still `seen`;
        else `NotWritten`."""


class SettingStore(Protocol):
    """Named settings documents of a tenant (e.g. `notifications`)."""

    def get(self, tenant_id: str, name: str) -> dict[str, Any] | None:
        """The tenant's document, None if it never stored one."""

    def put(self, tenant_id: str, name: str, value: dict[str, Any], audit: AuditEntry) -> None:
        """Replace the tenant's document."""

    def tenants_with(self, name: str) -> list[str]:
        """The tenants that stored a document of this name, sorted."""


class ScanStore(Protocol):
    """Scans (keyed by tenant and `scan_id`) and their per-artifact results (`results`, by
    artifact index as text; `artifacts_done` counts them)."""

    def create(self, scan: dict[str, Any]) -> None:
        """Store a new scan of `scan["tenant_id"]`; `NotWritten` if it has one with its id."""

    def get(self, tenant_id: str, scan_id: str) -> dict[str, Any] | None:
        """One of the tenant's scans."""

    def record_artifacts(
        self, tenant_id: str, scan_id: str, results: dict[int, dict[str, Any]], now: str
    ) -> dict[str, Any]:
        """Record results of a queued or running scan (it becomes running) if none of them is
        recorded yet; the scan as updated. Else `NotWritten`, nothing recorded."""

    def complete(self, tenant_id: str, scan_id: str, fields: dict[str, Any]) -> None:
        """Set `fields` and mark an existing, not yet complete scan complete; else `NotWritten`."""

    def mark_failed(self, tenant_id: str, scan_id: str, reason: str, now: str) -> None:
        """Mark an existing scan failed with `reason`; `NotWritten` if there is none."""

    def requeue(self, tenant_id: str, scan_id: str, now: str) -> None:
        """Put a failed scan back to queued (its failure removed); else `NotWritten`."""

    def received_since(self, tenant_id: str, since: str) -> list[dict[str, Any]]:
        """The tenant's scans received at or after `since` (ISO-8601), by scan id."""

    def of_pipeline(
        self, tenant_id: str, pipeline_key: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` of the pipeline's scans, newest `received_at` first, older than the
        cursor `after`; and the cursor of the next page (None when no scan follows). A key
        that is not the tenant's (`ids.pipeline_key`) has no scans."""

    def collected(
        self, tenant_id: str, scan_id: str, artifacts: list[dict[str, Any]], now: str
    ) -> dict[str, Any]:
        """Give a `collecting` scan its artifacts and make it `queued`; the scan as updated.
        `NotWritten` if it is not collecting (nothing written)."""

    def mark_streamed(self, tenant_id: str, scan_id: str) -> None:
        """Note that an existing scan's artifacts are on the stream (`streamed`); else
        `NotWritten`."""

    def fail_unstreamed(self, tenant_id: str, scan_id: str, reason: str, now: str) -> None:
        """Fail a scan still `collecting`, or `queued` and not streamed, with `reason`; else
        `NotWritten` (it had moved on)."""


class FindingStore(Protocol):
    """Findings (keyed by tenant and `finding_id`), grouped by `artifact_key` and
    `pipeline_key` (`ids`), each the whole current state of the finding with its lifecycle."""

    def put_many(self, tenant_id: str, findings: list[dict[str, Any]]) -> None:
        """Write the tenant's findings: one per id, a later write replacing the finding (so a
        redelivered write changes nothing). A finding of another tenant is a `ValueError`."""

    def get(self, tenant_id: str, finding_id: str) -> dict[str, Any] | None:
        """One of the tenant's findings."""

    def get_many(self, tenant_id: str, finding_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The tenant's findings among `finding_ids`, by id."""

    def of_artifact(self, tenant_id: str, artifact_key: str) -> dict[str, dict[str, Any]]:
        """The tenant's findings of one file of one pipeline, by id."""

    def of_pipeline(self, tenant_id: str, pipeline_key: str) -> list[dict[str, Any]]:
        """The tenant's findings of one pipeline, by id."""

    def page(
        self, tenant_id: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` of the tenant's findings by id, after the id `after`; and the id to
        continue after (None when no finding follows)."""

    def tenants(self) -> list[str]:
        """The tenants that have findings, sorted."""


@dataclass(frozen=True)
class TrendDay:
    """One pipeline's trend counters of one UTC day: field → severity → amount (`open` is the
    change of the open total that day)."""

    day: str
    pipeline: str
    counts: dict[str, dict[str, int]]


class TrendStore(Protocol):
    """Per-tenant, per-pipeline, per-day trend counters and times to fix, derived from findings'
    history entries (`chalicelib.trend_counts`), and per finding the version they hold."""

    def apply(self, tenant_id: str, updates: list[Update]) -> int:
        """Count each update's history entries above the version held for its finding, and hold
        its version, in one transaction with those increments: an update at or below the held
        version (a redelivery, a replay) changes nothing. Returns the updates that counted."""

    def replace(self, tenant_id: str, updates: list[Update]) -> None:
        """Drop the tenant's counters and count `updates` (every finding) from scratch."""

    def days(
        self, tenant_id: str, first: str, last: str, pipeline: str | None = None
    ) -> list[TrendDay]:
        """The tenant's counters of the days `first`..`last` (inclusive), by day and pipeline."""

    def open_before(self, tenant_id: str, day: str, pipeline: str | None = None) -> dict[str, int]:
        """The open total by severity at the start of `day` (every change before it)."""

    def fixes(
        self, tenant_id: str, first: str, last: str, pipeline: str | None = None
    ) -> list[tuple[str, float]]:
        """(severity, seconds to fix) of each fix on the days `first`..`last`."""


class BlobStore(Protocol):
    """Artifact bodies and reports, by key `tenants/<tenant>/<path>` (`blobs.tenant_key`). A
    key outside the tenant's prefix, or one with empty, `.` or `..` parts, is a `ValueError`."""

    def put(
        self, tenant_id: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None:
        """Store `data` under the key, replacing what it held, all at once: a reader sees the
        old bytes or the new ones, never a part."""

    def get(self, tenant_id: str, key: str) -> bytes | None:
        """The bytes under the key, None when nothing is stored there."""

    def size(self, tenant_id: str, key: str) -> int | None:
        """The size of what is stored under the key, None when nothing is."""


class AccountStore(Protocol):
    """A tenant's registered AWS accounts (records keyed by `account_id`) and their scan
    schedule: `next_scan_at` (when the sweep scans it next) and `last_scan_id`."""

    def create(self, tenant_id: str, record: dict[str, Any], audit: AuditEntry) -> None:
        """Store a new registration with its audit entry; `NotWritten` if the tenant
        registered this account already."""

    def get(self, tenant_id: str, account_id: str) -> dict[str, Any] | None:
        """One of the tenant's registrations."""

    def page(
        self, tenant_id: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` of the tenant's registrations with an account id after `after` (from
        the first when None), by account id, and the account id to continue after (None when
        no registration follows)."""

    def delete(self, tenant_id: str, account_id: str, audit: AuditEntry) -> None:
        """Remove one of the tenant's registrations with its audit entry; `NotWritten` if the
        tenant has none for this account."""

    def due(self, now: str) -> list[dict[str, Any]]:
        """Every tenant's registrations whose `next_scan_at` is at or before `now` (ISO-8601
        UTC, compared as text): what the sweep scans."""

    def claim(self, tenant_id: str, account_id: str, seen_next: str, next_scan_at: str) -> None:
        """Move the next scan to `next_scan_at` if it is still `seen_next` (so that of two
        sweeps that read it due, one scans it); else `NotWritten`."""

    def record_scan(
        self,
        tenant_id: str,
        account_id: str,
        changes: dict[str, Any],
        if_last_scan: str | None = None,
    ) -> None:
        """Set fields of an existing registration (a scan's outcome, its last and next scan);
        with `if_last_scan`, only while that scan is still its `last_scan_id`, so that an
        older scan never overwrites a newer one's status. `NotWritten` if nothing was set."""


class ScanStream(Protocol):
    """The scan stream: one record per artifact, delivered to evaluation in order per partition
    key (tenant and pipeline)."""

    def put(self, records: list[tuple[str, bytes]]) -> None:
        """Append `(partition_key, data)` records; `StreamUnavailable` if they cannot be."""


@dataclass(frozen=True)
class DeadLetter:
    """A message of the dead-letter queue; `handle` removes it (`DeadLetterQueue.delete`)."""

    handle: str
    message_id: str
    body: dict[str, Any]


class DeadLetterQueue(Protocol):
    """What the stream consumers gave up: one message per record, as the runner writes it
    (`source`, `requestContext.condition`, `requestContext.approximateInvokeCount`, `record`)
    or as Lambda's on-failure destination does."""

    def put(self, body: dict[str, Any]) -> None:
        """Add a message."""

    def receive(self, limit: int, hide_seconds: int = 120) -> list[DeadLetter]:
        """Up to `limit` messages, oldest first, each hidden from the next receives for
        `hide_seconds` (so that a message left in place is not handed out again at once)."""

    def delete(self, handle: str) -> None:
        """Remove a received message."""


@dataclass(frozen=True)
class Job:
    """One delivery of a queued job. `receipt` names this delivery: delete a job, or change
    when it is seen again, with its latest one (an older receipt may change nothing; on
    SQLite it never does)."""

    job_id: str
    tenant_id: str | None
    """The tenant the job was sent for (None for a message sent without it)."""
    body: str
    receive_count: int
    sent_at: int
    """Epoch milliseconds."""
    first_received_at: int
    """Epoch milliseconds."""
    receipt: str
    queue: str
    """Where it was received from, as the adapter names it (its last `/` part: the name)."""


class JobQueue(Protocol):
    """The account-scan job queue with SQS's semantics: a received job is invisible for a
    visibility timeout, deleted by its receiver once handled, received again after that
    timeout otherwise (at least once, in no guaranteed order), each receive counting; a job
    received `account_scan_attempts` times goes to the dead-letter queue on its next receive."""

    def send(self, tenant_id: str, body: str) -> str:
        """Queue a job of the tenant; its id. A body over `MAX_JOB_BYTES` is a `ValueError`;
        `QueueUnavailable` if the queue cannot take it."""

    def receive(self, limit: int = 1, visibility_timeout: int | None = None) -> list[Job]:
        """Up to `limit` (at most 10) visible jobs, now invisible for `visibility_timeout`
        seconds (None: the queue's own, 960 as deployed)."""

    def retry_after(self, job: Job, seconds: int) -> None:
        """Make a received job visible again `seconds` from now (0: at once)."""

    def delete(self, job: Job) -> None:
        """Remove a received job (of the queue or of its dead-letter queue)."""

    def dead(self, limit: int = 10, visibility_timeout: int = 120) -> list[Job]:
        """Up to `limit` (at most 10) jobs of the dead-letter queue, invisible meanwhile."""

    def dead_letter_queue(self) -> str:
        """Where the dead jobs are kept; `QueueUnavailable` if it cannot be found."""


@dataclass(frozen=True)
class Alert:
    """One alert for the platform's subscribers; `alert_id` is the same for every delivery of
    the same event (a retried evaluation), `message` is JSON text, `attributes` what
    subscribers filter on."""

    alert_id: str
    tenant_id: str
    subject: str
    message: str
    attributes: dict[str, str]


class AlertSink(Protocol):
    """Where alerts go: the SNS topic (AWS) or the durable outbox (embedded)."""

    def publish(self, alerts: list[Alert]) -> None:
        """Hand every alert over at least once, or raise (nothing is lost by a retry)."""


@dataclass(frozen=True)
class Email:
    """One plain-text e-mail."""

    sender: str
    to: tuple[str, ...]
    subject: str
    body: str


class Mailer(Protocol):
    """Sends e-mail: SES (AWS); SMTP or .eml files in the state directory (embedded)."""

    def send(self, email: Email) -> None:
        """Send it, or raise."""


@dataclass(frozen=True)
class UploadGrant:
    """A form POST that stores one file under `key`: the URL and the form's fields."""

    url: str
    fields: dict[str, str]


class UploadGrants(Protocol):
    """Signed, expiring upload forms (S3 presigned POST; the embedded server's signed form)."""

    def grant(
        self, tenant_id: str, upload_id: str, key: str, max_bytes: int, expires_in: int
    ) -> UploadGrant:
        """A form that accepts one file of 1 to `max_bytes` bytes under the tenant's `key`
        (a `ValueError` if outside its prefix) for `expires_in` seconds."""


@dataclass(frozen=True)
class Stores:
    """One backend's adapters, as `chalicelib.stores.backend.stores()` gives them."""

    tenants: TenantStore
    policies: PolicyStore
    audit: AuditLog
    waivers: WaiverStore
    settings: SettingStore
    scans: ScanStore
    findings: FindingStore
    blobs: BlobStore
    accounts: AccountStore
    jobs: JobQueue
    stream: ScanStream
    dead_letters: DeadLetterQueue
    alerts: AlertSink
    mail: Mailer
    uploads: UploadGrants
    trends: TrendStore
