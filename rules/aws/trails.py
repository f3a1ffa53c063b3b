"""CloudTrail and AWS Config across the account: a trail that records everything, object-level
events, the trail's bucket, Config recording in every region."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit
from chalicelib.posture.inventory import Inventory, InventoryResource
from rules.aws._helpers import CIS, FSBP, account_rule, in_regions, where

_TRAIL = "AWS::CloudTrail::Trail"
_TRAIL_DOC = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-create-and-update-a-trail.html"
_DATA_DOC = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html"
_CONFIG_DOC = "https://docs.aws.amazon.com/config/latest/developerguide/select-resources.html"
_ALL_USERS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


def _selectors(trail: InventoryResource) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    found = trail.configuration.get("EventSelectors") or {}
    return list(found.get("EventSelectors") or []), list(found.get("AdvancedEventSelectors") or [])


def _fields(selector: dict[str, Any]) -> dict[str, list[str]]:
    """An advanced selector's `Equals` conditions by field name."""
    return {
        str(f.get("Field")): [str(v) for v in f.get("Equals") or []]
        for f in selector.get("FieldSelectors") or []
        if isinstance(f, dict)
    }


def logs_all_management_events(trail: InventoryResource) -> bool:
    """True when the trail records read and write management events (no selectors at all is
    CloudTrail's default: management events, read and write)."""
    basic, advanced = _selectors(trail)
    if not basic and not advanced:
        return True
    for selector in basic:
        if (
            selector.get("IncludeManagementEvents", True)
            and selector.get("ReadWriteType", "All") == "All"
        ):
            return True
    for selector in advanced:
        fields = _fields(selector)
        if fields.get("eventCategory") == ["Management"] and "readOnly" not in fields:
            return True
    return False


def logs_s3_objects(trail: InventoryResource, read: bool) -> bool:
    """True when the trail records S3 object-level read (or write) events for all buckets."""
    wanted = {"All", "ReadOnly"} if read else {"All", "WriteOnly"}
    basic, advanced = _selectors(trail)
    for selector in basic:
        if selector.get("ReadWriteType", "All") not in wanted:
            continue
        for resource in selector.get("DataResources") or []:
            values = [str(v) for v in resource.get("Values") or []]
            if resource.get("Type") == "AWS::S3::Object" and any(
                v in ("arn:aws:s3", "arn:aws:s3:::") for v in values
            ):
                return True
    for selector in advanced:
        fields = _fields(selector)
        if fields.get("eventCategory") != ["Data"] or fields.get("resources.type") != [
            "AWS::S3::Object"
        ]:
            continue
        only = fields.get("readOnly")
        every_bucket = not any(k.startswith("resources.ARN") for k in fields)
        if (only is None or only == (["true"] if read else ["false"])) and every_bucket:
            return True
    return False


def active_multi_region(inventory: Inventory) -> list[InventoryResource]:
    return [
        t
        for t in inventory.of_type(_TRAIL)
        if t.configuration.get("IsMultiRegionTrail")
        and (t.configuration.get("Status") or {}).get("IsLogging")
    ]


