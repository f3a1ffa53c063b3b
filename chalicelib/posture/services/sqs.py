"""SQS: every queue with all its attributes (encryption, policy, redrive): one read per
queue, SQS has no batch call."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope, decoded_keys

GLOBAL = False


def collect(scope: Scope) -> None:
    urls = scope.pages("list_queues", "QueueUrls", feeds=["AWS::SQS::Queue"])
    if urls is NOT_READ:
        return
    scope.each(urls, lambda url: _queue(scope, url))


def _queue(scope: Scope, url: str) -> None:
    name = url.rstrip("/").rsplit("/", 1)[-1]
    arn = scope.arn(name)
    config: dict[str, Any] = {"QueueUrl": url, "QueueName": name}
    missing: dict[str, str] = {}
    scope.section(
        config,
        missing,
        "Attributes",
        "get_queue_attributes",
        pick=lambda r: decoded_keys(r.get("Attributes") or {}, "Policy", "RedrivePolicy"),
        resource=arn,
        QueueUrl=url,
        AttributeNames=["All"],
    )
    arn = (config.get("Attributes") or {}).get("QueueArn") or arn
    tags = scope.tags(arn, lambda: _own_tags(scope, arn, url))
    scope.add(
        "AWS::SQS::Queue",
        arn,
        name,
        config,
        tags=tags,
        not_assessed=missing,
    )


def _own_tags(scope: Scope, arn: str, url: str) -> Any:
    tags = scope.call("list_queue_tags", resource=arn, QueueUrl=url)
    return (tags or {}).get("Tags") if tags is not NOT_READ else None
