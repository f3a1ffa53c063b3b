"""A large moto account for the posture benchmark: over a thousand resources across services,
each either insecure in one known way or hardened, so that detection can be compared resource
by resource.

`seed(session, scale)` creates the resources (calls in parallel, batched where the API allows,
e.g. one RunInstances for many instances) and returns the ground truth: for every resource its
type, its ARN, and whether it was seeded insecure (and how).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
WORLD = "0.0.0.0/0"

# how many of each kind at scale 1 (half insecure, half hardened)
COUNTS = {
    "security_group": 150,
    "instance": 100,
    "volume": 100,
    "snapshot": 60,
    "bucket": 120,
    "user": 100,
    "role": 80,
    "policy": 80,
    "key": 50,
    "queue": 60,
    "topic": 60,
    "table": 40,
    "function": 30,
    "log_group": 60,
    "secret": 40,
    "db": 10,
}


@dataclass(frozen=True)
class Seeded:
    """One seeded resource: its kind (the CloudFormation type), ARN, and the defect it has."""

    kind: str
    arn: str
    defect: str | None  # None: hardened

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "arn": self.arn, "defect": self.defect}


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _public(action: str, resource: str) -> str:
    return _doc({"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource})


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


def _parallel(pool: ThreadPoolExecutor, fn: Callable[[int], Seeded], n: int) -> list[Seeded]:
    return list(pool.map(fn, range(n)))


def _insecure(i: int) -> bool:
    return i % 2 == 0


class _Seeder:
    def __init__(self, session: Any, scale: float) -> None:
        self.session = session
        self.scale = scale
        self._clients: dict[str, Any] = {}
        for service in (
            "ec2", "s3", "iam", "kms", "sqs", "sns", "dynamodb", "lambda", "logs",
            "secretsmanager", "rds",
        ):  # fmt: skip
            self._clients[service] = session.client(service, region_name=REGION)

    def c(self, service: str) -> Any:
        return self._clients[service]

    def n(self, kind: str) -> int:
        return max(2, round(COUNTS[kind] * self.scale))

    # -- EC2 ------------------------------------------------------------------------------------

    def network(self) -> tuple[str, str]:
        ec2 = self.c("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.30.1.0/24", AvailabilityZone="us-east-1a"
        )
        return vpc, subnet["Subnet"]["SubnetId"]

    def group(self, vpc: str, i: int) -> Seeded:
        ec2 = self.c("ec2")
        bad = _insecure(i)
        gid = ec2.create_security_group(
            GroupName=f"bench-sg-{i:04d}", Description="bench", VpcId=vpc
        )["GroupId"]
        if bad:
            rules = [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": WORLD}],
                },
                {
                    "IpProtocol": "tcp",
                    "FromPort": 80,
                    "ToPort": 80,
                    "IpRanges": [{"CidrIp": WORLD}],
                },
            ]
        else:
            rules = [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpRanges": [{"CidrIp": "10.30.0.0/16", "Description": "vpc clients"}],
                }
            ]
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=rules)
        arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{gid}"
        return Seeded("AWS::EC2::SecurityGroup", arn, "ssh open to the world" if bad else None)

    def instances(self, subnet: str, group: str) -> list[Seeded]:
        ec2 = self.c("ec2")
        total = self.n("instance")
        found: list[Seeded] = []
        for bad, count in ((True, total // 2), (False, total - total // 2)):
            tokens = "optional" if bad else "required"
            launched = ec2.run_instances(
                ImageId="ami-12c6146b",
                MinCount=count,
                MaxCount=count,
                InstanceType="t3.micro",
                SubnetId=subnet,
                SecurityGroupIds=[group],
                MetadataOptions={"HttpTokens": tokens, "HttpEndpoint": "enabled"},
            )["Instances"]
            for instance in launched:
                arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance['InstanceId']}"
                found.append(Seeded("AWS::EC2::Instance", arn, "IMDSv1" if bad else None))
        return found

    def volume(self, i: int) -> Seeded:
        bad = _insecure(i)
        vid = self.c("ec2").create_volume(Size=1, AvailabilityZone="us-east-1a", Encrypted=not bad)[
            "VolumeId"
        ]
        arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{vid}"
        return Seeded("AWS::EC2::Volume", arn, "unencrypted" if bad else None)

    def snapshot(self, volumes: list[Seeded], i: int) -> Seeded:
        ec2 = self.c("ec2")
        bad = _insecure(i)
        # a public snapshot of an unencrypted volume; a private one of an encrypted volume
        pool = [v for v in volumes if (v.defect is not None) == bad]
        volume = pool[i % len(pool)].arn.rsplit("/", 1)[1]
        sid = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
        if bad:
            ec2.modify_snapshot_attribute(
                SnapshotId=sid,
                Attribute="createVolumePermission",
                OperationType="add",
                GroupNames=["all"],
            )
        arn = f"arn:aws:ec2:{REGION}::snapshot/{sid}"
        return Seeded("AWS::EC2::Snapshot", arn, "public" if bad else None)

    # -- S3 -------------------------------------------------------------------------------------

    def bucket(self, i: int) -> Seeded:
        s3 = self.c("s3")
        name = f"bench-bucket-{i:04d}"
        arn = f"arn:aws:s3:::{name}"
        s3.create_bucket(Bucket=name)
        if _insecure(i):
            if i % 4 == 0:
                s3.put_bucket_policy(Bucket=name, Policy=_public("s3:GetObject", f"{arn}/*"))
                return Seeded("AWS::S3::Bucket", arn, "public read policy")
            s3.put_bucket_acl(Bucket=name, ACL="public-read")
            return Seeded("AWS::S3::Bucket", arn, "public read ACL")
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/data",
                        }
                    }
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_logging(
            Bucket=name,
            BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": "bench-logs", "TargetPrefix": f"{name}/"}
            },
        )
        tls = {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        s3.put_bucket_policy(Bucket=name, Policy=_doc(tls))
        return Seeded("AWS::S3::Bucket", arn, None)

    # -- IAM ------------------------------------------------------------------------------------

    def user(self, i: int) -> Seeded:
        iam = self.c("iam")
        name = f"bench-user-{i:04d}"
        iam.create_user(UserName=name)
        bad = _insecure(i)
        if bad:
            iam.create_login_profile(UserName=name, Password="Bench-password-1")
        arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
        return Seeded("AWS::IAM::User", arn, "console password without MFA" if bad else None)

    def role(self, i: int) -> Seeded:
        bad = _insecure(i)
        principal = {"AWS": "*"} if bad else {"Service": "lambda.amazonaws.com"}
        trust = _doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
        name = f"bench-role-{i:04d}"
        self.c("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        return Seeded("AWS::IAM::Role", arn, "anyone may assume it" if bad else None)

    def policy(self, i: int) -> Seeded:
        bad = _insecure(i)
        name = f"bench-policy-{i:04d}"
        if bad:
            statement = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        else:
            statement = {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::bench-bucket-{i:04d}/*",
            }
        arn = self.c("iam").create_policy(PolicyName=name, PolicyDocument=_doc(statement))[
            "Policy"
        ]["Arn"]
        # attached, so that checks limited to attached policies see them too
        self.c("iam").attach_role_policy(
            RoleName=f"bench-role-{i % self.n('role'):04d}", PolicyArn=arn
        )
        return Seeded("AWS::IAM::ManagedPolicy", arn, "allows *:*" if bad else None)

    # -- KMS, messaging, data -------------------------------------------------------------------

    def key(self, i: int) -> Seeded:
        kms = self.c("kms")
        arn = kms.create_key(Description=f"bench key {i}")["KeyMetadata"]["Arn"]
        bad = _insecure(i)
        if not bad:
            kms.enable_key_rotation(KeyId=arn)
        return Seeded("AWS::KMS::Key", arn, "rotation off" if bad else None)

    def queue(self, i: int) -> Seeded:
        bad = _insecure(i)
        name = f"bench-queue-{i:04d}"
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        attributes = (
            {"SqsManagedSseEnabled": "false", "Policy": _public("sqs:SendMessage", arn)}
            if bad
            else {"KmsMasterKeyId": "alias/aws/sqs"}
        )
        self.c("sqs").create_queue(QueueName=name, Attributes=attributes)
        return Seeded("AWS::SQS::Queue", arn, "unencrypted, public policy" if bad else None)

    def topic(self, i: int) -> Seeded:
        bad = _insecure(i)
        name = f"bench-topic-{i:04d}"
        arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
        attributes = (
            {"Policy": _public("sns:Publish", arn)} if bad else {"KmsMasterKeyId": "alias/aws/sns"}
        )
        self.c("sns").create_topic(Name=name, Attributes=attributes)
        return Seeded("AWS::SNS::Topic", arn, "public policy, unencrypted" if bad else None)

    def table(self, i: int) -> Seeded:
        ddb = self.c("dynamodb")
        bad = _insecure(i)
        name = f"bench-table-{i:04d}"
        extra: dict[str, Any] = (
            {} if bad else {"SSESpecification": {"Enabled": True, "SSEType": "KMS"}}
        )
        arn = ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            DeletionProtectionEnabled=not bad,
            **extra,
        )["TableDescription"]["TableArn"]
        if not bad:
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        return Seeded("AWS::DynamoDB::Table", arn, "no backups, default key" if bad else None)

    def function(self, role: str, code: bytes, i: int) -> Seeded:
        lam = self.c("lambda")
        bad = _insecure(i)
        name = f"bench-fn-{i:04d}"
        arn = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": code},
            TracingConfig={"Mode": "Active"},
        )["FunctionArn"]
        if bad:
            lam.create_function_url_config(FunctionName=name, AuthType="NONE")
            lam.add_permission(
                FunctionName=name,
                StatementId="anyone",
                Action="lambda:InvokeFunction",
                Principal="*",
            )
        return Seeded("AWS::Lambda::Function", arn, "public, URL without auth" if bad else None)

    def log_group(self, key: str, i: int) -> Seeded:
        logs = self.c("logs")
        bad = _insecure(i)
        name = f"/bench/group-{i:04d}"
        if bad:
            logs.create_log_group(logGroupName=name)
        else:
            logs.create_log_group(logGroupName=name, kmsKeyId=key)
            logs.put_retention_policy(logGroupName=name, retentionInDays=365)
        arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"
        return Seeded("AWS::Logs::LogGroup", arn, "kept forever, unencrypted" if bad else None)

    def secret(self, key: str, i: int) -> Seeded:
        bad = _insecure(i)
        extra = {} if bad else {"KmsKeyId": key}
        arn = self.c("secretsmanager").create_secret(
            Name=f"bench-secret-{i:04d}", SecretString="s3cr3t-value", **extra
        )["ARN"]
        return Seeded("AWS::SecretsManager::Secret", arn, "no rotation" if bad else None)

    def db(self, i: int) -> Seeded:
        bad = _insecure(i)
        name = f"bench-db-{i:04d}"
        arn = self.c("rds").create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.t3.micro",
            Engine="mysql",
            MasterUsername="admin",
            MasterUserPassword="password123",
            AllocatedStorage=20,
            PubliclyAccessible=bad,
            StorageEncrypted=not bad,
            BackupRetentionPeriod=0 if bad else 7,
            DeletionProtection=not bad,
            MultiAZ=not bad,
            AutoMinorVersionUpgrade=True,
            EnableIAMDatabaseAuthentication=not bad,
        )["DBInstance"]["DBInstanceArn"]
        return Seeded("AWS::RDS::DBInstance", arn, "public, unencrypted" if bad else None)


def seed(session: Any, scale: float = 1.0, workers: int = 8) -> list[Seeded]:
    """Create the account's resources; the ground truth, one entry a resource."""
    s = _Seeder(session, scale)
    found: list[Seeded] = []
    vpc, subnet = s.network()
    s.c("s3").create_bucket(Bucket="bench-logs", ACL="log-delivery-write")
    with ThreadPoolExecutor(workers) as pool:
        groups = _parallel(pool, lambda i: s.group(vpc, i), s.n("security_group"))
        found += groups
        hardened_group = next(g for g in groups if g.defect is None).arn.rsplit("/", 1)[1]
        found += s.instances(subnet, hardened_group)
        volumes = _parallel(pool, s.volume, s.n("volume"))
        found += volumes
        found += _parallel(pool, lambda i: s.snapshot(volumes, i), s.n("snapshot"))
        found += _parallel(pool, s.bucket, s.n("bucket"))
        # one at a time: moto's IAM backend is not safe for concurrent writes
        found += [s.user(i) for i in range(s.n("user"))]
        found += [s.role(i) for i in range(s.n("role"))]
        found += [s.policy(i) for i in range(s.n("policy"))]
        keys = _parallel(pool, s.key, s.n("key"))
        found += keys
        cmk = next(k for k in keys if k.defect is None).arn
        found += _parallel(pool, s.queue, s.n("queue"))
        found += _parallel(pool, s.topic, s.n("topic"))
        found += _parallel(pool, s.table, s.n("table"))
        trust = _doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        )
        role = s.c("iam").create_role(RoleName="bench-fn-role", AssumeRolePolicyDocument=trust)
        code = _zip()
        found += _parallel(
            pool, lambda i: s.function(role["Role"]["Arn"], code, i), s.n("function")
        )
        found += _parallel(pool, lambda i: s.log_group(cmk, i), s.n("log_group"))
        found += _parallel(pool, lambda i: s.secret(cmk, i), s.n("secret"))
        found += _parallel(pool, s.db, s.n("db"))
    return found


def by_kind(seeded: Iterable[Seeded]) -> dict[str, list[Seeded]]:
    out: dict[str, list[Seeded]] = {}
    for item in seeded:
        out.setdefault(item.kind, []).append(item)
    return out
