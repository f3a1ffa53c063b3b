"""Kinesis, Firehose, MSK and Amazon MQ rules: encryption, broker exposure and broker logs."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Resource, Template
from rules.cloudformation._helpers import (
    MISSING,
    disabled,
    each,
    enabled,
    is_true,
    none_of,
    one_of,
    present,
)

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_MSK = "AWS::MSK::Cluster"
_MQ = "AWS::AmazonMQ::Broker"


@rule(
    id="CF-KINESIS-001",
    controls=("fsbp Kinesis.1", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="Kinesis data stream not encrypted at rest",
    severity="medium",
    resource_types=("AWS::Kinesis::Stream",),
    description=(
        "A Kinesis data stream without StreamEncryption stores every record in clear for its "
        "whole retention period (24 hours to a year). Server-side encryption needs both "
        "EncryptionType: KMS and a KeyId (alias/aws/kinesis or your own key); a "
        "StreamEncryption block missing either is rejected or leaves the stream unencrypted. "
        "Relates to AWS FSBP Kinesis.1."
    ),
    remediation=(
        "```yaml\nEventStream:\n  Type: AWS::Kinesis::Stream\n  Properties:\n"
        "    StreamEncryption:\n      EncryptionType: KMS\n      KeyId: !Ref StreamKey\n```"
    ),
    references=(
        f"{_HUB}/kinesis-controls.html#kinesis-1",
        "https://docs.aws.amazon.com/streams/latest/dev/server-side-encryption.html",
    ),
)
def kinesis_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Kinesis::Stream"):
        hit = present(tpl, res, "StreamEncryption", what="records are stored unencrypted")
        hit = hit or one_of(
            tpl,
            res,
            "StreamEncryption",
            "EncryptionType",
            good=("KMS",),
            what="records are stored unencrypted",
        )
        hit = hit or present(
            tpl, res, "StreamEncryption", "KeyId", what="server-side encryption has no key"
        )
        if hit:
            yield hit


@rule(
    id="CF-FIREHOSE-001",
    controls=("fsbp DataFirehose.1", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="Firehose delivery stream not encrypted at rest",
    severity="medium",
    resource_types=("AWS::KinesisFirehose::DeliveryStream",),
    description=(
        "A direct-put Firehose delivery stream buffers records (up to 24 hours when the "
        "destination is down) unencrypted unless DeliveryStreamEncryptionConfigurationInput "
        "is set. Streams reading from a Kinesis data stream or MSK are not checked: they rely "
        "on their source's encryption and cannot take this setting."
    ),
    remediation=(
        "```yaml\nClickstream:\n  Type: AWS::KinesisFirehose::DeliveryStream\n  Properties:\n"
        "    DeliveryStreamType: DirectPut\n    DeliveryStreamEncryptionConfigurationInput:\n"
        "      KeyType: CUSTOMER_MANAGED_CMK\n      KeyARN: !GetAtt FirehoseKey.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/firehose/latest/dev/encryption.html",
        f"{_HUB}/datafirehose-controls.html",
    ),
)
def firehose_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::KinesisFirehose::DeliveryStream"):
        kind = tpl.possible_values(res.prop("DeliveryStreamType", default="DirectPut"))
        if not any(isinstance(k, str) and k.lower() == "directput" for k in kind):
            continue
        hit = present(
            tpl,
            res,
            "DeliveryStreamEncryptionConfigurationInput",
            what="buffered records are not encrypted",
        )
        if hit:
            yield hit


# -- MSK -------------------------------------------------------------------------------------


@rule(
    id="CF-MSK-001",
    controls=("fsbp MSK.1", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="MSK cluster allows plaintext traffic",
    severity="medium",
    resource_types=("AWS::MSK::Cluster",),
    description=(
        "EncryptionInfo.EncryptionInTransit.ClientBroker set to PLAINTEXT or TLS_PLAINTEXT "
        "lets producers and consumers talk to the brokers without TLS, and InCluster: false "
        "turns off TLS between brokers: messages and SASL credentials then cross the network "
        "in clear. The defaults (TLS, in-cluster encryption on) are fine. Relates to AWS FSBP "
        "MSK.1."
    ),
    remediation=(
        "```yaml\nEventsCluster:\n  Type: AWS::MSK::Cluster\n  Properties:\n"
        "    EncryptionInfo:\n      EncryptionInTransit:\n        ClientBroker: TLS\n"
        "        InCluster: true\n```"
    ),
    references=(
        f"{_HUB}/msk-controls.html#msk-1",
        "https://docs.aws.amazon.com/msk/latest/developerguide/msk-encryption.html",
    ),
)
def msk_plaintext(tpl: Template) -> Iterator[Hit]:
    transit = ("EncryptionInfo", "EncryptionInTransit")
    for res in tpl.of_type(_MSK):
        hit = none_of(
            tpl,
            res,
            *transit,
            "ClientBroker",
            bad=("PLAINTEXT", "TLS_PLAINTEXT"),
            what="clients may connect without TLS",
        )
        hit = hit or enabled(
            tpl, res, *transit, "InCluster", what="encryption between brokers", default=True
        )
        if hit:
            yield hit


@rule(
    id="CF-MSK-002",
    controls=("nist-800-53-r5 AU-2", "nist-800-53-r5 AU-12", "pci-dss-4.0 10.2.1"),
    artifact_type="cloudformation",
    title="MSK broker logs not delivered anywhere",
    severity="medium",
    resource_types=("AWS::MSK::Cluster",),
    description=(
        "An MSK cluster keeps no broker logs unless LoggingInfo.BrokerLogs enables delivery "
        "to CloudWatch Logs, Firehose or S3. Broker logs show authentication failures, "
        "authorization denials and client connections: without them, abuse of the cluster "
        "cannot be investigated."
    ),
    remediation=(
        "```yaml\nEventsCluster:\n  Type: AWS::MSK::Cluster\n  Properties:\n"
        "    LoggingInfo:\n      BrokerLogs:\n        CloudWatchLogs:\n          Enabled: true\n"
        "          LogGroup: !Ref BrokerLogGroup\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/msk/latest/developerguide/msk-logging.html",
        f"{_HUB}/msk-controls.html",
    ),
)
def msk_without_logs(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_MSK):
        logs = res.prop("LoggingInfo", "BrokerLogs", default=MISSING)
        if not isinstance(logs, dict):
            yield Hit(
                "LoggingInfo.BrokerLogs is not set, so no broker log is kept",
                res.prop_line("LoggingInfo", "BrokerLogs"),
                res.logical_id,
            )
            continue
        targets = [t for t in ("CloudWatchLogs", "Firehose", "S3") if isinstance(logs.get(t), dict)]
        if any(is_true(tpl, logs[t].get("Enabled")) is not False for t in targets):
            continue  # at least one destination is (or may be) on
        first = next((t for t in targets if "Enabled" in logs[t]), None)
        path = ("LoggingInfo", "BrokerLogs", first, "Enabled") if first else ("LoggingInfo",)
        yield Hit("no broker log destination is enabled", res.prop_line(*path), res.logical_id)


@rule(
    id="CF-MSK-003",
    controls=("fsbp MSK.4", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="MSK brokers reachable from the internet",
    severity="high",
    resource_types=("AWS::MSK::Cluster",),
    description=(
        "BrokerNodeGroupInfo.ConnectivityInfo.PublicAccess.Type SERVICE_PROVIDED_EIPS gives "
        "every broker a public IP address: the cluster's listeners become reachable from the "
        "internet, limited only by security groups and client authentication. "
        "Relates to AWS FSBP MSK.4."
    ),
    remediation=(
        "```yaml\nEventsCluster:\n  Type: AWS::MSK::Cluster\n  Properties:\n"
        "    BrokerNodeGroupInfo:\n      ConnectivityInfo:\n        PublicAccess:\n"
        "          Type: DISABLED\n```\nReach the cluster through VPC peering, Transit "
        "Gateway or MSK multi-VPC private connectivity instead."
    ),
    references=(
        f"{_HUB}/msk-controls.html#msk-4",
        "https://docs.aws.amazon.com/msk/latest/developerguide/public-access.html",
    ),
)
def msk_public(tpl: Template) -> Iterator[Hit]:
    path = ("BrokerNodeGroupInfo", "ConnectivityInfo", "PublicAccess", "Type")
    return each(
        tpl, _MSK, none_of, *path, bad=("SERVICE_PROVIDED_EIPS",), what="brokers get public IPs"
    )


@rule(
    id="CF-MSK-004",
    controls=("fsbp MSK.6", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="MSK cluster allows unauthenticated clients",
    severity="high",
    resource_types=("AWS::MSK::Cluster",),
    description=(
        "ClientAuthentication.Unauthenticated.Enabled: true lets any client that reaches the "
        "brokers produce and consume without credentials, so topic data is protected by "
        "network reachability alone. Use IAM, SASL/SCRAM or mutual TLS authentication. "
        "Relates to AWS FSBP MSK.6."
    ),
    remediation=(
        "```yaml\nEventsCluster:\n  Type: AWS::MSK::Cluster\n  Properties:\n"
        "    ClientAuthentication:\n      Unauthenticated:\n        Enabled: false\n"
        "      Sasl:\n        Iam:\n          Enabled: true\n```"
    ),
    references=(
        f"{_HUB}/msk-controls.html#msk-6",
        "https://docs.aws.amazon.com/msk/latest/developerguide/msk-authentication.html",
    ),
)
def msk_unauthenticated(tpl: Template) -> Iterator[Hit]:
    path = ("ClientAuthentication", "Unauthenticated", "Enabled")
    return each(tpl, _MSK, disabled, *path, what="clients may connect without credentials")


# -- Amazon MQ ---------------------------------------------------------------------------------


def _engine(tpl: Template, res: Resource) -> set[str]:
    return {str(v).lower() for v in tpl.possible_values(res.prop("EngineType"))}


@rule(
    id="CF-MQ-001",
    controls=("fsbp MQ.2", "nist-800-53-r5 AU-2", "nist-800-53-r5 AU-12", "pci-dss-4.0 10.2.1"),
    artifact_type="cloudformation",
    title="Amazon MQ broker logs not sent to CloudWatch Logs",
    severity="medium",
    resource_types=("AWS::AmazonMQ::Broker",),
    description=(
        "Amazon MQ publishes a broker's general log only when Logs.General is true and, for "
        "ActiveMQ, its audit log (management actions through JMX and the console) only when "
        "Logs.Audit is true. Without them, connection errors, configuration changes and "
        "administrative access leave no trace. RabbitMQ brokers have no audit log and are "
        "checked for the general log only. Relates to AWS FSBP MQ.2."
    ),
    remediation=(
        "```yaml\nOrdersBroker:\n  Type: AWS::AmazonMQ::Broker\n  Properties:\n"
        "    Logs:\n      General: true\n      Audit: true   # ActiveMQ only\n```"
    ),
    references=(
        f"{_HUB}/mq-controls.html#mq-2",
        "https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/security-logging-monitoring-cloudwatch.html",
    ),
)
def mq_without_logs(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_MQ):
        kinds = ["General"] + (["Audit"] if "rabbitmq" not in _engine(tpl, res) else [])
        for kind in kinds:
            hit = enabled(tpl, res, "Logs", kind, what=f"the {kind.lower()} log")
            if hit:
                yield hit


@rule(
    id="CF-MQ-002",
    controls=("nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="Amazon MQ broker publicly accessible",
    severity="high",
    resource_types=("AWS::AmazonMQ::Broker",),
    description=(
        "PubliclyAccessible: true gives the broker a public endpoint: its messaging and web "
        "console ports are reachable from the internet, protected by user names and "
        "passwords only (public brokers cannot use security groups). Relates to AWS FSBP MQ.5."
    ),
    remediation=(
        "```yaml\nOrdersBroker:\n  Type: AWS::AmazonMQ::Broker\n  Properties:\n"
        "    PubliclyAccessible: false\n    SubnetIds: [!Ref PrivateSubnet]\n"
        "    SecurityGroups: [!Ref BrokerSecurityGroup]\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/using-amazon-mq-securely.html",
        f"{_HUB}/mq-controls.html",
    ),
)
def mq_public(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _MQ, disabled, "PubliclyAccessible", what="the broker has a public endpoint")


@rule(
    id="CF-MQ-003",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="Amazon MQ broker not encrypted with a customer managed key",
    severity="low",
    resource_types=("AWS::AmazonMQ::Broker",),
    description=(
        "Unless EncryptionOptions sets UseAwsOwnedKey: false, an ActiveMQ broker encrypts its "
        "stored messages with a key AWS owns: it is not in your account, so its use cannot "
        "be restricted, audited in CloudTrail or revoked. RabbitMQ brokers only support AWS "
        "owned keys and are not checked."
    ),
    remediation=(
        "```yaml\nOrdersBroker:\n  Type: AWS::AmazonMQ::Broker\n  Properties:\n"
        "    EngineType: ACTIVEMQ\n    EncryptionOptions:\n      UseAwsOwnedKey: false\n"
        "      KmsKeyId: !Ref BrokerKey\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/data-protection.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-amazonmq-broker-encryptionoptions.html",
    ),
)
def mq_without_cmk(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_MQ):
        if "rabbitmq" in _engine(tpl, res):
            continue
        owned = res.prop("EncryptionOptions", "UseAwsOwnedKey", default=MISSING)
        if owned is MISSING or owned is None or is_true(tpl, owned) is not False:
            yield Hit(
                "EncryptionOptions.UseAwsOwnedKey is not false, so an AWS owned key is used",
                res.prop_line("EncryptionOptions", "UseAwsOwnedKey"),
                res.logical_id,
            )
