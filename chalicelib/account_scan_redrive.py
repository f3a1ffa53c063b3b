"""Redrive of the account-scan dead-letter queue: a fresh scan of each account whose scan was
given up, once the cause is fixed.

A dead-lettered job is not delivered again as it is: its scan has failed already (the worker
fails it on the last attempt), so the worker would drop it. Instead each account named by the
dead letters is scanned anew, once however many of its jobs are there, unless there is nothing
to scan again: the registration was deleted, its tenant is not active (the schedule scans it
once the tenant is enabled again), or a newer scan was started since the given-up one (its
last scan is not one of them). A dead-lettered scan still `collecting` (every attempt timed
out) is failed first. A dead job is deleted once its account is handled; unreadable ones, those
whose body names another tenant than the job was queued for, and those of an account whose new
scan could not be queued, stay. It works on either backend's `JobQueue`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from chalicelib import accounts
from chalicelib.account_scans import AccountScanJob, fail_unfinished, start_scan
from chalicelib.errors import ServiceUnavailable
from chalicelib.kinds import ScanStatus
from chalicelib.stores import scans
from chalicelib.stores.backend import stores
from chalicelib.stores.ports import Job
from chalicelib.stores.tenants import get_tenant

REDRIVE = "redrive"
"""Who started a scan of a redrive (`submitted_by`)."""


@dataclass
class AccountScanRedriveResult:
    rescanned: list[dict[str, Any]] = field(default_factory=list)
    """The new scans: tenant_id, account_id, scan_id (and the given-up scan ids)."""
    skipped: list[dict[str, str]] = field(default_factory=list)
    """Accounts not scanned again: tenant_id, account_id, reason."""
    failed: list[str] = field(default_factory=list)
    """Given-up scans that were still collecting, failed now."""
    left: list[str] = field(default_factory=list)
    """Ids of the dead jobs kept on the dead-letter queue."""


def redrive(max_messages: int = 1000) -> AccountScanRedriveResult:
    """Handle up to `max_messages` dead-lettered account-scan jobs."""
    queue = stores().jobs
    result = AccountScanRedriveResult()
    by_account: dict[tuple[str, str], list[tuple[AccountScanJob, Job]]] = {}
    handled = 0
    while handled < max_messages:
        batch = queue.dead(min(10, max_messages - handled), visibility_timeout=120)
        if not batch:
            break
        for dead in batch:
            handled += 1
            try:
                job = AccountScanJob.model_validate_json(dead.body)
            except ValidationError:
                result.left.append(dead.job_id)
                continue
            if dead.tenant_id is not None and dead.tenant_id != job.tenant_id:
                result.left.append(dead.job_id)  # queued for one tenant, naming another
                continue
            by_account.setdefault((job.tenant_id, job.account_id), []).append((job, dead))
    for (tenant_id, account_id), jobs in sorted(by_account.items()):
        if _redrive_account(tenant_id, account_id, [job for job, _ in jobs], result):
            for _, dead in jobs:
                queue.delete(dead)
        else:
            result.left.extend(dead.job_id for _, dead in jobs)
    return result


def _redrive_account(
    tenant_id: str, account_id: str, dead: list[AccountScanJob], result: AccountScanRedriveResult
) -> bool:
    """Scan one account again if that is still wanted; False if its scan could not be queued."""
    for job in dead:
        scan = scans.get(job.tenant_id, job.scan_id)
        if scan is not None and scan["status"] == ScanStatus.COLLECTING.value:
            fail_unfinished(job)
            result.failed.append(job.scan_id)
    given_up = sorted({job.scan_id for job in dead})
    record = stores().accounts.get(tenant_id, account_id)
    reason = None
    if record is None:
        reason = "the account is no longer registered"
    elif (get_tenant(tenant_id) or {}).get("status") != "active":
        reason = "the tenant is not active: its schedule scans the account once it is enabled"
    elif record.get("last_scan_id") not in given_up:
        reason = f"scanned since: {record.get('last_scan_id')}"
    if record is None or reason is not None:
        result.skipped.append(
            {"tenant_id": tenant_id, "account_id": account_id, "reason": reason or ""}
        )
        return True
    try:
        started = start_scan(record, REDRIVE, accounts.now())
    except ServiceUnavailable:
        return False
    result.rescanned.append(
        {
            "tenant_id": tenant_id,
            "account_id": account_id,
            "scan_id": started["scan_id"],
            "given_up": given_up,
        }
    )
    return True
