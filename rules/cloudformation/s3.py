"""S3 bucket rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import UNRESOLVED, Template
from rules.cloudformation._helpers import (
    MISSING,
    as_list,
    describe,
    require_set,
    require_true,
    require_value,
    truthy,
)
from rules.cloudformation.iam import (
    denies,
    policy_variants,
    principal_is_public,
    public_statements,
    statement_line,
    statements,
    texts,
    who,
)

_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
_PUBLIC_ACLS = frozenset({"PublicRead", "PublicReadWrite", "AuthenticatedRead"})
_BLOCK_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


@rule(
    id="CF-S3-001",
    controls=("nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="S3 bucket without default encryption",
    severity="medium",
    resource_types=("AWS::S3::Bucket",),
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
            yield Hit(
                "no BucketEncryption is declared", line=res.properties_line, resource=res.logical_id
            )
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
    controls=("cis-aws-3.0 2.1.4", "fsbp S3.8", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="S3 bucket public access not blocked",
    severity="medium",
    resource_types=("AWS::S3::Bucket",),
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
                line=res.properties_line,
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
    controls=("fsbp S3.2", "fsbp S3.3", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="S3 bucket ACL grants public access",
    severity="high",
    resource_types=("AWS::S3::Bucket",),
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


# -- bucket references ---------------------------------------------------------------------------

_FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide/"
_CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}")
_ARCHIVE_WORDS = re.compile(r"backup|audit|archive|cloudtrail|compliance|retention", re.IGNORECASE)
_WRITE_ACTIONS = ("s3:*", "s3:put", "s3:delete", "s3:replicate", "s3:restore", "*")


def _bucket_names(tpl: Template) -> dict[str, str]:
    """Literal BucketName → logical id, for templates that refer to buckets by name."""
    names: dict[str, str] = {}
    for res in tpl.of_type("AWS::S3::Bucket"):
        name = res.prop("BucketName")
        if isinstance(name, str):
            names[name] = res.logical_id
    return names


def target_bucket(tpl: Template, value: Any, names: dict[str, str] | None = None) -> str | None:
    """The logical id of the template's bucket that `value` designates, if any."""
    ids: str | None = None
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            ids = arg
        elif key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".")
            ids = parts[0] if parts and isinstance(parts[0], str) else None
        elif key == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) and arg else arg
            match = _SUB_NAME.search(text) if isinstance(text, str) else None
            ids = match.group(1) if match else None
    elif isinstance(value, str):
        lookup = names if names is not None else _bucket_names(tpl)
        name = value.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        ids = lookup.get(name)
    res = tpl.resources.get(ids) if ids else None
    return ids if res is not None and res.type == "AWS::S3::Bucket" else None


# -- more bucket rules -----------------------------------------------------------------------------


