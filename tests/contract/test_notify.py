"""Alerts, e-mail and upload forms on each backend: what the evaluate path and the routes hand
over, and where it arrives (SNS/SES/S3 on AWS; outbox, .eml files, signed forms embedded)."""

from __future__ import annotations

import json
import stat
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from chalicelib.stores.ports import Email, Stores

SCAN = {"scan_id": "scn_1", "pipeline": "shop", "run_id": "r1", "commit": "abc"}


def _queue_on_topic() -> str:
    from chalicelib.config import settings
    from chalicelib.stores.clients import client

    sqs = client("sqs")
    url = sqs.create_queue(QueueName="alerts-seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client("sns").subscribe(TopicArn=settings().alert_topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def _handed_over(stores: Stores, queue_url: str | None) -> list[dict[str, Any]]:
    """The alerts' messages as the backend holds them for subscribers."""
    if queue_url:
        from chalicelib.stores.clients import client

        got = client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        return [json.loads(json.loads(m["Body"])["Message"]) for m in got.get("Messages", [])]
    return [json.loads(a.alert.message) for a in stores.alerts.recent(10)]  # type: ignore[attr-defined]


def test_failing_and_critical_scans_are_alerted(stores: Stores, request: Any) -> None:
    from chalicelib import alerts

    queue = _queue_on_topic() if "aws" in request.node.callspec.id else None
    alerts.scan_alerts(
        [
            alerts.ScanAlert("acme", SCAN, "fail", {"high": 2}),
            alerts.ScanAlert("acme", {**SCAN, "scan_id": "scn_2"}, "pass", {"critical": 1}),
            alerts.ScanAlert("acme", {**SCAN, "scan_id": "scn_3"}, "pass", {"low": 1}),
        ]
    )
    seen = sorted((m["scan_id"], m["event"]) for m in _handed_over(stores, queue))
    assert seen == [("scn_1", "scan.failed"), ("scn_2", "finding.critical")]


def test_email_is_sent(stores: Stores, request: Any, tmp_path: Path) -> None:
    stores.mail.send(Email("alerts@pipeguard.local", ("sec@acme.example",), "Subject 1", "Body"))
    if "aws" in request.node.callspec.id:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        (sent,) = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        assert sent.destinations["ToAddresses"] == ["sec@acme.example"]
        assert sent.subject == "Subject 1"
        return
    (eml,) = (tmp_path / "state" / "outbox").glob("*.eml")
    assert stat.S_IMODE(eml.stat().st_mode) == 0o600
    message = message_from_bytes(eml.read_bytes())
    assert message["To"] == "sec@acme.example" and message["Subject"] == "Subject 1"
    assert message.get_payload().strip() == "Body"


def test_upload_forms_are_for_the_tenants_own_keys(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.config import settings
    from chalicelib.uploads import upload_key

    monkeypatch.setenv("PIPEGUARD_PUBLIC_URL", "http://127.0.0.1:9")
    settings.cache_clear()
    key = upload_key("acme", "upl_1")
    form = stores.uploads.grant("acme", "upl_1", key, 100, 60)
    assert form.url.startswith("http") and form.fields["key"] == key
    with pytest.raises(ValueError):
        stores.uploads.grant("acme", "upl_2", upload_key("globex", "upl_2"), 100, 60)
