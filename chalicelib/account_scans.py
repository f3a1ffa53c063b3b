"""Service-side posture scans, in two steps, so that no HTTP request and no scheduled run waits
while an account is read:

1. `start_scan` (the route, the sweep) records the scan under its final id with status
   `collecting`, makes it the account's `last_scan_id` and puts a job on the account-scan queue.
2. `run_job` (the queue's worker) assumes the account's role, collects its inventory and puts
   it on the scan stream under that scan id: pipeline `aws/<account>`, path
   `aws/<account>.json`, the same as `collectors posture`, so findings are the same findings.

Jobs arrive at least once. The scan id is fixed before the job is queued and every step is a
conditional write, so a repeated job never makes a second scan or a second set of findings;
a job that keeps failing ends its scan `failed` on its last attempt (then the queue moves it to
its dead-letter queue).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib import accounts, ids, observability
from chalicelib import policy as policies
from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable
from chalicelib.ingest import accepted, stream_records
from chalicelib.kinds import ArtifactType, ScanStatus
from chalicelib.stores import blobs, jobs, scans, stream
from chalicelib.stores.backend import stores
from chalicelib.stores.ports import NotWritten

SCHEDULER = "schedule"
"""Who started a scheduled scan (where a key id names who started one through the API)."""

QUEUE_FAILURE = "the account scan could not be queued"
UNFINISHED = "the account scan did not finish: every attempt timed out"
STALE_AFTER = timedelta(hours=1)
"""A scan still collecting this long after it started lost its job (every attempt timed out:
3 attempts of at most 15 minutes each); the next sweep of its account fails it (one of its 20
most recent scans)."""

# what `run_job` did with a job
COLLECTED, STREAMED, FAILED, DROPPED = "collected", "streamed", "failed", "dropped"


class AccountScanJob(BaseModel):
    """One account-scan job on the queue: which scan of which account, started by whom.
    The registration (role, external id, regions, stacks) is read when the job runs."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    account_id: str
    scan_id: str
    actor: str
    correlation_id: str | None = None


def pipeline_of(account_id: str) -> str:
    return f"aws/{account_id}"


def start_scan(
    record: dict[str, Any], actor: str, moment: datetime, correlation_id: str | None = None
) -> dict[str, Any]:
    """Record a scan of one registered account and queue its job; returns what
    `POST /v1/scans` returns (202), status `collecting`. ServiceUnavailable (503) if the job
    cannot be queued (the scan is then failed, saying so)."""
    tenant, account_id = record["tenant_id"], record["account_id"]
    pipeline = pipeline_of(account_id)
    run_id = "posture-" + moment.strftime("%Y%m%dT%H%M%S%fZ")
    scan_id = ids.scan_id(tenant, pipeline, run_id)
    at = moment.isoformat(timespec="milliseconds")
    policy_version = policies.current_version(tenant)
    scan = {
        "tenant_id": tenant,
        "scan_id": scan_id,
        "pipeline": pipeline,
        "run_id": run_id,
        "commit": None,
        "status": ScanStatus.COLLECTING.value,
        "received_at": at,
        "updated_at": at,
        "artifacts": [],
        "artifacts_total": 0,
        "artifacts_done": 0,
        "results": {},
        "fail_on": policies.load(tenant, policy_version).fail_on.value,
        "policy_version": policy_version,
        "pipeline_key": ids.pipeline_key(tenant, pipeline),
        "submitted_by": actor,
        "correlation_id": correlation_id,
        "account_id": account_id,
    }
    if not scans.create(scan):  # the same account, the same microsecond: the same scan
        existing = scans.get(tenant, scan_id) or scan
        return accepted(scan_id, existing["status"])
    with contextlib.suppress(NotWritten):  # deleted meanwhile: its job fails the scan
        stores().accounts.record_scan(
            tenant,
            account_id,
            {
                "last_scan_at": accounts.iso(moment),
                "last_scan_id": scan_id,
                "next_scan_at": accounts.iso(moment + accounts.interval_of(record["schedule"])),
            },
        )
    job = AccountScanJob(
        tenant_id=tenant,
        account_id=account_id,
        scan_id=scan_id,
        actor=actor,
        correlation_id=correlation_id,
    )
    try:
        jobs.send(tenant, job.model_dump_json())
    except jobs.QueueUnavailable:
        observability.logger().exception("account scan not queued", extra={"scan_id": scan_id})
        scans.fail_unstreamed(tenant, scan_id, QUEUE_FAILURE, _now())
        raise ServiceUnavailable(f"{QUEUE_FAILURE}: start it again") from None
    observability.logger().info(
        "account scan queued", extra={"scan_id": scan_id, "account_id": account_id}
    )
    return accepted(scan_id, ScanStatus.COLLECTING.value)


