"""S3: every bucket with its region, encryption, public access block, versioning, logging,
policy, ACL, Object Lock and tags, and the account's public access block (S3 Control).

S3 has no batch describe: each section of a bucket is one request (made a few buckets at a
time). Buckets are listed once for the account, whatever regions are collected."""

from __future__ import annotations

from typing import Any

from chalicelib.posture import inventory as inv
from chalicelib.posture.collect import NOT_READ, Scope, decoded

GLOBAL = True
CLIENT_REGION = "us-east-1"

# (section, operation, absent codes, what to keep of the response)
_SECTIONS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    (
        "Encryption",
        "get_bucket_encryption",
        ("ServerSideEncryptionConfigurationNotFoundError",),
        "ServerSideEncryptionConfiguration",
    ),
    (
        "PublicAccessBlock",
        "get_public_access_block",
        ("NoSuchPublicAccessBlockConfiguration",),
        "PublicAccessBlockConfiguration",
    ),
    ("Versioning", "get_bucket_versioning", (), None),
    ("Logging", "get_bucket_logging", (), "LoggingEnabled"),
    ("Policy", "get_bucket_policy", ("NoSuchBucketPolicy",), "Policy"),
    ("Acl", "get_bucket_acl", (), None),
    (
        "ObjectLock",
        "get_object_lock_configuration",
        ("ObjectLockConfigurationNotFoundError",),
        "ObjectLockConfiguration",
    ),
    (
        "OwnershipControls",
        "get_bucket_ownership_controls",
        ("OwnershipControlsNotFoundError",),
        "OwnershipControls",
    ),
    ("Tagging", "get_bucket_tagging", ("NoSuchTagSet",), "TagSet"),
)


def collect(scope: Scope) -> None:
    _account_block(scope)
    buckets = scope.pages("list_buckets", "Buckets", feeds=["AWS::S3::Bucket"])
    if buckets is NOT_READ:
        return
    scope.each(buckets, lambda bucket: _bucket(scope, bucket))


def _account_block(scope: Scope) -> None:
    response = scope.call(
        "get_public_access_block",
        service="s3control",
        absent=("NoSuchPublicAccessBlockConfiguration",),
        feeds=["s3.account_public_access_block"],
        AccountId=scope.account_id,
    )
    if response is not NOT_READ:
        block = None if response is None else response.get("PublicAccessBlockConfiguration")
        scope.fact("s3.account_public_access_block", block, scope=inv.GLOBAL)


def _bucket(scope: Scope, bucket: dict[str, Any]) -> None:
    name = bucket["Name"]
    arn = f"arn:{scope.partition}:s3:::{name}"
    config: dict[str, Any] = {"Name": name, "CreationDate": bucket.get("CreationDate")}
    missing: dict[str, str] = {}
    region = bucket.get("BucketRegion")
    if not region:
        location = scope.call("get_bucket_location", resource=arn, Bucket=name)
        if location is not NOT_READ:
            region = (location or {}).get("LocationConstraint") or "us-east-1"
            region = "eu-west-1" if region == "EU" else region
    config["Region"] = region
    for section, operation, absent, key in _SECTIONS:
        scope.section(
            config,
            missing,
            section,
            operation,
            pick=(lambda r, k=key: r.get(k) if k else r),
            absent=absent,
            resource=arn,
            Bucket=name,
        )
    if "Policy" in config:
        config["Policy"] = decoded(config["Policy"])  # text it cannot parse stays text
    tags = config.pop("Tagging", None)
    if "Tagging" in missing:
        missing.pop("Tagging")
    scope.add(
        "AWS::S3::Bucket",
        arn,
        name,
        config,
        tags=tags,
        region=region or "us-east-1",
        not_assessed=missing,
    )
