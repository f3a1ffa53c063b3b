"""Athena and Glue rules: encryption of query results, the Data Catalog and job output."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Template
from rules.cloudformation._helpers import MISSING, as_list, enabled, item_line, one_of

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_CONFIG = "https://docs.aws.amazon.com/config/latest/developerguide"


@rule(
    id="CF-ATHENA-001",
    controls=("nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="Athena workgroup does not enforce encrypted query results",
    severity="medium",
    resource_types=("AWS::Athena::WorkGroup",),
    description=(
        "Query results hold the rows a query returned, often personal data pulled out of a "
        "data lake. A workgroup without ResultConfiguration.EncryptionConfiguration leaves "
        "their encryption to each client, and EnforceWorkGroupConfiguration: false lets "
        "clients override the workgroup's location and encryption with their own."
    ),
    remediation=(
        "```yaml\nAnalystsWorkGroup:\n  Type: AWS::Athena::WorkGroup\n  Properties:\n"
        "    Name: analysts\n    WorkGroupConfiguration:\n"
        "      EnforceWorkGroupConfiguration: true\n      ResultConfiguration:\n"
        "        OutputLocation: !Sub 's3://${ResultsBucket}/athena/'\n"
        "        EncryptionConfiguration:\n          EncryptionOption: SSE_KMS\n"
        "          KmsKey: !GetAtt ResultsKey.Arn\n```"
    ),
    references=(
        f"{_CONFIG}/athena-workgroup-encrypted-at-rest.html",
        f"{_CONFIG}/athena-workgroup-enforce-workgroup-configuration.html",
    ),
)
def workgroup_results_unencrypted(tpl: Template) -> Iterator[Hit]:
    config = "WorkGroupConfiguration"
    encryption = (config, "ResultConfiguration", "EncryptionConfiguration", "EncryptionOption")
    for res in tpl.of_type("AWS::Athena::WorkGroup"):
        hit = one_of(
            tpl,
            res,
            *encryption,
            good=("SSE_S3", "SSE_KMS", "CSE_KMS"),
            what="query results are encrypted only if each client asks",
            label="ResultConfiguration.EncryptionConfiguration",
        ) or enabled(
            tpl,
            res,
            config,
            "EnforceWorkGroupConfiguration",
            what="enforcement of the workgroup's settings",
            default=True,
        )
        if hit:
            yield hit


@rule(
    id="CF-GLUE-001",
    controls=("nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="Glue Data Catalog not encrypted",
    severity="medium",
    resource_types=("AWS::Glue::DataCatalogEncryptionSettings",),
    description=(
        "AWS::Glue::DataCatalogEncryptionSettings decides whether the catalog's databases, "
        "tables and partitions are encrypted with KMS (CatalogEncryptionMode SSE-KMS) and "
        "whether connection passwords are returned encrypted "
        "(ReturnConnectionPasswordEncrypted). With either off, table definitions, their S3 "
        "locations and the JDBC passwords of every connection are readable by anyone "
        "allowed glue:Get* calls."
    ),
    remediation=(
        "```yaml\nCatalogEncryption:\n  Type: AWS::Glue::DataCatalogEncryptionSettings\n"
        "  Properties:\n    CatalogId: !Ref AWS::AccountId\n    DataCatalogEncryptionSettings:\n"
        "      EncryptionAtRest:\n        CatalogEncryptionMode: SSE-KMS\n"
        "        SseAwsKmsKeyId: !Ref CatalogKey\n      ConnectionPasswordEncryption:\n"
        "        ReturnConnectionPasswordEncrypted: true\n        KmsKeyId: !Ref CatalogKey\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/glue/latest/dg/encrypt-glue-data-catalog.html",
        f"{_CONFIG}/glue-data-catalog-encrypted-with-kms-customer-master-key.html",
    ),
)
def catalog_not_encrypted(tpl: Template) -> Iterator[Hit]:
    settings = "DataCatalogEncryptionSettings"
    for res in tpl.of_type("AWS::Glue::DataCatalogEncryptionSettings"):
        hit = one_of(
            tpl,
            res,
            settings,
            "EncryptionAtRest",
            "CatalogEncryptionMode",
            good=("SSE-KMS", "SSE-KMS-WITH-SERVICE-ROLE"),
            what="catalog metadata is not encrypted with KMS",
        ) or enabled(
            tpl,
            res,
            settings,
            "ConnectionPasswordEncryption",
            "ReturnConnectionPasswordEncrypted",
            what="encryption of connection passwords",
        )
        if hit:
            yield hit


@rule(
    id="CF-GLUE-002",
    controls=("nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="Glue security configuration leaves job data unencrypted",
    severity="medium",
    resource_types=("AWS::Glue::SecurityConfiguration",),
    description=(
        "A Glue security configuration sets how the jobs, crawlers and development endpoints "
        "using it encrypt what they write: S3 output (S3EncryptionMode), CloudWatch logs "
        "(CloudWatchEncryptionMode) and job bookmarks (JobBookmarksEncryptionMode). A "
        "missing or DISABLED mode leaves that output unencrypted or under the bucket's "
        "defaults only."
    ),
    remediation=(
        "```yaml\nEtlSecurity:\n  Type: AWS::Glue::SecurityConfiguration\n  Properties:\n"
        "    Name: etl\n    EncryptionConfiguration:\n      S3Encryptions:\n"
        "        - S3EncryptionMode: SSE-KMS\n          KmsKeyArn: !GetAtt EtlKey.Arn\n"
        "      CloudWatchEncryption:\n        CloudWatchEncryptionMode: SSE-KMS\n"
        "        KmsKeyArn: !GetAtt EtlKey.Arn\n      JobBookmarksEncryption:\n"
        "        JobBookmarksEncryptionMode: CSE-KMS\n        KmsKeyArn: !GetAtt EtlKey.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/glue/latest/dg/encryption-security-configuration.html",
        f"{_HUB}/glue-controls.html",
    ),
)
def security_configuration_unencrypted(tpl: Template) -> Iterator[Hit]:
    base = "EncryptionConfiguration"
    modes = (
        ("CloudWatchEncryption", "CloudWatchEncryptionMode", ("SSE-KMS",)),
        ("JobBookmarksEncryption", "JobBookmarksEncryptionMode", ("CSE-KMS",)),
    )
    for res in tpl.of_type("AWS::Glue::SecurityConfiguration"):
        targets = as_list(res.prop(base, "S3Encryptions", default=MISSING))
        s3 = [t for t in targets if isinstance(t, dict)] if targets != [MISSING] else []
        hit = None
        if not s3:
            hit = Hit(
                "S3Encryptions is not set, so S3 output is not encrypted by Glue",
                res.prop_line(base, "S3Encryptions"),
                res.logical_id,
            )
        for target in s3:
            chosen = tpl.possible_values(target.get("S3EncryptionMode", NO_VALUE))
            if any(m is NO_VALUE or str(m).upper() == "DISABLED" for m in chosen):
                hit = hit or Hit(
                    "S3EncryptionMode is DISABLED or not set, so S3 output is not encrypted",
                    item_line(target, "S3EncryptionMode") or res.prop_line(base),
                    res.logical_id,
                )
        for block, key, good in modes:
            hit = hit or one_of(tpl, res, base, block, key, good=good, what=f"{block} is off")
        if hit:
            yield hit