@account_rule(
    id="AWS-TRAIL-001",
    controls=(
        "cis-aws-3.0 3.1",
        "fsbp CloudTrail.1",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    needs=(_TRAIL,),
    title="No multi-region trail records every management event",
    severity="high",
    description=(
        "Without a trail that is logging in every region and records read and write "
        "management events, API activity in some regions (or every read) leaves no record: "
        "an intruder who works in an unused region, or only looks around, is invisible."
    ),
    remediation=(
        "Create (or fix) one trail with `IsMultiRegionTrail: true`, logging turned on, and "
        "management events for read and write; organizations do it once with an "
        "organization trail."
    ),
    references=(f"{FSBP}/cloudtrail-controls.html#cloudtrail-1", _TRAIL_DOC, CIS),
)
def no_multi_region_trail(inventory: Inventory) -> Iterator[Hit]:
    trails = inventory.of_type(_TRAIL)
    if not any(logs_all_management_events(t) for t in active_multi_region(inventory)):
        found = f"{len(trails)} trail(s), none" if trails else "no trail at all"
        yield Hit(
            f"{found} is multi-region, logging and recording all management events",
            resource=where(inventory),
        )


def _object_rule(inventory: Inventory, read: bool) -> Iterator[Hit]:
    if not any(logs_s3_objects(t, read) for t in active_multi_region(inventory)):
        kind = "read" if read else "write"
        yield Hit(
            f"no logging multi-region trail records S3 object-level {kind} events",
            resource=where(inventory),
        )


@account_rule(
    id="AWS-TRAIL-002",
    controls=(
        "cis-aws-3.0 3.8",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    needs=(_TRAIL,),
    title="S3 object-level writes are not logged",
    severity="medium",
    description=(
        "Management events do not include object uploads and deletions. Without a data event "
        "selector for S3 objects, who overwrote or deleted an object cannot be traced."
    ),
    remediation=(
        "Add an event selector for `AWS::S3::Object` (all buckets, write events) to the "
        "multi-region trail."
    ),
    references=(_DATA_DOC, CIS),
)
def object_writes_not_logged(inventory: Inventory) -> Iterator[Hit]:
    yield from _object_rule(inventory, read=False)


@account_rule(
    id="AWS-TRAIL-003",
    controls=(
        "cis-aws-3.0 3.9",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    needs=(_TRAIL,),
    title="S3 object-level reads are not logged",
    severity="low",
    description=(
        "Object downloads are data events. Without them, a leak from a bucket (who read "
        "which object, from where) cannot be investigated."
    ),
    remediation=(
        "Add an event selector for `AWS::S3::Object` read events (all buckets, or the "
        "sensitive ones) to the multi-region trail."
    ),
    references=(_DATA_DOC, CIS),
)
def object_reads_not_logged(inventory: Inventory) -> Iterator[Hit]:
    yield from _object_rule(inventory, read=True)


def _trail_buckets(inventory: Inventory) -> Iterator[tuple[InventoryResource, InventoryResource]]:
    """(trail, its bucket) for trails whose bucket is in the inventory."""
    buckets = {b.id: b for b in inventory.of_type("AWS::S3::Bucket")}
    for trail in inventory.of_type(_TRAIL):
        bucket = buckets.get(str(trail.configuration.get("S3BucketName")))
        if bucket is not None:
            yield trail, bucket


def _blocks(inventory: Inventory, bucket: InventoryResource, flag: str) -> bool:
    own = bucket.configuration.get("PublicAccessBlock") or {}
    account = inventory.fact("global", "s3.account_public_access_block") or {}
    return bool(own.get(flag)) or bool(account.get(flag))


def public_reasons(inventory: Inventory, bucket: InventoryResource) -> list[str]:
    """Why anyone on the internet can read the bucket (empty when nobody can)."""
    reasons = []
    grants = (bucket.configuration.get("Acl") or {}).get("Grants") or []
    if not _blocks(inventory, bucket, "IgnorePublicAcls") and any(
        (g.get("Grantee") or {}).get("URI") in _ALL_USERS for g in grants if isinstance(g, dict)
    ):
        reasons.append("its ACL grants access to all users")
    policy = bucket.configuration.get("Policy")
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not _blocks(inventory, bucket, "RestrictPublicBuckets"):
        for statement in statements or []:
            principal = statement.get("Principal") if isinstance(statement, dict) else None
            public = principal == "*" or (
                isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"])
            )
            if public and statement.get("Effect") == "Allow" and not statement.get("Condition"):
                reasons.append("its policy allows everyone")
                break
    return reasons


@account_rule(
    id="AWS-TRAIL-004",
    controls=("fsbp CloudTrail.6", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    needs=(_TRAIL, "AWS::S3::Bucket", "s3.account_public_access_block"),
    title="CloudTrail bucket is publicly accessible",
    severity="critical",
    description=(
        "The bucket that receives the trail's logs holds a record of every API call in the "
        "account: who did what, from which address, with which keys. Readable by anyone, it "
        "maps the account for an attacker; unless public access is blocked, an ACL or policy "
        "granting everyone makes it so."
    ),
    remediation=(
        "Remove the public grant or statement and turn on Block Public Access for the bucket "
        "(and the account)."
    ),
    references=(f"{FSBP}/cloudtrail-controls.html#cloudtrail-6",),
)
def trail_bucket_public(inventory: Inventory) -> Iterator[Hit]:
    for trail, bucket in _trail_buckets(inventory):
        if "Acl" not in bucket.configuration or "Policy" not in bucket.configuration:
            continue  # not read: AWS-ACCESS-001 says so
        reasons = public_reasons(inventory, bucket)
        if reasons:
            yield Hit(
                f"bucket {bucket.id} of trail {trail.id} is public: {' and '.join(reasons)}",
                resource=bucket.arn,
            )


@account_rule(
    id="AWS-TRAIL-005",
    controls=(
        "cis-aws-3.0 3.4",
        "fsbp CloudTrail.7",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    needs=(_TRAIL, "AWS::S3::Bucket"),
    title="CloudTrail bucket without access logging",
    severity="medium",
    description=(
        "Access logs of the trail's bucket show who read or deleted the audit trail itself; "
        "without them, tampering with the logs leaves no trace of its own."
    ),
    remediation="Turn on server access logging for the trail's bucket, into another bucket.",
    references=(f"{FSBP}/cloudtrail-controls.html#cloudtrail-7", CIS),
)
def trail_bucket_unlogged(inventory: Inventory) -> Iterator[Hit]:
    for trail, bucket in _trail_buckets(inventory):
        if "Logging" in bucket.configuration and not bucket.configuration["Logging"]:
            yield Hit(
                f"bucket {bucket.id} of trail {trail.id} has no server access logging",
                resource=bucket.arn,
            )


def _recording(recorders: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in recorders or []
        if isinstance(r, dict) and (r.get("Status") or {}).get("recording")
    ]


@account_rule(
    id="AWS-CONFIG-001",
    controls=("cis-aws-3.0 3.3", "fsbp Config.1", "nist-800-53-r5 CM-8"),
    needs=("config.recorders",),
    title="AWS Config not recording in the region",
    severity="medium",
    description=(
        "AWS Config keeps the history of every resource's configuration: what changed, when, "
        "and what it looked like before. In a region where no recorder is recording, a "
        "changed security group or a deleted bucket policy leaves no history to investigate."
    ),
    remediation=(
        "Create a configuration recorder and delivery channel in each region and start it "
        "(`aws configservice start-configuration-recorder`)."
    ),
    references=(f"{FSBP}/config-controls.html#config-1", _CONFIG_DOC, CIS),
)
def config_not_recording(inventory: Inventory) -> Iterator[Hit]:
    for region, recorders in in_regions(inventory, "config.recorders"):
        if not _recording(recorders):
            state = "is not recording" if recorders else "does not exist"
            yield Hit(
                f"the configuration recorder of {region} {state}",
                resource=where(inventory, region),
            )


@account_rule(
    id="AWS-CONFIG-002",
    controls=("fsbp Config.1", "nist-800-53-r5 CM-8"),
    needs=("config.recorders",),
    title="AWS Config records only some resource types",
    severity="low",
    description=(
        "A recorder limited to a list of resource types misses the others, including types "
        "added later; the history then has gaps exactly where nobody looked."
    ),
    remediation=(
        "Set the recorder's recording group to all supported resource types "
        "(`allSupported: true`), with global resource types in one region."
    ),
    references=(f"{FSBP}/config-controls.html#config-1", _CONFIG_DOC),
)
def config_partial(inventory: Inventory) -> Iterator[Hit]:
    for region, recorders in in_regions(inventory, "config.recorders"):
        for recorder in _recording(recorders):
            group = recorder.get("recordingGroup") or {}
            if not group.get("allSupported", True):
                yield Hit(
                    f"recorder {recorder.get('name')} in {region} records only listed types",
                    resource=where(inventory, region),
                )
