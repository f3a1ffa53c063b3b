"""S3 buckets, with their policies, and the account public access block folded in."""

from __future__ import annotations

from typing import Any

from chalicelib.posture.inventory import InventoryResource
from chalicelib.posture.shapes._base import (
    Context,
    Mapping,
    Shape,
    drop_none,
    policy_of,
    ref,
    tags_of,
)

_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
_LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
_BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _canned_acl(acl: Any) -> str | None:
    """The canned ACL whose grants the bucket's ACL holds (the widest), if any."""
    grants = (acl or {}).get("Grants") or [] if isinstance(acl, dict) else []
    held = {
        ((g.get("Grantee") or {}).get("URI"), g.get("Permission"))
        for g in grants
        if isinstance(g, dict)
    }
    if (_ALL_USERS, "WRITE") in held or (_ALL_USERS, "FULL_CONTROL") in held:
        return "PublicReadWrite"
    if (_ALL_USERS, "READ") in held:
        return "PublicRead"
    if (_AUTHENTICATED, "READ") in held or (_AUTHENTICATED, "FULL_CONTROL") in held:
        return "AuthenticatedRead"
    if (_LOG_DELIVERY, "WRITE") in held:
        return "LogDeliveryWrite"
    return None


def bucket(res: InventoryResource, ctx: Context) -> list[Shape]:
    """A bucket, its public access block folded with the account's (the stricter wins: either
    blocks), and its policy as an `AWS::S3::BucketPolicy`."""
    config = res.configuration
    props: dict[str, Any] = {"BucketName": res.id, "Tags": tags_of(res)}
    encryption = config.get("Encryption")
    if isinstance(encryption, dict):
        props["BucketEncryption"] = {
            "ServerSideEncryptionConfiguration": [
                drop_none(
                    {
                        "ServerSideEncryptionByDefault": drop_none(
                            {
                                "SSEAlgorithm": (
                                    rule.get("ApplyServerSideEncryptionByDefault") or {}
                                ).get("SSEAlgorithm"),
                                "KMSMasterKeyID": (
                                    rule.get("ApplyServerSideEncryptionByDefault") or {}
                                ).get("KMSMasterKeyID"),
                            }
                        ),
                        "BucketKeyEnabled": rule.get("BucketKeyEnabled"),
                    }
                )
                for rule in encryption.get("Rules") or []
                if isinstance(rule, dict)
            ]
        }
    account = ctx.inventory.fact("global", "s3.account_public_access_block")
    blocks = [b for b in (config.get("PublicAccessBlock"), account) if isinstance(b, dict)]
    if blocks:
        props["PublicAccessBlockConfiguration"] = {
            flag: any(bool(b.get(flag)) for b in blocks) for flag in _BLOCK_FLAGS
        }
    status = (config.get("Versioning") or {}).get("Status")
    if status:
        props["VersioningConfiguration"] = {"Status": status}
    logging = config.get("Logging")
    if isinstance(logging, dict) and logging.get("TargetBucket"):
        target = logging["TargetBucket"]
        props["LoggingConfiguration"] = drop_none(
            {
                "DestinationBucketName": ref(ctx.buckets[target])
                if target in ctx.buckets
                else target,
                "LogFilePrefix": logging.get("TargetPrefix"),
            }
        )
    props["AccessControl"] = _canned_acl(config.get("Acl"))
    lock = config.get("ObjectLock")
    if isinstance(lock, dict) and lock.get("ObjectLockEnabled") == "Enabled":
        props["ObjectLockEnabled"] = True
    shapes = [Shape(res.arn, "AWS::S3::Bucket", drop_none(props))]
    policy = policy_of(config.get("Policy"))
    if policy is not None:
        shapes.append(
            Shape(
                f"{res.arn}#policy",
                "AWS::S3::BucketPolicy",
                {"Bucket": ref(res.arn), "PolicyDocument": policy},
                label="bucket policy",
            )
        )
    return shapes


MAPPINGS: dict[str, Mapping] = {
    "AWS::S3::Bucket": bucket,
}
