"""Alerts: SNS with filterable attributes, per-tenant email settings, the daily digest (SES)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.stores.clients import client
from tests.conftest import Api, scan_body


def _subscribe(aws: Any, name: str, filter_policy: dict) -> str:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client("sns").subscribe(
        TopicArn=aws.alert_topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps(filter_policy)},
    )
    return url


def _received(url: str) -> list[dict]:
    messages = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def _sent_emails() -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_failed_scan_alert_carries_filterable_attributes(
    api_url: str, keys: dict[str, str], pipeline: Any, aws: Any
) -> None:
    acme_high = _subscribe(
        aws, "acme-high", {"tenant_id": ["acme"], "severity": ["high", "critical"]}
    )
    globex = _subscribe(aws, "globex-all", {"tenant_id": ["globex"]})
    api = Api(api_url, keys["acme"])
    accepted = api.post("/v1/scans", json=scan_body(pipeline="shop")).json()
    clean = scan_body(
        pipeline="clean",
        artifacts=[
            {
                "type": "junit",
                "path": "r.xml",
                "content": '<testsuite><testcase name="ok"/></testsuite>',
            }
        ],
    )
    assert api.post("/v1/scans", json=clean).status_code == 202
    pipeline.drain()

    (envelope,) = _received(acme_high)
    attributes = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
    assert attributes == {
        "tenant_id": "acme",
        "pipeline": "shop",
        "severity": "high",
        "event": "scan.failed",
    }
    message = json.loads(envelope["Message"])
    assert message["scan_id"] == accepted["scan_id"] and message["verdict"] == "fail"
    assert _received(globex) == []


def test_notification_settings_send_emails_and_digests(
    api_url: str, keys: dict[str, str], pipeline: Any, app_module: Any
) -> None:
    api = Api(api_url, keys["acme"])
    assert api.get("/v1/notifications").json() == {
        "emails": [],
        "min_severity": "high",
        "alert_on_fail": True,
        "daily_digest": True,
    }
    for wrong in ("not-an-email", "sec\x07@acme.example", "sec\x00@acme.example",
                  "a<b>@acme.example", 'sec"@acme.example', "sec@acme.example\n"):  # fmt: skip
        bad = api.session.put(api_url + "/v1/notifications", json={"emails": [wrong]}, timeout=10)
        assert bad.status_code == 422, wrong
        assert bad.json()["error"]["details"][0]["field"] == "emails"
    chosen = {"emails": ["sec@acme.example"], "min_severity": "high"}
    saved = api.session.put(api_url + "/v1/notifications", json=chosen, timeout=10)
    assert saved.status_code == 200 and saved.json()["emails"] == ["sec@acme.example"]
    assert Api(api_url, keys["globex"]).get("/v1/notifications").json()["emails"] == []

    before = len(_sent_emails())
    api.post("/v1/scans", json=scan_body(pipeline="shop"))
    pipeline.drain()
    alerts = _sent_emails()[before:]
    assert len(alerts) == 1
    assert alerts[0].destinations["ToAddresses"] == ["sec@acme.example"]
    assert "shop" in alerts[0].subject

    event = {
        "version": "0",
        "id": "1",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": "2026-11-28T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    assert app_module.daily_digest(event, None) == {"sent": 1}
    digest = _sent_emails()[-1]
    assert digest.destinations["ToAddresses"] == ["sec@acme.example"]
    assert "1 of 1 scans failed" in digest.subject
    assert "shop" in digest.body


def test_notification_settings_need_the_admin_scope(api_url: str, aws: Any) -> None:
    from chalicelib.tenancy import create_tenant, issue_key

    create_tenant("scoped")
    reader = Api(api_url, issue_key("scoped", ["read", "ingest"]))
    assert reader.get("/v1/notifications").status_code == 403
