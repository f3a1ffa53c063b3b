"""Alerts: a failing verdict is published to the SNS topic with filterable attributes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.config import settings
from chalicelib.models import SEVERITY_ORDER
from chalicelib.stores.clients import client

SUBJECTS = {"scan.failed": "failed policy", "finding.critical": "has a critical finding"}
_BATCH = 10  # SNS PublishBatch takes at most 10 messages


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


class AlertsNotPublished(RuntimeError):
    """SNS refused some of the alerts."""


def scan_alert(tenant_id: str, scan: dict[str, Any], verdict: str, counts: dict[str, int]) -> None:
    """Alert on a failed verdict or any critical finding: SNS for the platform, email per tenant."""
    scan_alerts([ScanAlert(tenant_id, scan, verdict, counts)])


def scan_alerts(alerts: list[ScanAlert]) -> None:
    """Alert on several scans: SNS messages in batches of ten, then each tenant's email."""
    wanted = [a for a in alerts if a.wanted]
    topic = settings().alert_topic_arn
    for start in range(0, len(wanted) if topic else 0, _BATCH):
        chunk = wanted[start : start + _BATCH]
        response = client("sns").publish_batch(
            TopicArn=topic,
            PublishBatchRequestEntries=[_entry(str(i), a) for i, a in enumerate(chunk)],
        )
        if response.get("Failed"):
            raise AlertsNotPublished(f"SNS refused {len(response['Failed'])} alerts")
    from chalicelib.notifications import email_alert

    for alert in wanted:
        if alert.verdict == "fail":
            email_alert(alert.tenant_id, alert.scan, alert.counts)


def _entry(entry_id: str, alert: ScanAlert) -> dict[str, Any]:
    """One PublishBatch entry, with attributes subscriptions can filter on."""
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
    return {
        "Id": entry_id,
        "Subject": f"Pipeguard: {scan['pipeline']} {SUBJECTS[event]}",
        "Message": json.dumps(message),
        "MessageAttributes": {
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
        },
    }
