"""Alerts: a failing verdict is published with filterable attributes to the backend's alert
sink (the SNS topic on AWS, the durable outbox on the embedded backend)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.models import SEVERITY_ORDER
from chalicelib.stores.backend import stores
from chalicelib.stores.ports import Alert

SUBJECTS = {"scan.failed": "failed policy", "finding.critical": "has a critical finding"}


@dataclass(frozen=True)
class ScanAlert:
    """One completed scan's outcome, to alert on if it failed or found something critical."""

    tenant_id: str
    scan: dict[str, Any]
    verdict: str
    counts: dict[str, int]

    @property
    def wanted(self) -> bool:
        return self.verdict == "fail" or bool(self.counts.get("critical"))


def scan_alert(tenant_id: str, scan: dict[str, Any], verdict: str, counts: dict[str, int]) -> None:
    """Alert on a failed verdict or any critical finding: the platform's alert sink, and email
    per tenant."""
    scan_alerts([ScanAlert(tenant_id, scan, verdict, counts)])


def scan_alerts(alerts: list[ScanAlert]) -> None:
    """Alert on several scans: the platform's alerts at once, then each tenant's email."""
    wanted = [a for a in alerts if a.wanted]
    if wanted:
        stores().alerts.publish([_alert(a) for a in wanted])
    from chalicelib.notifications import email_alert

    for alert in wanted:
        if alert.verdict == "fail":
            email_alert(alert.tenant_id, alert.scan, alert.counts)


def _alert(alert: ScanAlert) -> Alert:
    """The platform alert of one scan, with attributes subscriptions can filter on; its id is
    the same for every evaluation of the scan."""
    scan, counts = alert.scan, alert.counts
    event = "scan.failed" if alert.verdict == "fail" else "finding.critical"
    worst = next((s.value for s in reversed(SEVERITY_ORDER) if counts.get(s.value)), "none")
    message = {
        "event": event,
        "verdict": alert.verdict,
        "tenant_id": alert.tenant_id,
        "scan_id": scan["scan_id"],
        "pipeline": scan["pipeline"],
        "run_id": scan["run_id"],
        "commit": scan.get("commit"),
        "counts": counts,
    }
    attributes = {
        "tenant_id": alert.tenant_id,
        "pipeline": scan["pipeline"],
        "severity": worst,
        "event": event,
    }
    return Alert(
        alert_id=f"{alert.tenant_id}:{scan['scan_id']}:{event}",
        tenant_id=alert.tenant_id,
        subject=f"Pipeguard: {scan['pipeline']} {SUBJECTS[event]}",
        message=json.dumps(message),
        attributes=attributes,
    )
