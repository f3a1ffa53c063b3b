"""ElastiCache, Neptune, DocumentDB, DAX, DMS and Redshift rules: encryption, exposure, logs."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, UNRESOLVED, Resource, Template
from rules.cloudformation._helpers import (
    MISSING,
    as_list,
    customer_key,
    describe,
    disabled,
    each,
    enabled,
    group_parameter,
    none_of,
    one_of,
    truthy,
)

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_REPLICATION_GROUP = "AWS::ElastiCache::ReplicationGroup"
_NEPTUNE = "AWS::Neptune::DBCluster"
_DOCDB = "AWS::DocDB::DBCluster"
_REDSHIFT = "AWS::Redshift::Cluster"


def exports_log(tpl: Template, res: Resource, *logs: str, prop: str) -> Hit | None:
    """A hit unless the list at `prop` (log types sent to CloudWatch Logs) holds every one of
    `logs` in every case the template allows."""
    wanted = ", ".join(logs)
    value = res.prop(prop, default=MISSING)
    if value is MISSING or value is None:
        return Hit(
            f"{prop} is not set, so no {wanted} log is kept", res.properties_line, res.logical_id
        )
    line = res.prop_line(prop)
    for variant in tpl.possible_values(value):
        if variant is UNRESOLVED:
            return Hit(
                f"{prop} comes from {describe(value)}, which cannot be resolved from the "
                f"template: make sure it includes {wanted}",
                line,
                res.logical_id,
            )
        names = {
            str(v).strip().lower()
            for item in as_list(None if variant is NO_VALUE else variant)
            for v in tpl.possible_values(item)
        }
        missing = [log for log in logs if log not in names]
        if missing:
            return Hit(f"{prop} does not include {', '.join(missing)}", line, res.logical_id)
    return None


# -- ElastiCache ------------------------------------------------------------------------------


@rule(
    id="CF-ELC-001",
    controls=("fsbp ElastiCache.4", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="ElastiCache replication group not encrypted at rest",
    severity="medium",
    resource_types=("AWS::ElastiCache::ReplicationGroup",),
    description=(
        "Without AtRestEncryptionEnabled (false by default, and fixed at creation), a Redis or "
        "Valkey replication group writes its snapshots, swap and backups exported to S3 in "
        "clear. Caches routinely hold session tokens, personal data and query results. "
        "Relates to AWS FSBP ElastiCache.4."
    ),
    remediation=(
        "```yaml\nSessionCache:\n  Type: AWS::ElastiCache::ReplicationGroup\n  Properties:\n"
        "    AtRestEncryptionEnabled: true\n    KmsKeyId: !Ref CacheKey   # optional\n```"
    ),
    references=(
        f"{_HUB}/elasticache-controls.html#elasticache-4",
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/at-rest-encryption.html",
    ),
)
def cache_not_encrypted_at_rest(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _REPLICATION_GROUP, enabled, "AtRestEncryptionEnabled", what="encryption")


@rule(
    id="CF-ELC-002",
    controls=("fsbp ElastiCache.5", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="ElastiCache replication group not encrypted in transit",
    severity="medium",
    resource_types=("AWS::ElastiCache::ReplicationGroup",),
    description=(
        "Without TransitEncryptionEnabled, clients talk to the cache in plain TCP: anyone on "
        "the network path can read cached data and the AUTH token, and inject commands. "
        "In-transit encryption is also required for Redis AUTH and RBAC users. "
        "Relates to AWS FSBP ElastiCache.5."
    ),
    remediation=(
        "```yaml\nSessionCache:\n  Type: AWS::ElastiCache::ReplicationGroup\n  Properties:\n"
        "    TransitEncryptionEnabled: true\n    TransitEncryptionMode: required\n```"
    ),
    references=(
        f"{_HUB}/elasticache-controls.html#elasticache-5",
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/in-transit-encryption.html",
    ),
)
def cache_not_encrypted_in_transit(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_REPLICATION_GROUP):
        hit = enabled(tpl, res, "TransitEncryptionEnabled", what="encryption in transit")
        if hit is None:
            hit = _preferred_mode(tpl, res)
        if hit:
            yield hit


def _preferred_mode(tpl: Template, res: Resource) -> Hit | None:
    values = tpl.possible_values(res.prop("TransitEncryptionMode"))
    if any(isinstance(v, str) and v.lower() == "preferred" for v in values):
        return Hit(
            "TransitEncryptionMode can be preferred, so clients may still connect unencrypted",
            res.prop_line("TransitEncryptionMode"),
            res.logical_id,
        )
    return None


# -- Neptune and DocumentDB ---------------------------------------------------------------------


@rule(
    id="CF-NEPTUNE-001",
    controls=("fsbp Neptune.1", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="Neptune cluster storage not encrypted",
    severity="medium",
    resource_types=("AWS::Neptune::DBCluster",),
    description=(
        "A Neptune cluster encrypts its storage, automated backups, snapshots and replicas "
        "only when StorageEncrypted is true at creation (the default is false). An "
        "unencrypted graph database cannot be encrypted later without a dump and reload. "
        "Relates to AWS FSBP Neptune.1."
    ),
    remediation=(
        "```yaml\nGraphCluster:\n  Type: AWS::Neptune::DBCluster\n  Properties:\n"
        "    StorageEncrypted: true\n    KmsKeyId: !Ref GraphKey\n```"
    ),
    references=(
        f"{_HUB}/neptune-controls.html#neptune-1",
        "https://docs.aws.amazon.com/neptune/latest/userguide/encrypt.html",
    ),
)
def neptune_not_encrypted(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _NEPTUNE, enabled, "StorageEncrypted", what="encryption at rest")


@rule(
    id="CF-NEPTUNE-002",
    controls=("fsbp Neptune.7",),
    artifact_type="cloudformation",
    title="Neptune IAM database authentication disabled",
    severity="medium",
    resource_types=("AWS::Neptune::DBCluster",),
    description=(
        "Without IamAuthEnabled, anyone who can reach the cluster endpoint on the network can "
        "query and modify the graph: Neptune has no passwords, so IAM authentication "
        "(requests signed with SigV4) is its only access control beyond security groups. "
        "Relates to AWS FSBP Neptune.7."
    ),
    remediation=(
        "```yaml\nGraphCluster:\n  Type: AWS::Neptune::DBCluster\n  Properties:\n"
        "    IamAuthEnabled: true\n```\nthen grant `neptune-db:*` actions to the clients' roles."
    ),
    references=(
        f"{_HUB}/neptune-controls.html#neptune-7",
        "https://docs.aws.amazon.com/neptune/latest/userguide/iam-auth.html",
    ),
)
def neptune_without_iam_auth(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _NEPTUNE, enabled, "IamAuthEnabled", what="IAM database authentication")


@rule(
    id="CF-NEPTUNE-003",
    controls=(
        "fsbp Neptune.2",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="Neptune audit logs not exported to CloudWatch Logs",
    severity="medium",
    resource_types=("AWS::Neptune::DBCluster",),
    description=(
        "Neptune writes audit logs (who ran which query, from where) only to the cluster, "
        "where they rotate away, unless EnableCloudwatchLogsExports includes audit. Without "
        "them, a data access incident on the graph cannot be investigated. The cluster "
        "parameter neptune_enable_audit_log must also be 1. Relates to AWS FSBP Neptune.2."
    ),
    remediation=(
        "```yaml\nGraphCluster:\n  Type: AWS::Neptune::DBCluster\n  Properties:\n"
        "    EnableCloudwatchLogsExports: [audit]\n```"
    ),
    references=(
        f"{_HUB}/neptune-controls.html#neptune-2",
        "https://docs.aws.amazon.com/neptune/latest/userguide/cloudwatch-logs.html",
    ),
)
def neptune_without_audit_logs(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _NEPTUNE, exports_log, "audit", prop="EnableCloudwatchLogsExports")


@rule(
    id="CF-DOCDB-001",
    controls=("fsbp DocumentDB.1", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="DocumentDB cluster storage not encrypted",
    severity="medium",
    resource_types=("AWS::DocDB::DBCluster",),
    description=(
        "A DocumentDB cluster encrypts its storage, backups and snapshots only when "
        "StorageEncrypted is true at creation (the default is false); an existing cluster "
        "cannot be encrypted in place. Relates to AWS FSBP DocumentDB.1."
    ),
    remediation=(
        "```yaml\nDocumentsCluster:\n  Type: AWS::DocDB::DBCluster\n  Properties:\n"
        "    StorageEncrypted: true\n    KmsKeyId: !Ref DocumentsKey\n```"
    ),
    references=(
        f"{_HUB}/documentdb-controls.html#documentdb-1",
        "https://docs.aws.amazon.com/documentdb/latest/developerguide/encryption-at-rest.html",
    ),
)
def docdb_not_encrypted(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _DOCDB, enabled, "StorageEncrypted", what="encryption at rest")


@rule(
    id="CF-DOCDB-002",
    controls=(
        "fsbp DocumentDB.4",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="DocumentDB audit logs not exported to CloudWatch Logs",
    severity="medium",
    resource_types=("AWS::DocDB::DBCluster",),
    description=(
        "DocumentDB records authentication, authorization and DDL events in its audit log, "
        "which leaves the cluster only when EnableCloudwatchLogsExports includes audit (the "
        "cluster parameter audit_logs must be enabled too). Without it, who read or dropped a "
        "collection cannot be found out. Relates to AWS FSBP DocumentDB.4."
    ),
    remediation=(
        "```yaml\nDocumentsCluster:\n  Type: AWS::DocDB::DBCluster\n  Properties:\n"
        "    EnableCloudwatchLogsExports: [audit, profiler]\n```"
    ),
    references=(
        f"{_HUB}/documentdb-controls.html#documentdb-4",
        "https://docs.aws.amazon.com/documentdb/latest/developerguide/event-auditing.html",
    ),
)
def docdb_without_audit_logs(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _DOCDB, exports_log, "audit", prop="EnableCloudwatchLogsExports")


# -- DAX and DMS ----------------------------------------------------------------------------------


@rule(
    id="CF-DAX-001",
    controls=("fsbp DynamoDB.3", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="DAX cluster not encrypted at rest",
    severity="medium",
    resource_types=("AWS::DAX::Cluster",),
    description=(
        "A DynamoDB Accelerator cluster caches table items on its nodes' disks; they are "
        "encrypted only when SSESpecification.SSEEnabled is true, which can only be chosen at "
        "creation. An encrypted table behind an unencrypted DAX cluster loses that protection "
        "for everything cached."
    ),
    remediation=(
        "```yaml\nItemsCache:\n  Type: AWS::DAX::Cluster\n  Properties:\n"
        "    SSESpecification:\n      SSEEnabled: true\n"
        "    ClusterEndpointEncryptionType: TLS\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DAXEncryptionAtRest.html",
        f"{_HUB}/dynamodb-controls.html#dynamodb-3",
    ),
)
def dax_not_encrypted(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl, "AWS::DAX::Cluster", enabled, "SSESpecification", "SSEEnabled", what="encryption"
    )


@rule(
    id="CF-DMS-001",
    controls=("fsbp DMS.1", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="DMS replication instance publicly accessible",
    severity="critical",
    resource_types=("AWS::DMS::ReplicationInstance",),
    description=(
        "A DMS replication instance is publicly accessible unless PubliclyAccessible is "
        "false: it gets a public IP address, and it holds credentials to, and a live copy of, "
        "the source and target databases. Relates to AWS FSBP DMS.1."
    ),
    remediation=(
        "```yaml\nMigrationInstance:\n  Type: AWS::DMS::ReplicationInstance\n  Properties:\n"
        "    PubliclyAccessible: false\n"
        "    ReplicationSubnetGroupIdentifier: !Ref PrivateSubnets\n```"
    ),
    references=(
        f"{_HUB}/dms-controls.html#dms-1",
        "https://docs.aws.amazon.com/dms/latest/userguide/CHAP_ReplicationInstance.PublicPrivate.html",
    ),
)
def dms_instance_public(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::DMS::ReplicationInstance"):
        value = res.prop("PubliclyAccessible", default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "PubliclyAccessible is not set, and DMS makes the instance public by default",
                res.prop_line("PubliclyAccessible"),
                res.logical_id,
            )
        else:
            hit = disabled(tpl, res, "PubliclyAccessible", what="the instance gets a public IP")
            if hit:
                yield hit


# -- Redshift ----------------------------------------------------------------------------------


@rule(
    id="CF-RS-001",
    controls=("fsbp Redshift.10", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="Redshift cluster encryption turned off",
    severity="medium",
    resource_types=("AWS::Redshift::Cluster",),
    description=(
        "Encrypted: false creates a Redshift cluster whose data blocks, system metadata and "
        "snapshots are stored in clear. New clusters are encrypted by default since January "
        "2025, so only an explicit false (or a value that may be false) is reported. "
        "Relates to AWS FSBP Redshift.10."
    ),
    remediation=(
        "```yaml\nWarehouse:\n  Type: AWS::Redshift::Cluster\n  Properties:\n"
        "    Encrypted: true\n    KmsKeyId: !Ref WarehouseKey\n```"
    ),
    references=(
        f"{_HUB}/redshift-controls.html#redshift-10",
        "https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-db-encryption.html",
    ),
)
def redshift_not_encrypted(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _REDSHIFT, enabled, "Encrypted", what="encryption", default=True)


@rule(
    id="CF-RS-002",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="Redshift cluster not encrypted with a customer managed key",
    severity="low",
    resource_types=("AWS::Redshift::Cluster",),
    description=(
        "Without KmsKeyId, a Redshift cluster is encrypted with a key AWS owns or manages, "
        "whose policy cannot be changed: the warehouse's data cannot be protected by key "
        "permissions, key use is not visible per caller, and the key cannot be revoked."
    ),
    remediation=(
        "```yaml\nWarehouse:\n  Type: AWS::Redshift::Cluster\n  Properties:\n"
        "    Encrypted: true\n    KmsKeyId: !GetAtt WarehouseKey.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/redshift/latest/mgmt/working-with-db-encryption.html",
        "https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#customer-cmk",
    ),
)
def redshift_without_cmk(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_REDSHIFT):
        if enabled(tpl, res, "Encrypted", what="encryption", default=True) is None:
            hit = customer_key(tpl, res, "KmsKeyId", what="no customer managed key is used")
            if hit:
                yield hit


@rule(
    id="CF-RS-003",
    controls=("fsbp Redshift.1", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="Redshift cluster publicly accessible",
    severity="high",
    resource_types=("AWS::Redshift::Cluster",),
    description=(
        "PubliclyAccessible: true gives the cluster a public IP address and DNS name that "
        "resolves to it, so its port is reachable from the internet wherever the security "
        "group lets it be: data warehouses are a prime target for credential stuffing. "
        "Relates to AWS FSBP Redshift.1."
    ),
    remediation=(
        "```yaml\nWarehouse:\n  Type: AWS::Redshift::Cluster\n  Properties:\n"
        "    PubliclyAccessible: false\n    ClusterSubnetGroupName: !Ref PrivateSubnets\n```"
    ),
    references=(
        f"{_HUB}/redshift-controls.html#redshift-1",
        "https://docs.aws.amazon.com/redshift/latest/mgmt/managing-clusters-vpc.html",
    ),
)
def redshift_public(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl, _REDSHIFT, disabled, "PubliclyAccessible", what="the cluster is reachable publicly"
    )


@rule(
    id="CF-RS-004",
    controls=(
        "fsbp Redshift.4",
        "nist-800-53-r5 AU-2",
        "nist-800-53-r5 AU-12",
        "pci-dss-4.0 10.2.1",
    ),
    artifact_type="cloudformation",
    title="Redshift audit logging disabled",
    severity="medium",
    resource_types=("AWS::Redshift::Cluster",),
    description=(
        "Redshift writes connection, user and user-activity logs only when LoggingProperties "
        "names an S3 bucket or CloudWatch Logs as the destination. Without them, logins and "
        "queries against the warehouse leave no trace. Relates to AWS FSBP Redshift.4."
    ),
    remediation=(
        "```yaml\nWarehouse:\n  Type: AWS::Redshift::Cluster\n  Properties:\n"
        "    LoggingProperties:\n      LogDestinationType: cloudwatch\n"
        "      LogExports: [connectionlog, userlog, useractivitylog]\n```"
    ),
    references=(
        f"{_HUB}/redshift-controls.html#redshift-4",
        "https://docs.aws.amazon.com/redshift/latest/mgmt/db-auditing.html",
    ),
)
def redshift_without_logging(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_REDSHIFT):
        logging = res.prop("LoggingProperties", default=MISSING)
        if not isinstance(logging, dict):
            yield Hit(
                "LoggingProperties is not set, so audit logging is off",
                res.prop_line("LoggingProperties"),
                res.logical_id,
            )
            continue
        destination = tpl.possible_values(logging.get("LogDestinationType"))
        cloudwatch = any(isinstance(v, str) and v.lower() == "cloudwatch" for v in destination)
        bucket = tpl.possible_values(logging.get("BucketName"))
        if not cloudwatch and any(v in (None, "", NO_VALUE) for v in bucket):
            yield Hit(
                "LoggingProperties names no bucket and no CloudWatch destination",
                res.prop_line("LoggingProperties"),
                res.logical_id,
            )


@rule(
    id="CF-RS-005",
    controls=("fsbp Redshift.2", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="Redshift parameter group does not require SSL",
    severity="medium",
    resource_types=("AWS::Redshift::ClusterParameterGroup",),
    description=(
        "A cluster parameter group with require_ssl set to false lets clients connect "
        "without TLS, so credentials and query results cross the network in clear. Only "
        "an explicit false is reported: the default parameter group requires SSL since "
        "January 2025. Relates to AWS FSBP Redshift.2."
    ),
    remediation=(
        "```yaml\nWarehouseParameters:\n  Type: AWS::Redshift::ClusterParameterGroup\n"
        "  Properties:\n    ParameterGroupFamily: redshift-1.0\n    Parameters:\n"
        '      - ParameterName: require_ssl\n        ParameterValue: "true"\n```'
    ),
    references=(
        f"{_HUB}/redshift-controls.html#redshift-2",
        "https://docs.aws.amazon.com/redshift/latest/mgmt/connecting-ssl-support.html",
    ),
)
def redshift_ssl_not_required(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Redshift::ClusterParameterGroup"):
        values, line = group_parameter(tpl, res, "require_ssl")
        if any(truthy(v) is False for v in values):
            yield Hit(
                "require_ssl can be false, so clients may connect without TLS",
                line,
                res.logical_id,
            )


# -- in transit, availability and backups ---------------------------------------------------


@rule(
    id="CF-DOCDB-004",
    controls=("nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="DocumentDB cluster parameter group disables TLS",
    severity="medium",
    resource_types=("AWS::DocDB::DBClusterParameterGroup",),
    description=(
        "A DocumentDB cluster parameter group with `tls: disabled` lets clients of every "
        "cluster using it connect without TLS: the MongoDB wire protocol then carries "
        "credentials and documents in clear. TLS is on by default; only switching it off is "
        "reported."
    ),
    remediation=(
        "```yaml\nDocumentsParameters:\n  Type: AWS::DocDB::DBClusterParameterGroup\n"
        "  Properties:\n    Family: docdb5.0\n    Description: TLS required\n"
        "    Parameters:\n      tls: enabled   # or fips-140-3 / tls1.2+ / tls1.3+\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/documentdb/latest/developerguide/security.encryption.ssl.html",
        f"{_HUB}/documentdb-controls.html",
    ),
)
def docdb_tls_disabled(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::DocDB::DBClusterParameterGroup"):
        values, line = group_parameter(tpl, res, "tls")
        if any(isinstance(v, str) and v.strip().lower() == "disabled" for v in values):
            yield Hit("tls is disabled, so clients may connect without TLS", line, res.logical_id)


_MEMORYDB = "AWS::MemoryDB::Cluster"


@rule(
    id="CF-MEMDB-001",
    controls=("nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="MemoryDB cluster without TLS",
    severity="medium",
    resource_types=("AWS::MemoryDB::Cluster",),
    description=(
        "TLSEnabled: false makes a MemoryDB cluster accept plain-text connections: AUTH "
        "passwords and every key and value cross the network in clear, readable by anything "
        "that can watch the subnet's traffic. TLS is on unless switched off."
    ),
    remediation=(
        "```yaml\nSessionStore:\n  Type: AWS::MemoryDB::Cluster\n  Properties:\n"
        "    TLSEnabled: true\n    ACLName: !Ref AppAcl\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/memorydb/latest/devguide/in-transit-encryption.html",
        f"{_HUB}/memorydb-controls.html",
    ),
)
def memorydb_without_tls(tpl: Template) -> Iterator[Hit]:
    return each(tpl, _MEMORYDB, enabled, "TLSEnabled", what="encryption in transit", default=True)


@rule(
    id="CF-MEMDB-002",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="MemoryDB cluster accepts unauthenticated clients",
    severity="high",
    resource_types=("AWS::MemoryDB::Cluster",),
    description=(
        "ACLName: open-access attaches the default access control list, under which every "
        "client that reaches the cluster's endpoint may run any command on any key without "
        "a user name or password. An ACL of your own with named users and access strings "
        "limits each application to its keys and commands."
    ),
    remediation=(
        "```yaml\nAppUser:\n  Type: AWS::MemoryDB::User\n  Properties:\n    UserName: app\n"
        "    AccessString: on ~app:* +@read +@write\n"
        "    AuthenticationMode: {Type: iam}\nAppAcl:\n  Type: AWS::MemoryDB::ACL\n"
        "  Properties:\n    ACLName: app\n    UserNames: [!Ref AppUser]\n"
        "SessionStore:\n  Type: AWS::MemoryDB::Cluster\n  Properties:\n"
        "    ACLName: !Ref AppAcl\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/memorydb/latest/devguide/clusters.acls.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-memorydb-cluster.html",
    ),
)
def memorydb_open_access(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        _MEMORYDB,
        none_of,
        "ACLName",
        bad=("open-access",),
        what="any client may run any command",
    )


@rule(
    id="CF-ELC-004",
    controls=("fsbp ElastiCache.3",),
    artifact_type="cloudformation",
    title="ElastiCache cluster confined to one Availability Zone",
    severity="low",
    resource_types=("AWS::ElastiCache::CacheCluster", "AWS::ElastiCache::ReplicationGroup"),
    description=(
        "A Memcached cluster of several nodes with the default AZMode single-az, or a Redis "
        "OSS / Valkey replication group with replicas but without automatic failover, loses "
        "its cache (or stops taking writes until someone promotes a replica) when that "
        "zone or the primary fails. Relates to AWS FSBP ElastiCache.3."
    ),
    remediation=(
        "```yaml\nSessionCache:\n  Type: AWS::ElastiCache::CacheCluster\n  Properties:\n"
        "    Engine: memcached\n    NumCacheNodes: 3\n    AZMode: cross-az\n```\nor, for a "
        "replication group, `AutomaticFailoverEnabled: true` and `MultiAZEnabled: true`."
    ),
    references=(
        f"{_HUB}/elasticache-controls.html#elasticache-3",
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html",
    ),
)
def cache_single_az(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::ElastiCache::CacheCluster"):
        engines = tpl.possible_values(res.prop("Engine"))
        nodes = tpl.possible_values(res.prop("NumCacheNodes", default=1))
        if not any(isinstance(e, str) and e.lower() == "memcached" for e in engines):
            continue
        if not any(_count(n) > 1 for n in nodes):
            continue
        hit = one_of(
            tpl,
            res,
            "AZMode",
            good=("cross-az",),
            what="all nodes sit in one Availability Zone",
        )
        if hit:
            yield hit
    for res in tpl.of_type(_REPLICATION_GROUP):
        total = tpl.possible_values(res.prop("NumCacheClusters", default=1))
        replicas = tpl.possible_values(res.prop("ReplicasPerNodeGroup", default=0))
        if not any(_count(n) > 1 for n in total) and not any(_count(r) > 0 for r in replicas):
            continue  # a single node has nothing to fail over to
        hit = enabled(tpl, res, "AutomaticFailoverEnabled", what="automatic failover to a replica")
        if hit:
            yield hit


def _count(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


@rule(
    id="CF-ELC-005",
    controls=("fsbp ElastiCache.1", "nist-800-53-r5 CP-9"),
    artifact_type="cloudformation",
    title="ElastiCache Redis OSS without automatic backups",
    severity="medium",
    resource_types=("AWS::ElastiCache::CacheCluster", "AWS::ElastiCache::ReplicationGroup"),
    description=(
        "SnapshotRetentionLimit 0 (the default) keeps no daily snapshot of a Redis OSS or "
        "Valkey cluster: data lost to an operator error, a bad deployment or a ransomware "
        "FLUSHALL cannot be restored. Relates to AWS FSBP ElastiCache.1."
    ),
    remediation=(
        "```yaml\nSessionStore:\n  Type: AWS::ElastiCache::ReplicationGroup\n  Properties:\n"
        "    SnapshotRetentionLimit: 7\n    SnapshotWindow: 03:00-04:00\n```"
    ),
    references=(
        f"{_HUB}/elasticache-controls.html#elasticache-1",
        "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html",
    ),
)
def cache_without_backups(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_REPLICATION_GROUP, "AWS::ElastiCache::CacheCluster"):
        engines = tpl.possible_values(res.prop("Engine", default="redis"))
        if not any(isinstance(e, str) and e.lower() in ("redis", "valkey") for e in engines):
            continue
        if res.type == _REPLICATION_GROUP and res.prop("GlobalReplicationGroupId") is not None:
            continue  # a secondary of a global datastore takes no snapshots of its own
        value = res.prop("SnapshotRetentionLimit", default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "SnapshotRetentionLimit is not set, so no automatic backup is kept",
                res.properties_line,
                res.logical_id,
            )
        elif any(_count(v) == 0 and v is not UNRESOLVED for v in tpl.possible_values(value)):
            yield Hit(
                "SnapshotRetentionLimit can be 0, so no automatic backup is kept",
                res.prop_line("SnapshotRetentionLimit"),
                res.logical_id,
            )


# DMS engines that talk to a database over the network, where SslMode applies
_DMS_SSL_ENGINES = frozenset(
    {
        "mysql",
        "mariadb",
        "aurora",
        "aurora-postgresql",
        "aurora-serverless",
        "postgres",
        "oracle",
        "sqlserver",
        "babelfish",
        "sybase",
        "db2",
        "db2-zos",
        "mongodb",
        "docdb",
        "redshift",
        "redshift-serverless",
    }
)


@rule(
    id="CF-DMS-003",
    controls=("fsbp DMS.9", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="cloudformation",
    title="DMS endpoint connects without TLS",
    severity="medium",
    resource_types=("AWS::DMS::Endpoint",),
    description=(
        "SslMode none (the default) makes a DMS endpoint talk to its source or target "
        "database in clear: the database password and every migrated row cross the network "
        "unencrypted, often between accounts or from on premises. Endpoints of services "
        "reached over HTTPS (S3, DynamoDB, Kinesis...) are not checked. Relates to AWS FSBP "
        "DMS.9."
    ),
    remediation=(
        "```yaml\nSourceEndpoint:\n  Type: AWS::DMS::Endpoint\n  Properties:\n"
        "    EngineName: postgres\n    SslMode: verify-full\n"
        "    CertificateArn: !Ref RdsCaCertificate\n```"
    ),
    references=(
        f"{_HUB}/dms-controls.html#dms-9",
        "https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Security.SSL.html",
    ),
)
def dms_endpoint_without_tls(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::DMS::Endpoint"):
        engines = tpl.possible_values(res.prop("EngineName"))
        if not any(isinstance(e, str) and e.lower() in _DMS_SSL_ENGINES for e in engines):
            continue
        hit = one_of(
            tpl,
            res,
            "SslMode",
            good=("require", "verify-ca", "verify-full"),
            what="the endpoint connects without TLS",
        )
        if hit:
            yield hit
