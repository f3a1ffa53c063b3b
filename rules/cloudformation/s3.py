"""S3 bucket rules."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import UNRESOLVED, Template
from rules.cloudformation._helpers import MISSING, as_list, describe, truthy

_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
_PUBLIC_ACLS = frozenset({"PublicRead", "PublicReadWrite", "AuthenticatedRead"})
_BLOCK_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


@rule(
    id="CF-S3-001",
    artifact_type="cloudformation",
    title="S3 bucket without default encryption",
    severity="medium",
    description=(
        "A bucket without an explicit BucketEncryption relies on the account's defaults and "
        "says nothing about which key protects the data; an unresolvable or unknown algorithm "
        "may leave objects unencrypted or encrypted with a key you do not control or audit."
    ),
    remediation=(
        "Declare default encryption, with a KMS key when you need key policies and audit:\n"
        "```yaml\nBucketEncryption:\n  ServerSideEncryptionConfiguration:\n"
        "    - ServerSideEncryptionByDefault:\n        SSEAlgorithm: aws:kms\n"
        "        KMSMasterKeyID: !Ref DataKey\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-s3-bucket-bucketencryption.html",
    ),
)
def bucket_without_encryption(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::S3::Bucket"):
        config = res.prop("BucketEncryption", "ServerSideEncryptionConfiguration", default=MISSING)
        if config is MISSING:
            yield Hit("no BucketEncryption is declared", line=res.line, resource=res.logical_id)
            continue
        rules = as_list(config)
        line = res.prop_line("BucketEncryption", "ServerSideEncryptionConfiguration")
        if not rules:
            yield Hit(
                "ServerSideEncryptionConfiguration is empty", line=line, resource=res.logical_id
            )
            continue
        for index, item in enumerate(rules):
            path = (
                "BucketEncryption",
                "ServerSideEncryptionConfiguration",
                index,
                "ServerSideEncryptionByDefault",
                "SSEAlgorithm",
            )
            algorithm = res.prop(*path, default=MISSING)
            if algorithm is MISSING:
                if isinstance(item, dict) and "ServerSideEncryptionByDefault" not in item:
                    yield Hit(
                        "an encryption rule has no ServerSideEncryptionByDefault",
                        line=res.prop_line(*path[:3]),
                        resource=res.logical_id,
                    )
                continue
            values = tpl.possible_values(algorithm)
            if any(v is UNRESOLVED for v in values):
                yield Hit(
                    f"SSEAlgorithm comes from {describe(algorithm)}, which cannot be "
                    "resolved from the template",
                    line=res.prop_line(*path),
                    resource=res.logical_id,
                )
            elif any(not isinstance(v, str) or v not in _ALGORITHMS for v in values):
                yield Hit(
                    f"SSEAlgorithm {values[0]!r} is not a known encryption algorithm",
                    line=res.prop_line(*path),
                    resource=res.logical_id,
                )


@rule(
    id="CF-S3-002",
    artifact_type="cloudformation",
    title="S3 bucket public access not blocked",
    severity="medium",
    description=(
        "S3 Block Public Access is the guard rail that stops a later ACL or bucket policy "
        "change from exposing the bucket to the internet. Turning any of its four settings "
        "off, or not declaring them, leaves the bucket one mistake away from a data leak."
    ),
    remediation=(
        "```yaml\nPublicAccessBlockConfiguration:\n  BlockPublicAcls: true\n"
        "  BlockPublicPolicy: true\n  IgnorePublicAcls: true\n  RestrictPublicBuckets: true\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
    ),
)
def bucket_public_access_not_blocked(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::S3::Bucket"):
        config = res.prop("PublicAccessBlockConfiguration", default=MISSING)
        if config is MISSING:
            yield Hit(
                "no PublicAccessBlockConfiguration is declared",
                line=res.line,
                resource=res.logical_id,
            )
            continue
        off: list[str] = []
        first_line = None
        for flag in _BLOCK_FLAGS:
            value = res.prop("PublicAccessBlockConfiguration", flag, default=MISSING)
            values = [False] if value is MISSING else tpl.possible_values(value)
            if not all(truthy(v) is True for v in values):
                off.append(flag)
                if value is not MISSING and first_line is None:
                    first_line = res.prop_line("PublicAccessBlockConfiguration", flag)
        if off:
            yield Hit(
                f"{', '.join(off)} {'is' if len(off) == 1 else 'are'} not true",
                line=first_line or res.prop_line("PublicAccessBlockConfiguration"),
                resource=res.logical_id,
            )


@rule(
    id="CF-S3-003",
    artifact_type="cloudformation",
    title="S3 bucket ACL grants public access",
    severity="high",
    description=(
        "The canned ACLs PublicRead, PublicReadWrite and AuthenticatedRead let anyone on the "
        "internet (or any AWS account) list and read the bucket, and with PublicReadWrite "
        "also overwrite or delete its objects."
    ),
    remediation=(
        "Drop the AccessControl property (buckets are private by default) and serve public "
        "content through CloudFront with an origin access control instead."
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl",
    ),
)
def bucket_public_acl(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::S3::Bucket"):
        value = res.prop("AccessControl", default=MISSING)
        if value is MISSING:
            continue
        public = [v for v in tpl.possible_values(value) if isinstance(v, str) and v in _PUBLIC_ACLS]
        if public:
            yield Hit(
                f"AccessControl is {public[0]}",
                line=res.prop_line("AccessControl"),
                resource=res.logical_id,
            )
