"""EMR rules: security configurations (encryption at rest and in transit) and their use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Resource, Template
from rules.cloudformation._helpers import MISSING, describe, item_line, present, truthy

_EMR_DOCS = "https://docs.aws.amazon.com/emr/latest/ManagementGuide"
_CONFIG = "AWS::EMR::SecurityConfiguration"


def _encryption(res: Resource) -> tuple[Any, tuple[str, ...]]:
    """The EncryptionConfiguration of a security configuration (a mapping, or a JSON string)."""
    document = res.prop("SecurityConfiguration", default=MISSING)
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return MISSING, ("SecurityConfiguration",)
    if not isinstance(document, dict):
        return MISSING, ("SecurityConfiguration",)
    return document.get("EncryptionConfiguration", MISSING), (
        "SecurityConfiguration",
        "EncryptionConfiguration",
    )


def _flag(tpl: Template, res: Resource, key: str, what: str) -> Hit | None:
    config, path = _encryption(res)
    if not isinstance(config, dict) or key not in config:
        return Hit(f"{key} is not set, so {what} is off", res.prop_line(*path), res.logical_id)
    line = item_line(config, key) or res.prop_line(*path)
    values = tpl.possible_values(config[key])
    if any(truthy(v) is not True for v in values):
        shown = describe(config[key]) if len(values) > 1 or truthy(values[0]) is None else "false"
        return Hit(f"{key} can be {shown}, so {what} can be off", line, res.logical_id)
    return None


@rule(
    id="CF-EMR-001",
    controls=("fsbp EMR.3", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="EMR security configuration without encryption at rest",
    severity="medium",
    resource_types=("AWS::EMR::SecurityConfiguration",),
    description=(
        "A security configuration with EnableAtRestEncryption missing or false leaves EMRFS "
        "data written to S3 and the clusters' local disks (HDFS, spill files, EBS volumes) "
        "unencrypted. When at-rest encryption is on, EBS encryption of the local disks must "
        "not be switched off either. Relates to AWS FSBP EMR.3."
    ),
    remediation=(
        "```yaml\nEmrSecurity:\n  Type: AWS::EMR::SecurityConfiguration\n  Properties:\n"
        "    SecurityConfiguration:\n      EncryptionConfiguration:\n"
        "        EnableAtRestEncryption: true\n        EnableInTransitEncryption: true\n"
        "        AtRestEncryptionConfiguration:\n          S3EncryptionConfiguration:\n"
        "            EncryptionMode: SSE-KMS\n            AwsKmsKey: !Ref EmrKey\n"
        "          LocalDiskEncryptionConfiguration:\n"
        "            EncryptionKeyProviderType: AwsKms\n            AwsKmsKey: !Ref EmrKey\n"
        "            EnableEbsEncryption: true\n```"
    ),
    references=(
        f"{_EMR_DOCS}/emr-data-encryption-options.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/emr-controls.html#emr-3",
    ),
)
def emr_at_rest_off(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_CONFIG):
        hit = _flag(tpl, res, "EnableAtRestEncryption", "encryption at rest")
        if hit:
            yield hit
            continue
        config, path = _encryption(res)
        at_rest = config.get("AtRestEncryptionConfiguration") if isinstance(config, dict) else None
        disks = (
            at_rest.get("LocalDiskEncryptionConfiguration") if isinstance(at_rest, dict) else None
        )
        ebs = disks.get("EnableEbsEncryption") if isinstance(disks, dict) else None
        if any(truthy(v) is False for v in tpl.possible_values(ebs)):
            yield Hit(
                "EnableEbsEncryption can be false, so the clusters' EBS volumes are not encrypted",
                item_line(disks, "EnableEbsEncryption") or res.prop_line(*path),
                res.logical_id,
            )


@rule(
    id="CF-EMR-002",
    controls=("fsbp EMR.4", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="EMR security configuration without encryption in transit",
    severity="medium",
    resource_types=("AWS::EMR::SecurityConfiguration",),
    description=(
        "Without EnableInTransitEncryption, traffic between the cluster's nodes (Hadoop "
        "shuffle, Spark block transfer, HDFS replication, Presto) and to its web interfaces "
        "is unencrypted, so anyone on the VPC path can read the data being processed. "
        "Relates to AWS FSBP EMR.4."
    ),
    remediation=(
        "```yaml\n    SecurityConfiguration:\n      EncryptionConfiguration:\n"
        "        EnableInTransitEncryption: true\n"
        "        InTransitEncryptionConfiguration:\n          TLSCertificateConfiguration:\n"
        "            CertificateProviderType: PEM\n"
        "            S3Object: s3://emr-certs/certs.zip\n```"
    ),
    references=(
        f"{_EMR_DOCS}/emr-encryption-enable.html",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/emr-controls.html#emr-4",
    ),
)
def emr_in_transit_off(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_CONFIG):
        hit = _flag(tpl, res, "EnableInTransitEncryption", "encryption in transit")
        if hit:
            yield hit


@rule(
    id="CF-EMR-003",
    artifact_type="cloudformation",
    title="EMR cluster without a security configuration",
    severity="medium",
    resource_types=("AWS::EMR::Cluster",),
    description=(
        "An EMR cluster launched without SecurityConfiguration has no encryption at rest or "
        "in transit, no Kerberos authentication and no Lake Formation integration: each of "
        "those is only available through a security configuration."
    ),
    remediation=(
        "```yaml\nAnalyticsCluster:\n  Type: AWS::EMR::Cluster\n  Properties:\n"
        "    SecurityConfiguration: !Ref EmrSecurity\n```"
    ),
    references=(
        f"{_EMR_DOCS}/emr-security-configurations.html",
        f"{_EMR_DOCS}/emr-specify-security-configuration.html",
    ),
)
def emr_cluster_without_security_configuration(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::EMR::Cluster"):
        hit = present(
            tpl, res, "SecurityConfiguration", what="no encryption or authentication applies"
        )
        if hit:
            yield hit
