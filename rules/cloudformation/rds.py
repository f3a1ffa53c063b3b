"""RDS rules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, UNRESOLVED, Resource, Template
from rules.cloudformation._helpers import (
    MISSING,
    as_list,
    describe,
    group_parameter,
    is_true,
    is_world,
    item_line,
    param_unknown,
    require_set,
    require_true,
    truthy,
)

_INHERITED = (
    "DBClusterIdentifier",
    "SourceDBInstanceIdentifier",
    "DBSnapshotIdentifier",
    "SourceDBClusterIdentifier",
    "SnapshotIdentifier",
)
_CLUSTER_INHERITED = ("SourceDBClusterIdentifier", "SnapshotIdentifier")


def _encryption_inherited(res: Resource) -> bool:
    """Cluster members, replicas and snapshot restores take their encryption from elsewhere
    (a cluster's own DBClusterIdentifier is its name, not a cluster it belongs to)."""
    inherited = _INHERITED if res.type == "AWS::RDS::DBInstance" else _CLUSTER_INHERITED
    if any(key in res.properties for key in inherited):
        return True
    engine = res.prop("Engine")
    if res.type == "AWS::RDS::DBInstance" and isinstance(engine, str):
        return engine.lower().startswith("aurora")
    mode = res.prop("EngineMode")
    return res.type == "AWS::RDS::DBCluster" and mode == "serverless"  # always encrypted


@rule(
    id="CF-RDS-001",
    controls=("cis-aws-3.0 2.3.1", "fsbp RDS.3", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="RDS storage not encrypted",
    severity="medium",
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
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
    controls=("cis-aws-3.0 2.3.3", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="RDS instance publicly accessible",
    severity="high",
    resource_types=("AWS::RDS::DBInstance",),
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


_FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide/rds-controls.html"
_IAM_AUTH_ENGINES = ("mysql", "mariadb", "postgres", "aurora")
_DEFAULT_USERNAMES = frozenset(
    {"admin", "administrator", "root", "postgres", "sa", "master", "mysql", "user", "dbadmin"}
)


def _member(res: Resource) -> bool:
    """An instance whose settings are the cluster's (Aurora members, cluster instances)."""
    if res.type != "AWS::RDS::DBInstance":
        return False
    if "DBClusterIdentifier" in res.properties:
        return True
    engine = res.prop("Engine")
    return isinstance(engine, str) and engine.lower().startswith("aurora")


def _replica(res: Resource) -> bool:
    """A read replica (on a DB cluster, SourceDBClusterIdentifier is a restore source)."""
    return res.type == "AWS::RDS::DBInstance" and any(
        k in res.properties for k in ("SourceDBInstanceIdentifier", "SourceDBClusterIdentifier")
    )


def _databases(tpl: Template, *, replicas: bool = False) -> Iterator[Resource]:
    """Stand-alone DB instances and DB clusters (cluster members carry no own setting)."""
    for res in tpl.of_type("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        if _member(res) or (_replica(res) and not replicas):
            continue
        yield res


@rule(
    id="CF-RDS-003",
    controls=("fsbp RDS.11", "nist-800-53-r5 CP-9"),
    artifact_type="cloudformation",
    title="RDS backup retention too short",
    severity="medium",
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    description=(
        "Automated backups are kept BackupRetentionPeriod days (1 when not set, none at 0), "
        "which is also how far back point-in-time restore reaches: corruption or a bad "
        "migration noticed after a long weekend is then beyond recovery. Parameter "
        "`min_retention_days` (default 7) sets the shortest accepted period; cluster "
        "members and read replicas follow their cluster or source. Relates to AWS FSBP RDS.11."
    ),
    remediation="```yaml\nBackupRetentionPeriod: 14\nPreferredBackupWindow: '02:00-03:00'\n```",
    references=(
        f"{_FSBP}#rds-11",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",
    ),
    params={"min_retention_days": 7},
)
def backup_retention_short(tpl: Template, params: Mapping[str, Any]) -> Iterator[Hit]:
    try:
        minimum = int(params.get("min_retention_days", 7))
    except (TypeError, ValueError):
        minimum = 7
    for res in _databases(tpl):
        value = res.prop("BackupRetentionPeriod", default=MISSING)
        if value is MISSING or value is None:
            if minimum > 1:
                yield Hit(
                    "BackupRetentionPeriod is not set, so backups are kept 1 day",
                    line=res.properties_line,
                    resource=res.logical_id,
                )
            continue
        days: list[int] = []
        unknown = False
        for v in tpl.possible_values(value):
            try:
                days.append(1 if v is NO_VALUE else int(v))
            except (TypeError, ValueError):
                unknown = True
        line = res.prop_line("BackupRetentionPeriod")
        if days and min(days) < minimum:
            yield Hit(
                f"BackupRetentionPeriod can be {min(days)}, less than {minimum} days",
                line=line,
                resource=res.logical_id,
            )
        elif unknown:
            yield Hit(
                f"BackupRetentionPeriod comes from {describe(value)}, which cannot be resolved "
                f"from the template: make sure it is at least {minimum} days",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-RDS-004",
    controls=("fsbp RDS.7", "fsbp RDS.8"),
    artifact_type="cloudformation",
    title="RDS deletion protection disabled",
    severity="low",
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    description=(
        "Without DeletionProtection, a single DeleteDBInstance / DeleteDBCluster call (a "
        "mistaken stack deletion, a replaced resource, a compromised pipeline) removes the "
        "database; automated backups go with it unless a final snapshot is taken. Relates "
        "to AWS FSBP RDS.7 and RDS.8."
    ),
    remediation=(
        "```yaml\nOrdersDatabase:\n  Type: AWS::RDS::DBCluster\n  DeletionPolicy: Snapshot\n"
        "  UpdateReplacePolicy: Snapshot\n  Properties:\n    DeletionProtection: true\n```"
    ),
    references=(
        f"{_FSBP}#rds-7",
        f"{_FSBP}#rds-8",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html",
    ),
)
def deletion_protection_off(tpl: Template) -> Iterator[Hit]:
    for res in _databases(tpl, replicas=True):
        hit = require_true(tpl, res, "DeletionProtection", what="deletion protection")
        if hit:
            yield hit


def _engine_supports_iam(tpl: Template, res: Resource) -> bool:
    engine = res.prop("Engine", default=MISSING)
    if engine is MISSING:
        return res.type == "AWS::RDS::DBInstance" and "DBSnapshotIdentifier" in res.properties
    for value in tpl.possible_values(engine):
        if value is UNRESOLVED or (
            isinstance(value, str) and value.lower().startswith(_IAM_AUTH_ENGINES)
        ):
            return True
    return False


@rule(
    id="CF-RDS-005",
    controls=("fsbp RDS.10", "fsbp RDS.12"),
    artifact_type="cloudformation",
    title="RDS IAM database authentication disabled",
    severity="low",
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    description=(
        "With IAM database authentication, applications connect with short-lived tokens "
        "derived from their role instead of a long-lived password stored somewhere, and "
        "access is granted and revoked with IAM policies. Applies to MySQL, MariaDB, "
        "PostgreSQL and Aurora; cluster members follow their cluster. Relates to AWS FSBP "
        "RDS.10 and RDS.12."
    ),
    remediation="Set `EnableIAMDatabaseAuthentication: true` and grant `rds-db:connect`.",
    references=(
        f"{_FSBP}#rds-10",
        f"{_FSBP}#rds-12",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html",
    ),
)
def iam_auth_off(tpl: Template) -> Iterator[Hit]:
    for res in _databases(tpl):
        if not _engine_supports_iam(tpl, res) or res.prop("EngineMode") == "serverless":
            continue
        hit = require_true(
            tpl, res, "EnableIAMDatabaseAuthentication", what="IAM database authentication"
        )
        if hit:
            yield hit


@rule(
    id="CF-RDS-006",
    controls=("fsbp RDS.5",),
    artifact_type="cloudformation",
    title="RDS instance not Multi-AZ",
    severity="low",
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    description=(
        "A single-AZ database instance is down for the whole duration of an Availability "
        "Zone outage, a host failure or (for some changes) maintenance. Multi-AZ keeps a "
        "synchronous standby in another zone and fails over in a minute or two. Read "
        "replicas have a MultiAZ setting of their own and are checked too; Aurora cluster "
        "members are not reported (the cluster spreads them). Relates to AWS FSBP RDS.5."
    ),
    remediation="Set `MultiAZ: true` on production database instances.",
    references=(
        f"{_FSBP}#rds-5",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.html",
    ),
)
def single_az(tpl: Template) -> Iterator[Hit]:
    for res in _databases(tpl, replicas=True):
        if res.type != "AWS::RDS::DBInstance" or res.prop("Engine") == "sqlserver-ex":
            continue  # SQL Server Express cannot be Multi-AZ
        hit = require_true(tpl, res, "MultiAZ", what="Multi-AZ failover")
        if hit:
            yield hit


@rule(
    id="CF-RDS-007",
    controls=("cis-aws-3.0 2.3.2", "fsbp RDS.13", "nist-800-53-r5 SI-2", "pci-dss-4.0 6.3.3"),
    artifact_type="cloudformation",
    title="RDS automatic minor version upgrades disabled",
    severity="medium",
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    description=(
        "Minor engine versions carry the database vendor's security fixes. With "
        "AutoMinorVersionUpgrade false, nobody applies them unless someone remembers to, and "
        "the database keeps running versions with published vulnerabilities. Relates to AWS "
        "FSBP RDS.13."
    ),
    remediation=(
        "Remove `AutoMinorVersionUpgrade: false` (the default is true) and set a "
        "`PreferredMaintenanceWindow`."
    ),
    references=(
        f"{_FSBP}#rds-13",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html",
    ),
)
def minor_upgrades_off(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
        value = res.prop("AutoMinorVersionUpgrade", default=MISSING)
        if value is MISSING or value is None:
            continue
        values = tpl.possible_values(value)
        line = res.prop_line("AutoMinorVersionUpgrade")
        if any(truthy(v) is False for v in values):
            yield Hit("AutoMinorVersionUpgrade can be false", line=line, resource=res.logical_id)
        elif any(v is UNRESOLVED for v in values):
            yield Hit(
                f"AutoMinorVersionUpgrade comes from {describe(value)}, which cannot be "
                "resolved from the template: make sure it is true",
                line=line,
                resource=res.logical_id,
            )


def _managed_secret(value: Any) -> bool:
    """A dynamic reference (`{{resolve:...}}`), written literally or inside Fn::Sub / Fn::Join."""
    if isinstance(value, str):
        return "{{resolve:" in value
    if isinstance(value, dict):
        return any(_managed_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_managed_secret(v) for v in value)
    return False


@rule(
    id="CF-RDS-008",
    controls=("fsbp RDS.24", "fsbp RDS.25"),
    artifact_type="cloudformation",
    title="RDS master username is a well-known default",
    severity="low",
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    description=(
        "Usernames like admin, root, postgres or sa are the first ones every password-"
        "guessing tool tries: with them, an attacker who reaches the database needs only the "
        "password. A custom name (or one kept in Secrets Manager) removes half of the "
        "guesswork. A name from a parameter without a default is reported too. Relates to "
        "AWS FSBP RDS.24 and RDS.25."
    ),
    remediation=(
        "```yaml\nMasterUsername: '{{resolve:secretsmanager:orders-db-credentials:SecretString:"
        "username}}'\n```\nor a custom literal such as `orders_owner`."
    ),
    references=(
        f"{_FSBP}#rds-24",
        f"{_FSBP}#rds-25",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html",
    ),
)
def default_master_username(tpl: Template) -> Iterator[Hit]:
    for res in _databases(tpl):
        value = res.prop("MasterUsername", default=MISSING)
        if value is MISSING or value is None or _managed_secret(value):
            continue
        line = res.prop_line("MasterUsername")
        names = [
            v
            for v in tpl.possible_values(value)
            if isinstance(v, str) and v.strip().lower() in _DEFAULT_USERNAMES
        ]
        if names:
            yield Hit(f"MasterUsername can be {names[0]!r}", line=line, resource=res.logical_id)
        elif param_unknown(tpl, value, could_be="admin"):
            yield Hit(
                f"MasterUsername comes from {describe(value)}, which cannot be resolved from "
                "the template: make sure it is not a default name",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-RDS-009",
    controls=("fsbp RDS.16", "fsbp RDS.17"),
    artifact_type="cloudformation",
    title="RDS snapshots do not copy tags",
    severity="info",
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    description=(
        "Without CopyTagsToSnapshot, snapshots lose the database's tags: cost allocation, "
        "data classification and tag-based access policies no longer apply to copies of the "
        "same data. Relates to AWS FSBP RDS.16 and RDS.17."
    ),
    remediation="Set `CopyTagsToSnapshot: true`.",
    references=(
        f"{_FSBP}#rds-16",
        f"{_FSBP}#rds-17",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html",
    ),
)
def snapshots_without_tags(tpl: Template) -> Iterator[Hit]:
    for res in _databases(tpl):
        hit = require_true(tpl, res, "CopyTagsToSnapshot", what="tag copying to snapshots")
        if hit:
            yield hit


@rule(
    id="CF-RDS-010",
    controls=("fsbp RDS.9", "nist-800-53-r5 AU-2", "nist-800-53-r5 AU-12", "pci-dss-4.0 10.2.1"),
    artifact_type="cloudformation",
    title="RDS logs not exported to CloudWatch Logs",
    severity="low",
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    description=(
        "Database logs (errors, slow queries, audit, PostgreSQL connections) stay on the "
        "instance and rotate away unless EnableCloudwatchLogsExports publishes them; without "
        "them, failed logins and suspicious queries leave no lasting trace and cannot raise "
        "alarms. Cluster members follow their cluster. Relates to AWS FSBP RDS.9."
    ),
    remediation=(
        "```yaml\nEnableCloudwatchLogsExports: [postgresql, upgrade]   # MySQL: [audit, error, "
        "general, slowquery]\n```"
    ),
    references=(
        f"{_FSBP}#rds-9",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html",
    ),
)
def logs_not_exported(tpl: Template) -> Iterator[Hit]:
    for res in _databases(tpl):
        if res.type == "AWS::RDS::DBCluster" and res.prop("EngineMode") == "serverless":
            continue  # Aurora Serverless v1 publishes through its own settings
        hit = require_set(
            tpl, res, "EnableCloudwatchLogsExports", what="database logs are not published"
        )
        if hit:
            yield hit


# parameter that forces TLS, per engine family prefix; families whose default is TLS required
_TLS_PARAMETER = (
    ("aurora-postgresql", "rds.force_ssl"),
    ("aurora-mysql", "require_secure_transport"),
    ("postgres", "rds.force_ssl"),
    ("mysql", "require_secure_transport"),
    ("mariadb", "require_secure_transport"),
    ("sqlserver", "rds.force_ssl"),
)
_ON = frozenset({"1", "on", "true"})
_OFF = frozenset({"0", "off", "false"})


def _tls_by_default(family: str) -> bool:
    """PostgreSQL 15 and later require TLS unless told otherwise."""
    if not family.startswith("postgres"):
        return False
    try:
        return int(family[len("postgres") :].split(".")[0]) >= 15
    except ValueError:
        return False


@rule(
    id="CF-RDS-012",
    controls=("nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="RDS parameter group does not require TLS",
    severity="medium",
    resource_types=("AWS::RDS::DBClusterParameterGroup", "AWS::RDS::DBParameterGroup"),
    description=(
        "Unless a DB parameter group sets rds.force_ssl (PostgreSQL, SQL Server) or "
        "require_secure_transport (MySQL, MariaDB) to 1, databases using it accept "
        "plain-text connections: passwords and query results then cross the network in "
        "clear whenever a client does not ask for TLS. PostgreSQL 15 and later require TLS "
        "by default, so there only an explicit 0 is reported."
    ),
    remediation=(
        "```yaml\nOrdersParameters:\n  Type: AWS::RDS::DBParameterGroup\n  Properties:\n"
        "    Family: mysql8.0\n    Description: TLS only\n    Parameters:\n"
        "      require_secure_transport: '1'\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/PostgreSQL.Concepts.General.SSL.html",
    ),
)
def parameter_group_without_tls(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::RDS::DBParameterGroup", "AWS::RDS::DBClusterParameterGroup"):
        family = res.prop("Family")
        family = family.strip().lower() if isinstance(family, str) else ""
        name = next((p for prefix, p in _TLS_PARAMETER if family.startswith(prefix)), None)
        names = [name] if name else ["rds.force_ssl", "require_secure_transport"]
        found = [(n, *group_parameter(tpl, res, n)) for n in names]
        for parameter, values, line in found:
            if any(str(v).strip().lower() in _OFF for v in values if v is not UNRESOLVED):
                yield Hit(
                    f"{parameter} can be off, so clients may connect without TLS",
                    line,
                    res.logical_id,
                )
                break
        else:
            if name and not found[0][1] and not _tls_by_default(family):
                yield Hit(
                    f"{name} is not set, so {family} databases accept connections without TLS",
                    res.prop_line("Parameters"),
                    res.logical_id,
                )


@rule(
    id="CF-RDS-013",
    controls=("nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="RDS DB security group open to the internet",
    severity="high",
    resource_types=("AWS::RDS::DBSecurityGroup", "AWS::RDS::DBSecurityGroupIngress"),
    description=(
        "An ingress rule of a DB security group (AWS::RDS::DBSecurityGroup or "
        "DBSecurityGroupIngress, the EC2-Classic way of opening a database) with CIDRIP "
        "0.0.0.0/0 lets every address on the internet reach the database's port; only the "
        "database password stands in the way."
    ),
    remediation=(
        "Move the instance into a VPC and allow the port from the application's security "
        "group only:\n```yaml\nDatabase:\n  Type: AWS::RDS::DBInstance\n  Properties:\n"
        "    DBSubnetGroupName: !Ref PrivateSubnets\n"
        "    VPCSecurityGroups: [!Ref DatabaseSecurityGroup]\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-rds-dbsecuritygroup.html",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.RDSSecurityGroups.html",
    ),
)
def db_security_group_open(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::RDS::DBSecurityGroup", "AWS::RDS::DBSecurityGroupIngress"):
        if res.type == "AWS::RDS::DBSecurityGroupIngress":
            rules = [(res.properties, ("CIDRIP",))]
        else:
            rules = [
                (item, ("DBSecurityGroupIngress", index, "CIDRIP"))
                for index, item in enumerate(as_list(res.prop("DBSecurityGroupIngress")))
            ]
        for item, path in rules:
            if not isinstance(item, dict):
                continue
            cidrs = tpl.possible_values(item.get("CIDRIP"))
            if any(isinstance(c, str) and is_world(c) for c in cidrs):
                yield Hit(
                    f"CIDRIP {next(c for c in cidrs if isinstance(c, str) and is_world(c))} "
                    "lets the whole internet reach the database",
                    item_line(item, "CIDRIP") or res.prop_line(*path),
                    res.logical_id,
                )


@rule(
    id="CF-RDS-014",
    controls=("fsbp RDS.6",),
    artifact_type="cloudformation",
    title="RDS enhanced monitoring disabled",
    severity="low",
    resource_types=("AWS::RDS::DBInstance",),
    description=(
        "Without MonitoringInterval (or with 0), an instance reports only the hypervisor's "
        "CloudWatch metrics: the per-process CPU, memory and I/O of the database host that "
        "show a runaway query, a crypto-miner or a stuck backup are not collected. Enhanced "
        "monitoring also needs MonitoringRoleArn. Relates to AWS FSBP RDS.6."
    ),
    remediation=(
        "```yaml\nOrdersDatabase:\n  Type: AWS::RDS::DBInstance\n  Properties:\n"
        "    MonitoringInterval: 60\n    MonitoringRoleArn: !GetAtt RdsMonitoringRole.Arn\n```"
    ),
    references=(
        f"{_FSBP}#rds-6",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.html",
    ),
)
def enhanced_monitoring_off(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::RDS::DBInstance"):
        value = res.prop("MonitoringInterval", default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "MonitoringInterval is not set, so enhanced monitoring is off",
                res.properties_line,
                res.logical_id,
            )
        elif any(str(v).strip() == "0" for v in tpl.possible_values(value)):
            yield Hit(
                "MonitoringInterval can be 0, so enhanced monitoring is off",
                res.prop_line("MonitoringInterval"),
                res.logical_id,
            )
