"""Redrive of the account-scan dead-letter queue: a fresh scan of each account whose scan was
given up, once the cause is fixed.

A dead-lettered job is not delivered again as it is: its scan has failed already (the worker
fails it on the last attempt), so the worker would drop it. Instead each account named by the
dead letters is scanned anew, once however many of its jobs are there, unless there is nothing
to scan again: the registration was deleted, its tenant is not active (the schedule scans it
once the tenant is enabled again), or a newer scan was started since the given-up one (its
last scan is not one of them). A dead-lettered scan still `collecting` (every attempt timed
out) is failed first. A message is deleted once its account is handled; unreadable ones, and
those of an account whose new scan could not be queued, stay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from chalicelib import accounts
from chalicelib.account_scans import AccountScanJob, fail_unfinished, start_scan
from chalicelib.errors import ServiceUnavailable
from chalicelib.kinds import ScanStatus
from chalicelib.stores import scans
from chalicelib.stores.backend import stores
from chalicelib.stores.clients import client
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
    """Message ids kept on the queue."""


def redrive(dead_letter_url: str, max_messages: int = 1000) -> AccountScanRedriveResult:
    """Handle up to `max_messages` dead-lettered account-scan jobs at `dead_letter_url`."""
    sqs = client("sqs")
    result = AccountScanRedriveResult()
    by_account: dict[tuple[str, str], list[tuple[AccountScanJob, dict[str, Any]]]] = {}
    handled = 0
    while handled < max_messages:
        batch = sqs.receive_message(
            QueueUrl=dead_letter_url,
            MaxNumberOfMessages=min(10, max_messages - handled),
            WaitTimeSeconds=0,
            VisibilityTimeout=120,
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            handled += 1
            try:
                job = AccountScanJob.model_validate_json(message["Body"])
            except ValidationError:
                result.left.append(message["MessageId"])
                continue
            by_account.setdefault((job.tenant_id, job.account_id), []).append((job, message))
    for (tenant_id, account_id), dead in sorted(by_account.items()):
        if _redrive_account(tenant_id, account_id, [job for job, _ in dead], result):
            for _, message in dead:
                sqs.delete_message(QueueUrl=dead_letter_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            result.left.extend(message["MessageId"] for _, message in dead)
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


def dead_letter_queue_url() -> str:
    """The dead-letter queue of the account-scan queue (its redrive policy's target)."""
    from chalicelib.stores.jobs import QueueUnavailable, queue_url

    try:
        sqs = client("sqs")
        attributes = sqs.get_queue_attributes(
            QueueUrl=queue_url(), AttributeNames=["RedrivePolicy"]
        )["Attributes"]
        target = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"]
        _, _, _, _, owner, name = target.split(":", 5)
        return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=owner)["QueueUrl"])
    except Exception as exc:
        raise QueueUnavailable(
            f"the account-scan queue's dead-letter queue cannot be found ({str(exc)[:300]})"
        ) from None
