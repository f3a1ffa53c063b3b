"""The account-scan job queue (SQS): one message per scan the service collects itself."""

from __future__ import annotations

from chalicelib.config import settings
from chalicelib.stores.clients import client


class QueueUnavailable(RuntimeError):
    """The job could not be put on the queue (botocore already retried)."""


def queue_url() -> str:
    """The configured queue URL, else the URL of the queue of the configured name."""
    cfg = settings()
    if cfg.account_scan_queue_url:
        return cfg.account_scan_queue_url
    return client("sqs").get_queue_url(QueueName=cfg.account_scan_queue)["QueueUrl"]


def send(body: str) -> None:
    """Put one job on the queue."""
    try:
        client("sqs").send_message(QueueUrl=queue_url(), MessageBody=body)
    except Exception as exc:
        raise QueueUnavailable(f"the account-scan queue refused the job: {exc}") from exc
