"""The stream consumers' dead-letter queue on SQS (`settings().dead_letter_queue_url`)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import settings
from chalicelib.stores.clients import client
from chalicelib.stores.ports import DeadLetter


class SqsDeadLetters:
    """`DeadLetterQueue` on SQS: a received message is hidden for its visibility timeout."""

    def put(self, body: dict[str, Any]) -> None:
        client("sqs").send_message(
            QueueUrl=settings().dead_letter_queue_url, MessageBody=json.dumps(body)
        )

    def receive(self, limit: int, hide_seconds: int = 120) -> list[DeadLetter]:
        letters: list[DeadLetter] = []
        while len(letters) < limit:
            batch = (
                client("sqs")
                .receive_message(
                    QueueUrl=settings().dead_letter_queue_url,
                    MaxNumberOfMessages=min(10, limit - len(letters)),
                    WaitTimeSeconds=0,
                    VisibilityTimeout=hide_seconds,
                )
                .get("Messages", [])
            )
            seen = {letter.message_id for letter in letters}
            fresh = [m for m in batch if m["MessageId"] not in seen]  # visible again at once
            if not fresh:
                break
            letters += [
                DeadLetter(m["ReceiptHandle"], m["MessageId"], json.loads(m["Body"])) for m in fresh
            ]
        return letters[:limit]

    def delete(self, handle: str) -> None:
        client("sqs").delete_message(
            QueueUrl=settings().dead_letter_queue_url, ReceiptHandle=handle
        )