def run_job(body: str, attempt: int = 1) -> str:
    """Do one delivery of a job (`attempt` is the queue's receive count); returns what it did.

    A scan that is no longer collecting is left alone (a repeated delivery): unless an earlier
    delivery collected it and could not put it on the stream, which this one does. Failures of
    the tenant's side (role, permissions, account) fail the scan at once; any other error is
    raised for the queue to retry, and on the last attempt fails the scan first.
    """
    try:
        job = AccountScanJob.model_validate_json(body)
    except ValidationError:
        observability.logger().error(
            "malformed account-scan job dropped", extra={"job": body[:500]}
        )
        return DROPPED
    scan = scans.get(job.tenant_id, job.scan_id)
    if scan is None:
        observability.logger().warning("account-scan job without a scan", extra=job.model_dump())
        return DROPPED
    try:
        if scan["status"] == ScanStatus.QUEUED.value and not scan.get("streamed"):
            _stream(scan)
            _scanned(job)
            return STREAMED
        if scan["status"] != ScanStatus.COLLECTING.value:
            return DROPPED
        return _collect(job)
    except Exception as exc:
        if attempt >= settings().account_scan_attempts:
            reason = f"the account scan failed {attempt} times; the last error: {str(exc)[:300]}"
            _fail(job, accounts.SCAN_FAILED, reason)
        raise


def _collect(job: AccountScanJob) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.posture.assume import CannotAssume, tenant_reader
    from chalicelib.posture.collect import collect

    record = stores().accounts.get(job.tenant_id, job.account_id)
    if record is None:
        _fail(job, None, "the account was deleted before it was scanned")
        return FAILED
    try:
        reader = tenant_reader(
            record["role_arn"], record["external_id"], job.tenant_id, record["regions"][0]
        )
        inventory = collect(reader, regions=record["regions"], stacks=record.get("stacks") or [])
    except CannotAssume as exc:
        _fail(job, accounts.CANNOT_ASSUME, f"{accounts.CANNOT_ASSUME_MESSAGE} ({exc.code})")
        return FAILED
    except (BotoCoreError, ClientError) as exc:
        _fail(job, accounts.SCAN_FAILED, f"the account could not be read: {str(exc)[:300]}")
        return FAILED
    if inventory.account_id != job.account_id:
        message = f"the role reaches account {inventory.account_id}, not {job.account_id}"
        _fail(job, accounts.SCAN_FAILED, message)
        return FAILED
    body = inventory.model_dump_json().encode("utf-8")
    sha256 = ids.sha256_hex(body)
    artifact = {
        "index": 0,
        "type": ArtifactType.AWS_INVENTORY.value,
        "path": f"aws/{job.account_id}.json",
        "sha256": sha256,
        "size": len(body),
        "body_key": blobs.tenant_key(job.tenant_id, "artifacts", sha256),
    }
    blobs.put_bytes(job.tenant_id, artifact["body_key"], body, "text/plain; charset=utf-8")
    scan = scans.collected(job.tenant_id, job.scan_id, [artifact], _now())
    if scan is None:  # another delivery of this job collected it first
        return DROPPED
    _stream(scan)
    _scanned(job)
    observability.logger().info(
        "account scanned",
        extra={"account_id": job.account_id, "resources": len(inventory.resources)},
    )
    return COLLECTED


