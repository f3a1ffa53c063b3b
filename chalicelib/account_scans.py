"""Service-side posture scans: assume a registered account's role, collect its inventory and
put it on the scan stream like any submitted artifact (pipeline `aws/<account>`, path
`aws/<account>.json`, the same as `collectors posture`, so findings are the same findings).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import accounts, ids, observability
from chalicelib import policy as policies
from chalicelib.ingest import accepted, submit_scan
from chalicelib.kinds import ArtifactType, ScanStatus
from chalicelib.models import ArtifactIn, ScanRequest
from chalicelib.stores import accounts as store
from chalicelib.stores import scans
from chalicelib.tenancy import Principal

SCHEDULER = "schedule"
"""Who started a scheduled scan (where a key id names who started one through the API)."""


def pipeline_of(account_id: str) -> str:
    return f"aws/{account_id}"


def scan_account(
    record: dict[str, Any], actor: str, moment: datetime, correlation_id: str | None = None
) -> dict[str, Any]:
    """Scan one registered account now; returns what `POST /v1/scans` returns (202).

    A role that cannot be assumed or an account that cannot be read gives a failed scan and the
    account's status says why; nothing here raises for the tenant's side of the setup.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib.posture.assume import CannotAssume, tenant_reader
    from chalicelib.posture.collect import collect

    tenant, account_id = record["tenant_id"], record["account_id"]
    run_id = "posture-" + moment.strftime("%Y%m%dT%H%M%S%fZ")
    outcome: dict[str, Any] = {
        "last_scan_at": accounts.iso(moment),
        "next_scan_at": accounts.iso(moment + accounts.interval_of(record["schedule"])),
    }
    try:
        reader = tenant_reader(
            record["role_arn"], record["external_id"], tenant, record["regions"][0]
        )
        inventory = collect(reader, regions=record["regions"])
    except CannotAssume as exc:
        message = f"{accounts.CANNOT_ASSUME_MESSAGE} ({exc.code})"
        return _failed(record, run_id, moment, actor, accounts.CANNOT_ASSUME, message, outcome)
    except (BotoCoreError, ClientError) as exc:
        message = f"the account could not be read: {str(exc)[:300]}"
        return _failed(record, run_id, moment, actor, accounts.SCAN_FAILED, message, outcome)
    if inventory.account_id != account_id:
        message = f"the role reaches account {inventory.account_id}, not {account_id}"
        return _failed(record, run_id, moment, actor, accounts.SCAN_FAILED, message, outcome)
    request = ScanRequest(
        pipeline=pipeline_of(account_id),
        run_id=run_id,
        artifacts=[
            ArtifactIn(
                type=ArtifactType.AWS_INVENTORY,
                path=f"aws/{account_id}.json",
                content=inventory.model_dump_json(),
            )
        ],
    )
    principal = Principal(tenant, actor, frozenset({"ingest"}))
    result = submit_scan(principal, request, correlation_id)
    store.record_scan(
        tenant,
        account_id,
        {**outcome, "status": accounts.OK, "status_message": None,
         "last_scan_id": result["scan_id"]},
    )  # fmt: skip
    observability.logger().info(
        "account scanned",
        extra={"account_id": account_id, "resources": len(inventory.resources)},
    )
    return result


def _failed(
    record: dict[str, Any],
    run_id: str,
    moment: datetime,
    actor: str,
    status: str,
    message: str,
    outcome: dict[str, Any],
) -> dict[str, Any]:
    """Record a scan that failed before it had an inventory, and the account's status."""
    tenant, account_id = record["tenant_id"], record["account_id"]
    pipeline = pipeline_of(account_id)
    scan_id = ids.scan_id(tenant, pipeline, run_id)
    at = moment.isoformat(timespec="milliseconds")
    policy_version = policies.current_version(tenant)
    scans.create(
        {
            "tenant_id": tenant,
            "scan_id": scan_id,
            "pipeline": pipeline,
            "run_id": run_id,
            "commit": None,
            "status": ScanStatus.FAILED.value,
            "failure": message,
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
            "correlation_id": None,
        }
    )
    store.record_scan(
        tenant,
        account_id,
        {**outcome, "status": status, "status_message": message, "last_scan_id": scan_id},
    )
    observability.logger().warning(
        "account scan failed", extra={"account_id": account_id, "reason": message}
    )
    return accepted(scan_id, ScanStatus.FAILED.value)


def sweep(
    clock: Callable[[], datetime] = accounts.now,
    scan: Callable[..., dict[str, Any]] = scan_account,
) -> dict[str, int]:
    """Scan every registered account whose next scan is due at `clock()`; each is claimed
    first, so overlapping sweeps scan it once; a disabled tenant's accounts are left alone.
    Returns how many were due and how many were scanned."""
    from chalicelib.stores.tenants import get_tenant

    moment = clock()
    due = store.due(accounts.iso(moment))
    scanned = 0
    active: dict[str, bool] = {}
    for record in sorted(due, key=lambda r: (r["next_scan_at"], r["tenant_id"], r["account_id"])):
        tenant = record["tenant_id"]
        if tenant not in active:
            active[tenant] = (get_tenant(tenant) or {}).get("status") == "active"
        if not active[tenant]:  # a disabled tenant's accounts wait until it is enabled again
            continue
        claimed = accounts.iso(moment + accounts.interval_of(record["schedule"]))
        if not store.claim(
            record["tenant_id"], record["account_id"], record["next_scan_at"], claimed
        ):
            continue
        try:
            scan(record, SCHEDULER, moment)
            scanned += 1
        except Exception:  # one tenant's account never stops the others' scans
            observability.logger().exception(
                "scheduled account scan failed", extra={"account_id": record["account_id"]}
            )
    return {"due": len(due), "scanned": scanned}
