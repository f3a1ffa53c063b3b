"""SNS topics and SQS queues, with their access policies."""

from __future__ import annotations

from chalicelib.posture.inventory import InventoryResource
from chalicelib.posture.shapes._base import (
    Context,
    Mapping,
    Shape,
    bool_text,
    drop_none,
    policy_of,
    ref,
    tags_of,
)


def topic(res: InventoryResource, ctx: Context) -> list[Shape]:
    attributes = res.configuration.get("Attributes") or {}
    props = {
        "TopicName": res.id,
        "KmsMasterKeyId": attributes.get("KmsMasterKeyId") or None,
        "FifoTopic": bool_text(attributes.get("FifoTopic")),
        "Tags": tags_of(res),
    }
    shapes = [Shape(res.arn, "AWS::SNS::Topic", drop_none(props))]
    policy = policy_of(attributes.get("Policy"))
    if policy is not None:
        shapes.append(
            Shape(
                f"{res.arn}#policy",
                "AWS::SNS::TopicPolicy",
                {"Topics": [ref(res.arn)], "PolicyDocument": policy},
                label="topic policy",
            )
        )
    return shapes


def queue(res: InventoryResource, ctx: Context) -> list[Shape]:
    attributes = res.configuration.get("Attributes") or {}
    props = {
        "QueueName": res.id,
        "KmsMasterKeyId": attributes.get("KmsMasterKeyId") or None,
        "SqsManagedSseEnabled": bool_text(attributes.get("SqsManagedSseEnabled")),
        "MessageRetentionPeriod": attributes.get("MessageRetentionPeriod"),
        "RedrivePolicy": attributes.get("RedrivePolicy"),
        "Tags": tags_of(res),
    }
    if props["SqsManagedSseEnabled"] is None and not props["KmsMasterKeyId"]:
        props["SqsManagedSseEnabled"] = False  # the queue reports no encryption at all
    shapes = [Shape(res.arn, "AWS::SQS::Queue", drop_none(props))]
    policy = policy_of(attributes.get("Policy"))
    if policy is not None:
        shapes.append(
            Shape(
                f"{res.arn}#policy",
                "AWS::SQS::QueuePolicy",
                {"Queues": [res.configuration.get("QueueUrl")], "PolicyDocument": policy},
                label="queue policy",
            )
        )
    return shapes


MAPPINGS: dict[str, Mapping] = {
    "AWS::SNS::Topic": topic,
    "AWS::SQS::Queue": queue,
}
