"""SNS: every topic with its attributes (encryption key, access policy): one read per topic,
SNS has no batch call."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.collect import NOT_READ, Scope, decoded_keys

GLOBAL = False


def collect(scope: Scope) -> None:
    topics = scope.pages("list_topics", "Topics", feeds=["AWS::SNS::Topic"])
    if topics is NOT_READ:
        return
    scope.each(topics, lambda topic: _topic(scope, topic["TopicArn"]))


def _topic(scope: Scope, arn: str) -> None:
    config: dict[str, Any] = {"TopicArn": arn}
    missing: dict[str, str] = {}
    scope.section(
        config,
        missing,
        "Attributes",
        "get_topic_attributes",
        pick=lambda r: decoded_keys(
            r.get("Attributes") or {}, "Policy", "EffectiveDeliveryPolicy", "DeliveryPolicy"
        ),
        resource=arn,
        TopicArn=arn,
    )
    tags = scope.tags(arn, lambda: _own_tags(scope, arn))
    scope.add(
        "AWS::SNS::Topic",
        arn,
        arn.rsplit(":", 1)[-1],
        config,
        tags=tags,
        not_assessed=missing,
    )


def _own_tags(scope: Scope, arn: str) -> Any:
    tags = scope.call("list_tags_for_resource", resource=arn, ResourceArn=arn)
    return (tags or {}).get("Tags") if tags is not NOT_READ else None