@rule(
    id="CF-S3-004",
    controls=("fsbp S3.14",),
    artifact_type="cloudformation",
    title="S3 bucket versioning not enabled",
    severity="low",
    resource_types=("AWS::S3::Bucket",),
    description=(
        "Without versioning, an overwrite or a delete destroys the object for good: a buggy "
        "deployment, a mistaken lifecycle rule or ransomware that rewrites objects leaves "
        "nothing to recover. Versioning keeps prior versions (expire them with a lifecycle "
        "rule to bound the cost). Relates to AWS FSBP S3.14."
    ),
    remediation=(
        "```yaml\nVersioningConfiguration:\n  Status: Enabled\nLifecycleConfiguration:\n"
        "  Rules:\n    - Id: expire-old-versions\n      Status: Enabled\n"
        "      NoncurrentVersionExpiration:\n        NoncurrentDays: 90\n```"
    ),
    references=(
        f"{_FSBP}s3-controls.html#s3-14",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",
    ),
)
def bucket_versioning_off(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::S3::Bucket"):
        hit = require_value(
            tpl,
            res,
            "VersioningConfiguration",
            "Status",
            good=frozenset({"enabled"}),
            what="overwritten or deleted objects cannot be recovered",
        )
        if hit:
            yield hit


@rule(
    id="CF-S3-005",
    controls=("fsbp S3.9", "nist-800-53-r5 AU-2", "nist-800-53-r5 AU-12", "pci-dss-4.0 10.2.1"),
    artifact_type="cloudformation",
    title="S3 bucket server access logging disabled",
    severity="low",
    resource_types=("AWS::S3::Bucket",),
    description=(
        "Server access logs record every request made to the bucket (who, from where, which "
        "object, with what result). Without them, investigating a leak or an unexpected "
        "deletion has only CloudTrail management events to go on, which do not include "
        "object reads by default. Buckets that receive access logs (AccessControl "
        "LogDeliveryWrite, or named as another bucket's log destination) are not reported. "
        "Relates to AWS FSBP S3.9."
    ),
    remediation=(
        "```yaml\nLoggingConfiguration:\n  DestinationBucketName: !Ref AccessLogsBucket\n"
        "  LogFilePrefix: data-bucket/\n```"
    ),
    references=(
        f"{_FSBP}s3-controls.html#s3-9",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html",
    ),
)
def bucket_access_logging_off(tpl: Template) -> Iterator[Hit]:
    names = _bucket_names(tpl)
    destinations = set()
    for res in tpl.of_type("AWS::S3::Bucket"):
        target = res.prop("LoggingConfiguration", "DestinationBucketName")
        found = target_bucket(tpl, target, names) if target is not None else None
        if found:
            destinations.add(found)
        if res.prop("AccessControl") == "LogDeliveryWrite":
            destinations.add(res.logical_id)
    for res in tpl.of_type("AWS::S3::Bucket"):
        if res.logical_id in destinations:
            continue
        hit = require_set(
            tpl, res, "LoggingConfiguration", what="requests to the bucket are not logged"
        )
        if hit:
            yield hit


def _bool_false(tpl: Template, value: Any) -> bool:
    return any(truthy(v) is False for item in as_list(value) for v in tpl.possible_values(item))


def _denies_insecure_transport(tpl: Template, document: Any) -> bool:
    for statement in statements(document):
        if (
            not denies(tpl, statement)
            or principal_is_public(tpl, statement.get("Principal")) is not True
        ):
            continue
        condition = statement.get("Condition")
        if not isinstance(condition, dict):
            continue
        for operator, block in condition.items():
            if not isinstance(operator, str) or not isinstance(block, dict):
                continue
            for key, value in block.items():
                if not isinstance(key, str):
                    continue
                if (
                    operator.lower().startswith("bool")
                    and key.lower() == "aws:securetransport"
                    and _bool_false(tpl, value)
                ):
                    return True
                if (
                    operator.lower().startswith("numericlessthan")
                    and key.lower() == "s3:tlsversion"
                ):
                    return True
    return False


@rule(
    id="CF-S3-006",
    controls=("cis-aws-3.0 2.1.1", "fsbp S3.5", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="S3 bucket policy does not require TLS",
    severity="medium",
    resource_types=("AWS::S3::Bucket", "AWS::S3::BucketPolicy"),
    description=(
        "S3 accepts plain HTTP requests unless the bucket policy denies them: credentials "
        "are signed, but object contents then cross the network in clear, readable and "
        "modifiable by anyone on the path. A Deny statement for everyone with "
        "`aws:SecureTransport: false` makes TLS mandatory. A bucket with no bucket policy at "
        "all is reported on the bucket; a policy without the statement is reported on the "
        "policy. Relates to AWS FSBP S3.5 and CIS AWS Foundations "
        "Benchmark v1.4.0 2.1.2."
    ),
    remediation=(
        "```yaml\nDataBucketPolicy:\n  Type: AWS::S3::BucketPolicy\n  Properties:\n"
        "    Bucket: !Ref DataBucket\n    PolicyDocument:\n      Version: '2012-10-17'\n"
        "      Statement:\n        - Sid: DenyInsecureTransport\n          Effect: Deny\n"
        "          Principal: '*'\n          Action: 's3:*'\n          Resource:\n"
        "            - !GetAtt DataBucket.Arn\n            - !Sub '${DataBucket.Arn}/*'\n"
        "          Condition:\n            Bool:\n              aws:SecureTransport: false\n```"
    ),
    references=(
        f"{_FSBP}s3-controls.html#s3-5",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html",
        _CIS,
    ),
)
def bucket_allows_http(tpl: Template) -> Iterator[Hit]:
    names = _bucket_names(tpl)
    with_policy: set[str] = set()
    for res in tpl.of_type("AWS::S3::BucketPolicy"):
        bucket = target_bucket(tpl, res.prop("Bucket"), names)
        if bucket:
            with_policy.add(bucket)
        documents, unreadable = policy_variants(tpl, res.prop("PolicyDocument"))
        if any(not _denies_insecure_transport(tpl, d) for d in documents):
            yield Hit(
                "the policy has no Deny statement for aws:SecureTransport false",
                line=res.prop_line("PolicyDocument"),
                resource=res.logical_id,
            )
        elif unreadable:
            yield Hit(
                "the policy document cannot be read from the template: make sure it denies "
                "requests without TLS",
                line=res.prop_line("PolicyDocument"),
                resource=res.logical_id,
            )
    for res in tpl.of_type("AWS::S3::Bucket"):
        if res.logical_id not in with_policy:
            yield Hit(
                "the bucket has no bucket policy, so plain HTTP requests are accepted",
                line=res.line,
                resource=res.logical_id,
            )


@rule(
    id="CF-S3-007",
    controls=("fsbp S3.2", "fsbp S3.3", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="S3 bucket policy grants access to everyone",
    severity="high",
    resource_types=("AWS::S3::BucketPolicy",),
    description=(
        'A bucket policy statement that allows the principal `*` (or `{AWS: "*"}`) without '
        "a condition naming the caller (aws:SourceVpce, aws:PrincipalOrgID, aws:SourceArn...) "
        "opens the listed actions to anyone on the internet, unauthenticated: public reads "
        "leak data, public writes let strangers plant content or run up the bill. Static "
        "sites should be served through CloudFront with an origin access control. Relates to "
        "AWS FSBP S3.2 and S3.3."
    ),
    remediation=(
        "Grant the CloudFront distribution, not everyone:\n"
        "```yaml\n- Effect: Allow\n  Principal:\n    Service: cloudfront.amazonaws.com\n"
        "  Action: s3:GetObject\n  Resource: !Sub '${SiteBucket.Arn}/*'\n  Condition:\n"
        "    StringEquals:\n      AWS:SourceArn: !Sub 'arn:aws:cloudfront::${AWS::AccountId}:"
        "distribution/${Distribution}'\n```"
    ),
    references=(
        f"{_FSBP}s3-controls.html#s3-2",
        f"{_FSBP}s3-controls.html#s3-3",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
    ),
)
def bucket_policy_public(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::S3::BucketPolicy"):
        for statement, public in public_statements(tpl, res.prop("PolicyDocument")):
            actions = [
                a.strip().lower() for a in texts(tpl, statement.get("Action")) if isinstance(a, str)
            ]
            write = any(a.startswith(_WRITE_ACTIONS) for a in actions)
            whom = who(public, statement.get("Principal"), "anyone")
            yield Hit(
                f"the policy lets {whom} {'write to' if write else 'read'} the bucket "
                "without a restricting condition",
                line=statement_line(res, statement, "Principal", "PolicyDocument"),
                resource=res.logical_id,
            )


def _archive_buckets(tpl: Template, names: dict[str, str]) -> set[str]:
    """Buckets holding audit trails or backups: CloudTrail / Config destinations, or named so."""
    found = set()
    for res in tpl.of_type("AWS::CloudTrail::Trail", "AWS::Config::DeliveryChannel"):
        bucket = target_bucket(tpl, res.prop("S3BucketName"), names)
        if bucket:
            found.add(bucket)
    for res in tpl.of_type("AWS::S3::Bucket"):
        name = res.prop("BucketName")
        if _ARCHIVE_WORDS.search(res.logical_id) or (
            isinstance(name, str) and _ARCHIVE_WORDS.search(name)
        ):
            found.add(res.logical_id)
    return found


@rule(
    id="CF-S3-008",
    controls=("fsbp S3.15",),
    artifact_type="cloudformation",
    title="Audit or backup bucket without Object Lock",
    severity="low",
    resource_types=("AWS::CloudTrail::Trail", "AWS::Config::DeliveryChannel", "AWS::S3::Bucket"),
    description=(
        "Buckets that hold audit trails or backups (destinations of CloudTrail or AWS Config, "
        "or named like backup, audit, archive, retention) are what an intruder deletes to "
        "cover their tracks and what ransomware encrypts first. Object Lock stores objects "
        "write-once-read-many for a retention period that not even the account root can "
        "shorten in compliance mode. It can only be turned on when the bucket is created. "
        "Relates to AWS FSBP S3.15."
    ),
    remediation=(
        "```yaml\nAuditLogBucket:\n  Type: AWS::S3::Bucket\n  Properties:\n"
        "    ObjectLockEnabled: true\n    ObjectLockConfiguration:\n"
        "      ObjectLockEnabled: Enabled\n      Rule:\n        DefaultRetention:\n"
        "          Mode: GOVERNANCE\n          Days: 365\n"
        "    VersioningConfiguration:\n      Status: Enabled\n```"
    ),
    references=(
        f"{_FSBP}s3-controls.html#s3-15",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html",
    ),
)
def archive_without_object_lock(tpl: Template) -> Iterator[Hit]:
    archives = _archive_buckets(tpl, _bucket_names(tpl))
    for res in tpl.of_type("AWS::S3::Bucket"):
        if res.logical_id in archives:
            hit = require_true(tpl, res, "ObjectLockEnabled", what="Object Lock")
            if hit:
                yield hit


@rule(
    id="CF-S3-009",
    controls=("fsbp S3.17", "nist-800-53-r5 SC-12"),
    artifact_type="cloudformation",
    title="S3 bucket encrypted with S3 managed keys",
    severity="info",
    resource_types=("AWS::S3::Bucket",),
    description=(
        "SSE-S3 (AES256) encrypts objects with keys S3 owns: anyone allowed to read an object "
        "gets it decrypted, and there is no key policy to add a second check, no per-key "
        "audit trail of decryptions and no way to revoke access by disabling a key. SSE-KMS "
        "with a customer managed key (and an S3 Bucket Key to keep the cost down) gives "
        "those controls. Buckets without BucketEncryption are reported by CF-S3-001. "
        "Relates to AWS FSBP S3.17."
    ),
    remediation=(
        "```yaml\nBucketEncryption:\n  ServerSideEncryptionConfiguration:\n"
        "    - ServerSideEncryptionByDefault:\n        SSEAlgorithm: aws:kms\n"
        "        KMSMasterKeyID: !Ref DataKey\n      BucketKeyEnabled: true\n```"
    ),
    references=(
        f"{_FSBP}s3-controls.html#s3-17",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html",
    ),
)
def bucket_sse_s3(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::S3::Bucket"):
        config = res.prop("BucketEncryption", "ServerSideEncryptionConfiguration")
        for index, _ in enumerate(as_list(config)):
            path = (
                "BucketEncryption",
                "ServerSideEncryptionConfiguration",
                index,
                "ServerSideEncryptionByDefault",
                "SSEAlgorithm",
            )
            values = tpl.possible_values(res.prop(*path))
            if any(isinstance(v, str) and v.strip().upper() == "AES256" for v in values):
                yield Hit(
                    "SSEAlgorithm is AES256 (S3 managed keys), not aws:kms",
                    line=res.prop_line(*path),
                    resource=res.logical_id,
                )