def _scanned(job: AccountScanJob) -> None:
    """The account could be read: its status is ok (while this scan is its last one)."""
    _record_outcome(job, {"status": accounts.OK, "status_message": None})


def _record_outcome(job: AccountScanJob, changes: dict[str, Any]) -> None:
    """Give the account the scan's outcome, unless a newer scan (or a deletion) came since."""
    with contextlib.suppress(NotWritten):
        stores().accounts.record_scan(
            job.tenant_id, job.account_id, changes, if_last_scan=job.scan_id
        )


def _stream(scan: dict[str, Any]) -> None:
    """Put the collected inventory on the scan stream (raises StreamUnavailable: retried)."""
    stream.put_records(stream_records(scan))
    scans.mark_streamed(scan["tenant_id"], scan["scan_id"])
    observability.count("ArtifactsIngested", len(scan["artifacts"]))


def _fail(job: AccountScanJob, status: str | None, message: str) -> None:
    """Fail the scan (if it never reached the stream) and give the account `status`."""
    if scans.fail_unstreamed(job.tenant_id, job.scan_id, message, _now()) and status:
        _record_outcome(job, {"status": status, "status_message": message})
    observability.logger().warning(
        "account scan failed", extra={"account_id": job.account_id, "reason": message}
    )


def _fail_stale(record: dict[str, Any], moment: datetime) -> None:
    """Fail the account's recent scans that are still collecting long after they started."""
    tenant, account_id = record["tenant_id"], record["account_id"]
    oldest = (moment - STALE_AFTER).isoformat(timespec="milliseconds")
    for scan in scans.of_pipeline(
        tenant, ids.pipeline_key(tenant, pipeline_of(account_id)), limit=20
    ):
        if scan["status"] == ScanStatus.COLLECTING.value and scan["received_at"] <= oldest:
            job = AccountScanJob(
                tenant_id=tenant, account_id=account_id, scan_id=scan["scan_id"], actor=""
            )
            fail_unfinished(job)


def fail_unfinished(job: AccountScanJob) -> None:
    """Fail a scan whose job was given up while it was still collecting (every attempt timed
    out, so the worker had no chance to fail it)."""
    _fail(job, accounts.SCAN_FAILED, UNFINISHED)


def sweep(
    clock: Callable[[], datetime] = accounts.now,
    scan: Callable[..., dict[str, Any]] = start_scan,
) -> dict[str, int]:
    """Queue a scan of every registered account whose next scan is due at `clock()`; each is
    claimed first, so overlapping sweeps queue it once; a disabled tenant's accounts are left
    alone. Returns how many were due and how many were queued."""
    from chalicelib.stores.tenants import get_tenant

    moment = clock()
    due = stores().accounts.due(accounts.iso(moment))
    queued = 0
    active: dict[str, bool] = {}
    for record in sorted(due, key=lambda r: (r["next_scan_at"], r["tenant_id"], r["account_id"])):
        tenant = record["tenant_id"]
        if tenant not in active:
            active[tenant] = (get_tenant(tenant) or {}).get("status") == "active"
        if not active[tenant]:  # a disabled tenant's accounts wait until it is enabled again
            continue
        claimed = accounts.iso(moment + accounts.interval_of(record["schedule"]))
        try:
            stores().accounts.claim(
                record["tenant_id"], record["account_id"], record["next_scan_at"], claimed
            )
        except NotWritten:  # another sweep claimed it (or it was deleted) since it was read
            continue
        try:
            _fail_stale(record, moment)
            scan(record, SCHEDULER, moment)
            queued += 1
        except Exception:  # one tenant's account never stops the others' scans
            observability.logger().exception(
                "scheduled account scan not queued", extra={"account_id": record["account_id"]}
            )
    return {"due": len(due), "queued": queued}


def _now() -> str:
    return accounts.now().isoformat(timespec="milliseconds")
