"""Alerts: a failing verdict is published to the SNS topic with filterable attributes."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import settings
from chalicelib.models import SEVERITY_ORDER
from chalicelib.stores.clients import client

SUBJECTS = {"scan.failed": "failed policy", "finding.critical": "has a critical finding"}


def scan_alert(tenant_id: str, scan: dict[str, Any], verdict: str, counts: dict[str, int]) -> None:
    """Alert on a failed verdict or any critical finding: SNS for the platform, email per tenant."""
    if verdict != "fail" and not counts.get("critical"):
        return
    _publish(tenant_id, scan, verdict, counts)
    if verdict == "fail":
        from chalicelib.notifications import email_alert

        email_alert(tenant_id, scan, counts)


def _publish(tenant_id: str, scan: dict[str, Any], verdict: str, counts: dict[str, int]) -> None:
    """Publish to the alert topic with attributes subscriptions can filter on."""
    topic = settings().alert_topic_arn
    if not topic:
        return
    event = "scan.failed" if verdict == "fail" else "finding.critical"
    worst = next((s.value for s in reversed(SEVERITY_ORDER) if counts.get(s.value)), "none")
    message = {
        "event": event,
        "verdict": verdict,
        "tenant_id": tenant_id,
        "scan_id": scan["scan_id"],
        "pipeline": scan["pipeline"],
        "run_id": scan["run_id"],
        "commit": scan.get("commit"),
        "counts": counts,
    }
    attributes = {
        "tenant_id": tenant_id,
        "pipeline": scan["pipeline"],
        "severity": worst,
        "event": event,
    }
    client("sns").publish(
        TopicArn=topic,
        Subject=f"Pipeguard: {scan['pipeline']} {SUBJECTS[event]}",
        Message=json.dumps(message),
        MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
        },
    )
