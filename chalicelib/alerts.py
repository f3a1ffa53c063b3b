"""Alerts: a failing verdict is published to the SNS topic with filterable attributes."""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.config import settings
from chalicelib.models import SEVERITY_ORDER
from chalicelib.stores.clients import client

log = logging.getLogger(__name__)


def scan_failed(tenant_id: str, scan: dict[str, Any], counts: dict[str, int]) -> None:
    """Publish a scan-failed alert; no topic configured means no alert."""
    topic = settings().alert_topic_arn
    if not topic:
        return
    worst = next((s.value for s in reversed(SEVERITY_ORDER) if counts.get(s.value)), "none")
    message = {
        "event": "scan.failed",
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
        "event": "scan.failed",
    }
    client("sns").publish(
        TopicArn=topic,
        Subject=f"Pipeguard: {scan['pipeline']} failed policy",
        Message=json.dumps(message),
        MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
        },
    )
