"""RDS rules."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Resource, Template
from rules.cloudformation._helpers import MISSING, describe, is_true, require_true

_INHERITED = (
    "DBClusterIdentifier",
    "SourceDBInstanceIdentifier",
    "DBSnapshotIdentifier",
    "SourceDBClusterIdentifier",
    "SnapshotIdentifier",
)


def _encryption_inherited(res: Resource) -> bool:
    """Cluster members, replicas and snapshot restores take their encryption from elsewhere."""
    if any(key in res.properties for key in _INHERITED):
        return True
    engine = res.prop("Engine")
    if res.type == "AWS::RDS::DBInstance" and isinstance(engine, str):
        return engine.lower().startswith("aurora")
    mode = res.prop("EngineMode")
    return res.type == "AWS::RDS::DBCluster" and mode == "serverless"  # always encrypted


@rule(
    id="CF-RDS-001",
    artifact_type="cloudformation",
    title="RDS storage not encrypted",
    severity="high",
    description=(
        "Database storage, its automated backups, read replicas and snapshots are stored in "
        "clear unless StorageEncrypted is true, and encryption cannot be switched on later "
        "without a snapshot-and-restore migration."
    ),
    remediation=(
        "```yaml\nStorageEncrypted: true\nKmsKeyId: !Ref DatabaseKey  # optional: your own key\n```"
    ),
    references=("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html",),
)
def storage_not_encrypted(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        if _encryption_inherited(res):
            continue
        hit = require_true(tpl, res, "StorageEncrypted", what="storage encryption")
        if hit:
            yield hit


@rule(
    id="CF-RDS-002",
    artifact_type="cloudformation",
    title="RDS instance publicly accessible",
    severity="high",
    description=(
        "A publicly accessible database instance gets a public DNS name and address: only "
        "its security group stands between the internet and the database login."
    ),
    remediation=(
        "Keep databases in private subnets: `PubliclyAccessible: false` and reach them "
        "from the application's VPC or through a bastion / SSM port forwarding."
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html",
    ),
)
def publicly_accessible(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::RDS::DBInstance"):
        value = res.prop("PubliclyAccessible", default=MISSING)
        if value is MISSING:
            continue
        public = is_true(tpl, value)
        line = res.prop_line("PubliclyAccessible")
        if public:
            yield Hit("PubliclyAccessible can be true", line=line, resource=res.logical_id)
        elif public is None:
            yield Hit(
                f"PubliclyAccessible comes from {describe(value)}, which cannot be resolved "
                "from the template: make sure it is false",
                line=line,
                resource=res.logical_id,
            )
