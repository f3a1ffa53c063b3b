"""Create the AWS resources the app needs (against whatever endpoint boto3 is pointed at)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.config import Settings
from chalicelib.stores.clients import client


@dataclass(frozen=True)
class Resources:
    """Identifiers of the created resources that the handlers and runner are wired with."""

    scan_stream_arn: str
    findings_stream_arn: str
    alert_topic_arn: str
    dead_letter_queue_url: str
    dead_letter_queue_arn: str
    account_scan_queue_url: str
    account_scan_dead_letter_queue_url: str


def _table(
    name: str,
    hash_key: str,
    range_key: str,
    stream: bool,
    indexes: dict[str, tuple[str, str | None]] | None = None,
) -> dict:
    attributes = {hash_key, range_key}
    for index_hash, index_range in (indexes or {}).values():
        attributes |= {index_hash} | ({index_range} if index_range else set())
    spec: dict = {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
        ],
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        spec["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_IMAGE",  # the index needs only the new state
        }
    if indexes:
        spec["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index,
                "KeySchema": [{"AttributeName": index_hash, "KeyType": "HASH"}]
                + ([{"AttributeName": index_range, "KeyType": "RANGE"}] if index_range else []),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (index_hash, index_range) in indexes.items()
        ]
    return spec


# The same indexes are declared in .chalice/infra.yaml.
SCAN_INDEXES = {"by_pipeline": ("pipeline_key", "received_at")}
FINDING_INDEXES = {
    "by_artifact": ("artifact_key", None),
    "by_pipeline": ("pipeline_key", "finding_id"),
}


def create_all(cfg: Settings, shards: int = 2) -> Resources:
    """Create tables (findings with a stream), bucket, Kinesis stream, SNS topic, SES sender,
    SQS dead-letter queue and the account-scan queue with its own dead-letter queue."""
    ddb = client("dynamodb")
    ddb.create_table(**_table(cfg.tenants_table, "pk", "sk", stream=False))
    ddb.create_table(
        **_table(cfg.scans_table, "tenant_id", "scan_id", stream=False, indexes=SCAN_INDEXES)
    )
    findings = ddb.create_table(
        **_table(
            cfg.findings_table, "tenant_id", "finding_id", stream=True, indexes=FINDING_INDEXES
        )
    )
    ddb.create_table(**_table(cfg.trends_table, "tenant_id", "sk", stream=False))
    s3 = client("s3")
    if cfg.region == "us-east-1":
        s3.create_bucket(Bucket=cfg.artifact_bucket)
    else:
        s3.create_bucket(
            Bucket=cfg.artifact_bucket,
            CreateBucketConfiguration={"LocationConstraint": cfg.region},
        )
    kinesis = client("kinesis")
    kinesis.create_stream(StreamName=cfg.scan_stream, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(
        StreamName=cfg.scan_stream, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50}
    )
    stream_arn = kinesis.describe_stream_summary(StreamName=cfg.scan_stream)[
        "StreamDescriptionSummary"
    ]["StreamARN"]
    topic_arn = client("sns").create_topic(Name="pipeguard-alerts")["TopicArn"]
    client("ses").verify_email_identity(EmailAddress=cfg.alert_sender)
    sqs = client("sqs")
    dlq_url = sqs.create_queue(QueueName="pipeguard-dead-letters")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    scan_queue_url, scan_dlq_url = _account_scan_queues(cfg)
    return Resources(
        scan_stream_arn=stream_arn,
        findings_stream_arn=findings["TableDescription"]["LatestStreamArn"],
        alert_topic_arn=topic_arn,
        dead_letter_queue_url=dlq_url,
        dead_letter_queue_arn=dlq_arn,
        account_scan_queue_url=scan_queue_url,
        account_scan_dead_letter_queue_url=scan_dlq_url,
    )


def _account_scan_queues(cfg: Settings) -> tuple[str, str]:
    """The account-scan job queue and its dead-letter queue, which takes a job after
    `account_scan_attempts` deliveries (as .chalice/infra.yaml declares them)."""
    sqs = client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{cfg.account_scan_queue}-dead-letters")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": cfg.account_scan_attempts}
    url = sqs.create_queue(
        QueueName=cfg.account_scan_queue,
        Attributes={"VisibilityTimeout": "960", "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    return url, dlq_url
