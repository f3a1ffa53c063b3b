"""Alerts, e-mail and upload forms on AWS: SNS PublishBatch, SES, S3 presigned POST."""

from __future__ import annotations

from chalicelib.config import settings
from chalicelib.stores import keys
from chalicelib.stores.clients import client
from chalicelib.stores.ports import Alert, Email, UploadGrant

_BATCH = 10  # SNS PublishBatch takes at most 10 messages


class AlertsNotPublished(RuntimeError):
    """SNS refused some of the alerts."""


class SnsAlerts:
    """`AlertSink` on the platform topic (`ALERT_TOPIC_ARN`; none configured: no alerts)."""

    def publish(self, alerts: list[Alert]) -> None:
        topic = settings().alert_topic_arn
        for start in range(0, len(alerts) if topic else 0, _BATCH):
            chunk = alerts[start : start + _BATCH]
            response = client("sns").publish_batch(
                TopicArn=topic,
                PublishBatchRequestEntries=[
                    {
                        "Id": str(i),
                        "Subject": alert.subject,
                        "Message": alert.message,
                        "MessageAttributes": {
                            k: {"DataType": "String", "StringValue": v}
                            for k, v in alert.attributes.items()
                        },
                    }
                    for i, alert in enumerate(chunk)
                ],
            )
            if response.get("Failed"):
                raise AlertsNotPublished(f"SNS refused {len(response['Failed'])} alerts")


class SesMail:
    """`Mailer` on SES."""

    def send(self, email: Email) -> None:
        client("ses").send_email(
            Source=email.sender,
            Destination={"ToAddresses": list(email.to)},
            Message={"Subject": {"Data": email.subject}, "Body": {"Text": {"Data": email.body}}},
        )


class S3UploadGrants:
    """`UploadGrants` as S3 presigned POSTs into the artifact bucket."""

    def grant(
        self, tenant_id: str, upload_id: str, key: str, max_bytes: int, expires_in: int
    ) -> UploadGrant:
        keys.blob_parts(tenant_id, key)
        form = client("s3").generate_presigned_post(
            Bucket=settings().artifact_bucket,
            Key=key,
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return UploadGrant(url=form["url"], fields=dict(form["fields"]))
