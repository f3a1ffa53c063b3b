"""The account-scan job queue on SQS: the queue `settings()` names (its URL, else its name),
and the dead-letter queue its redrive policy names; the tenant rides as a message attribute."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import settings
from chalicelib.stores.clients import client
from chalicelib.stores.ports import Job, QueueUnavailable, check_job_size

TENANT_ATTRIBUTE = "tenant_id"


def queue_url() -> str:
    """The configured queue URL, else the URL of the queue of the configured name."""
    cfg = settings()
    if cfg.account_scan_queue_url:
        return cfg.account_scan_queue_url
    try:
        return str(client("sqs").get_queue_url(QueueName=cfg.account_scan_queue)["QueueUrl"])
    except Exception as exc:
        raise QueueUnavailable(f"the account-scan queue cannot be found: {exc}") from exc


class SqsJobs:
    """`JobQueue` on SQS."""

    def send(self, tenant_id: str, body: str) -> str:
        check_job_size(body)
        try:
            sent = client("sqs").send_message(
                QueueUrl=queue_url(),
                MessageBody=body,
                MessageAttributes={
                    TENANT_ATTRIBUTE: {"DataType": "String", "StringValue": tenant_id}
                },
            )
        except Exception as exc:
            raise QueueUnavailable(f"the account-scan queue refused the job: {exc}") from exc
        return str(sent["MessageId"])

    def receive(self, limit: int = 1, visibility_timeout: int | None = None) -> list[Job]:
        extra = {} if visibility_timeout is None else {"VisibilityTimeout": visibility_timeout}
        return _receive(queue_url(), limit, **extra)

    def retry_after(self, job: Job, seconds: int) -> None:
        client("sqs").change_message_visibility(
            QueueUrl=job.queue, ReceiptHandle=job.receipt, VisibilityTimeout=seconds
        )

    def delete(self, job: Job) -> None:
        client("sqs").delete_message(QueueUrl=job.queue, ReceiptHandle=job.receipt)

    def dead(self, limit: int = 10, visibility_timeout: int = 120) -> list[Job]:
        return _receive(self.dead_letter_queue(), limit, VisibilityTimeout=visibility_timeout)

    def dead_letter_queue(self) -> str:
        """The URL of the queue's redrive policy's target."""
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


def _receive(url: str, limit: int, **options: Any) -> list[Job]:
    messages = (
        client("sqs")
        .receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(10, limit)),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=[TENANT_ATTRIBUTE],
            **options,
        )
        .get("Messages", [])
    )
    return [_job(url, m) for m in messages]


def _job(url: str, message: dict[str, Any]) -> Job:
    attributes = message.get("Attributes") or {}
    tenant = (message.get("MessageAttributes") or {}).get(TENANT_ATTRIBUTE) or {}
    sent_at = int(attributes.get("SentTimestamp") or 0)
    return Job(
        job_id=message["MessageId"],
        tenant_id=tenant.get("StringValue"),
        body=message["Body"],
        receive_count=int(attributes.get("ApproximateReceiveCount") or 1),
        sent_at=sent_at,
        first_received_at=int(attributes.get("ApproximateFirstReceiveTimestamp") or sent_at),
        receipt=message["ReceiptHandle"],
        queue=url,
    )
