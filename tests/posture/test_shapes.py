"""One mapping per resource type, tested both ways: a template with the problem gives the rule's
finding on its logical id, and the same problem on a live moto resource gives the same rule's
finding on the resource's ARN; the fixed resource (and template) give none."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.engine.runner import evaluate
from chalicelib.kinds import ArtifactType
from chalicelib.posture.aws import Reader
from chalicelib.posture.collect import collect
from chalicelib.posture.inventory import Inventory
from chalicelib.posture.shapes import MAPPINGS

WORLD = "0.0.0.0/0"
ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True)
class Case:
    rule: str
    service: str
    template: str  # the problem in a template: the rule fires on logical id `Thing`
    live: Callable[[Any, bool], str]  # (session, fixed) → the ARN it fires on (unless fixed)
    types: tuple[str, ...]  # the mappings this case exercises


def _template(body: str) -> str:
    return "Resources:\n  Thing:\n" + "\n".join("    " + line for line in body.splitlines())


def _vpc(session: Any) -> tuple[str, str]:
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")
    return vpc, subnet["Subnet"]["SubnetId"]


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


# -- EC2 and VPC -------------------------------------------------------------------------------


def security_group(session: Any, fixed: bool) -> str:
    vpc, _ = _vpc(session)
    ec2 = session.client("ec2")
    group = ec2.create_security_group(GroupName="ssh", Description="ssh", VpcId=vpc)["GroupId"]
    source = "10.0.0.0/8" if fixed else WORLD
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": source}]}
        ],
    )
    return _arn("ec2", f"security-group/{group}")


def instance(session: Any, fixed: bool) -> str:
    _, subnet = _vpc(session)
    tokens = "required" if fixed else "optional"
    made = session.client("ec2").run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet,
        MetadataOptions={"HttpTokens": tokens},
    )
    return _arn("ec2", f"instance/{made['Instances'][0]['InstanceId']}")


def volume(session: Any, fixed: bool) -> str:
    made = session.client("ec2").create_volume(
        Size=1, AvailabilityZone="us-east-1a", Encrypted=fixed
    )
    return _arn("ec2", f"volume/{made['VolumeId']}")


def vpc_and_flow_log(session: Any, fixed: bool) -> str:
    vpc, _ = _vpc(session)
    if fixed:
        session.client("s3").create_bucket(Bucket="flow-logs-bucket")
        session.client("ec2").create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="s3",
            LogDestination="arn:aws:s3:::flow-logs-bucket",
        )
    return _arn("ec2", f"vpc/{vpc}")


def subnet(session: Any, fixed: bool) -> str:
    _, subnet_id = _vpc(session)
    session.client("ec2").modify_subnet_attribute(
        SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": not fixed}
    )
    return _arn("ec2", f"subnet/{subnet_id}")


def network_acl(session: Any, fixed: bool) -> str:
    vpc, _ = _vpc(session)
    ec2 = session.client("ec2")
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=100,
        Protocol="6",
        RuleAction="allow",
        Egress=False,
        CidrBlock="10.0.0.0/8" if fixed else WORLD,
        PortRange={"From": 22, "To": 22},
    )
    return _arn("ec2", f"network-acl/{acl}")


# -- S3, IAM, KMS, secrets, logs, trails -------------------------------------------------------


def bucket_encryption(session: Any, fixed: bool) -> str:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="data-bucket")
    if fixed:
        s3.put_bucket_encryption(
            Bucket="data-bucket",
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        )
    return "arn:aws:s3:::data-bucket"


def bucket_policy(session: Any, fixed: bool) -> str:
    s3 = session.client("s3")
    s3.create_bucket(Bucket="site-bucket")
    principal = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"} if fixed else "*"
    statement = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::site-bucket/*",
    }
    s3.put_bucket_policy(
        Bucket="site-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    return "arn:aws:s3:::site-bucket"


def bucket_public_block(session: Any, fixed: bool) -> str:
    """The account's public access block covers the bucket that has none of its own."""
    s3 = session.client("s3")
    s3.create_bucket(Bucket="blocked-bucket")
    if fixed:
        block = dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
            True,
        )
        session.client("s3control").put_public_access_block(
            AccountId=ACCOUNT, PublicAccessBlockConfiguration=block
        )
    return "arn:aws:s3:::blocked-bucket"


_ADMIN = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
_READ = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
)


def user(session: Any, fixed: bool) -> str:
    iam = session.client("iam")
    iam.create_user(UserName="carol")
    if not fixed:
        iam.put_user_policy(UserName="carol", PolicyName="direct", PolicyDocument=_READ)
    return f"arn:aws:iam::{ACCOUNT}:user/carol"


def managed_policy(session: Any, fixed: bool) -> str:
    created = session.client("iam").create_policy(
        PolicyName="ops", PolicyDocument=_READ if fixed else _ADMIN
    )
    return created["Policy"]["Arn"]


def role(session: Any, fixed: bool) -> str:
    principal = {"Service": "ec2.amazonaws.com"} if fixed else {"AWS": "*"}
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }
    made = session.client("iam").create_role(
        RoleName="worker", AssumeRolePolicyDocument=json.dumps(trust)
    )
    return made["Role"]["Arn"]


def group(session: Any, fixed: bool) -> str:
    iam = session.client("iam")
    made = iam.create_group(GroupName="devs")
    action = "s3:GetObject" if fixed else "s3:*"
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }
    iam.put_group_policy(GroupName="devs", PolicyName="s3", PolicyDocument=json.dumps(document))
    return made["Group"]["Arn"]


def kms_key(session: Any, fixed: bool) -> str:
    kms = session.client("kms")
    key = kms.create_key()["KeyMetadata"]
    if fixed:
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return key["Arn"]


def secret(session: Any, fixed: bool) -> str:
    made = session.client("secretsmanager").create_secret(Name="api-token", SecretString="x")
    if fixed:
        lam = _function(session, "rotator")
        session.client("secretsmanager").rotate_secret(
            SecretId=made["ARN"],
            RotationLambdaARN=lam,
            RotationRules={"AutomaticallyAfterDays": 30},
        )
    return made["ARN"]


def log_group(session: Any, fixed: bool) -> str:
    logs = session.client("logs")
    logs.create_log_group(logGroupName="/app/api")
    if fixed:
        logs.put_retention_policy(logGroupName="/app/api", retentionInDays=90)
    return _arn("logs", "log-group:/app/api")


def trail(session: Any, fixed: bool) -> str:
    session.client("s3").create_bucket(Bucket="trail-bucket")
    made = session.client("cloudtrail").create_trail(
        Name="main", S3BucketName="trail-bucket", EnableLogFileValidation=fixed
    )
    return made["TrailARN"]


# -- databases ---------------------------------------------------------------------------------


def db_instance(session: Any, fixed: bool) -> str:
    made = session.client("rds").create_db_instance(
        DBInstanceIdentifier="orders-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="orders",
        MasterUserPassword="a-long-password",
        AllocatedStorage=20,
        PubliclyAccessible=not fixed,
    )
    return made["DBInstance"]["DBInstanceArn"]


def db_cluster(session: Any, fixed: bool) -> str:
    made = session.client("rds").create_db_cluster(
        DBClusterIdentifier="orders-cluster",
        Engine="aurora-postgresql",
        MasterUsername="orders",
        MasterUserPassword="a-long-password",
        StorageEncrypted=fixed,
    )
    return made["DBCluster"]["DBClusterArn"]


def table(session: Any, fixed: bool) -> str:
    ddb = session.client("dynamodb")
    made = ddb.create_table(
        TableName="carts",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    if fixed:
        ddb.update_continuous_backups(
            TableName="carts",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    return made["TableDescription"]["TableArn"]


# -- messaging ---------------------------------------------------------------------------------


def topic(session: Any, fixed: bool) -> str:
    attributes = {"KmsMasterKeyId": "alias/aws/sns"} if fixed else {}
    return session.client("sns").create_topic(Name="events", Attributes=attributes)["TopicArn"]


def queue_policy(session: Any, fixed: bool) -> str:
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = _arn("sqs", "jobs")
    principal = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"} if fixed else "*"
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage"}
    policy = {"Version": "2012-10-17", "Statement": [{**statement, "Resource": arn}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return arn


# -- compute -----------------------------------------------------------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def _function(session: Any, name: str, **extra: Any) -> str:
    iam = session.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    try:
        role_arn = iam.get_role(RoleName="fn")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role_arn = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    made = session.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="index.handler",
        Code={"ZipFile": _zip()},
        **extra,
    )
    return made["FunctionArn"]


def function_url(session: Any, fixed: bool) -> str:
    arn = _function(session, "hook")
    session.client("lambda").create_function_url_config(
        FunctionName="hook", AuthType="AWS_IAM" if fixed else "NONE"
    )
    return arn


def function_environment(session: Any, fixed: bool) -> str:
    variables = {"SECRET_NAME": "prod/db"} if fixed else {"DB_PASSWORD": "hunter2hunter2"}
    return _function(session, "worker", Environment={"Variables": variables})


def function_permission(session: Any, fixed: bool) -> str:
    arn = _function(session, "resize")
    extra = {"SourceArn": "arn:aws:s3:::uploads"} if fixed else {}
    session.client("lambda").add_permission(
        FunctionName="resize",
        StatementId="invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
        **extra,
    )
    return arn


def repository(session: Any, fixed: bool) -> str:
    made = session.client("ecr").create_repository(
        repositoryName="api", imageTagMutability="IMMUTABLE" if fixed else "MUTABLE"
    )
    return made["repository"]["repositoryArn"]


def eks_cluster(session: Any, fixed: bool) -> str:
    _, subnet_id = _vpc(session)
    made = session.client("eks").create_cluster(
        name="platform",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={
            "subnetIds": [subnet_id],
            "endpointPublicAccess": not fixed,
            "endpointPrivateAccess": True,
        },
    )
    return made["cluster"]["arn"]


def domain(session: Any, fixed: bool) -> str:
    made = session.client("opensearch").create_domain(
        DomainName="search", EncryptionAtRestOptions={"Enabled": fixed}
    )
    return made["DomainStatus"]["ARN"]


# -- edge --------------------------------------------------------------------------------------


def _balancer(session: Any) -> str:
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    return session.client("elbv2").create_load_balancer(Name="web", Subnets=subnets)[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]


def load_balancer(session: Any, fixed: bool) -> str:
    arn = _balancer(session)
    if fixed:
        session.client("elbv2").modify_load_balancer_attributes(
            LoadBalancerArn=arn,
            Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}],
        )
    return arn


def listener(session: Any, fixed: bool) -> str:
    arn = _balancer(session)
    action = (
        {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
        if fixed
        else {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}
    )
    made = session.client("elbv2").create_listener(
        LoadBalancerArn=arn, Protocol="HTTP", Port=80, DefaultActions=[action]
    )
    return made["Listeners"][0]["ListenerArn"]


def api_method(session: Any, fixed: bool) -> str:
    api = session.client("apigateway")
    api_id = api.create_rest_api(name="orders")["id"]
    root = api.get_resources(restApiId=api_id)["items"][0]["id"]
    api.put_method(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        authorizationType="AWS_IAM" if fixed else "NONE",
    )
    return f"arn:aws:apigateway:{REGION}::/restapis/{api_id}"


def api_stage(session: Any, fixed: bool) -> str:
    api = session.client("apigateway")
    api_id = api.create_rest_api(name="orders")["id"]
    root = api.get_resources(restApiId=api_id)["items"][0]["id"]
    api.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    api.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = api.create_deployment(restApiId=api_id)["id"]
    api.create_stage(
        restApiId=api_id, stageName="prod", deploymentId=deployment, tracingEnabled=fixed
    )
    return f"arn:aws:apigateway:{REGION}::/restapis/{api_id}/stages/prod"


def distribution(session: Any, fixed: bool) -> str:
    config = {
        "CallerReference": "site",
        "Comment": "site",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "web",
                    "DomainName": "origin.example.com",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "web",
            "ViewerProtocolPolicy": "redirect-to-https" if fixed else "allow-all",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }
    made = session.client("cloudfront").create_distribution(DistributionConfig=config)
    return made["Distribution"]["ARN"]


CASES = {
    "security group": Case(
        "CF-EC2-001",
        "ec2",
        _template(
            "Type: AWS::EC2::SecurityGroup\nProperties:\n  GroupDescription: ssh\n  VpcId: vpc-1\n"
            "  SecurityGroupIngress:\n    - {IpProtocol: tcp, FromPort: 22, ToPort: 22, "
            "CidrIp: 0.0.0.0/0}"
        ),
        security_group,
        ("AWS::EC2::SecurityGroup",),
    ),
    "instance": Case(
        "CF-EC2-007",
        "ec2",
        _template(
            "Type: AWS::EC2::Instance\nProperties:\n  ImageId: ami-1\n  SubnetId: subnet-1\n"
            "  MetadataOptions: {HttpTokens: optional}"
        ),
        instance,
        ("AWS::EC2::Instance",),
    ),
    "volume": Case(
        "CF-EBS-001",
        "ec2",
        _template("Type: AWS::EC2::Volume\nProperties: {AvailabilityZone: a, Size: 1}"),
        volume,
        ("AWS::EC2::Volume",),
    ),
    "vpc and flow log": Case(
        "CF-VPC-001",
        "ec2",
        _template("Type: AWS::EC2::VPC\nProperties: {CidrBlock: 10.0.0.0/16}"),
        vpc_and_flow_log,
        ("AWS::EC2::VPC", "AWS::EC2::FlowLog"),
    ),
    "subnet": Case(
        "CF-VPC-002",
        "ec2",
        _template(
            "Type: AWS::EC2::Subnet\nProperties: {VpcId: vpc-1, CidrBlock: 10.0.1.0/24, "
            "MapPublicIpOnLaunch: true}"
        ),
        subnet,
        ("AWS::EC2::Subnet",),
    ),
    "network acl": Case(
        "CF-VPC-003",
        "ec2",
        _template(
            "Type: AWS::EC2::NetworkAclEntry\nProperties: {NetworkAclId: acl-1, RuleNumber: 100, "
            "Protocol: 6, RuleAction: allow, CidrBlock: 0.0.0.0/0, PortRange: {From: 22, To: 22}}"
        ),
        network_acl,
        ("AWS::EC2::NetworkAcl",),
    ),
    "bucket": Case(
        "CF-S3-001",
        "s3",
        _template("Type: AWS::S3::Bucket"),
        bucket_encryption,
        ("AWS::S3::Bucket",),
    ),
    "bucket policy": Case(
        "CF-S3-007",
        "s3",
        "Resources:\n  Site:\n    Type: AWS::S3::Bucket\n  Thing:\n"
        "    Type: AWS::S3::BucketPolicy\n    Properties:\n      Bucket: !Ref Site\n"
        "      PolicyDocument:\n        Statement:\n          - {Effect: Allow, Principal: '*', "
        "Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/*'}\n",
        bucket_policy,
        ("AWS::S3::Bucket",),
    ),
    "bucket and account public access block": Case(
        "CF-S3-002",
        "s3",
        _template("Type: AWS::S3::Bucket"),
        bucket_public_block,
        ("AWS::S3::Bucket",),
    ),
    "user": Case(
        "CF-IAM-003",
        "iam",
        _template(
            "Type: AWS::IAM::User\nProperties:\n  Policies:\n    - PolicyName: direct\n"
            "      PolicyDocument: {Statement: [{Effect: Allow, Action: 's3:GetObject', "
            "Resource: '*'}]}"
        ),
        user,
        ("AWS::IAM::User",),
    ),
    "managed policy": Case(
        "CF-IAM-001",
        "iam",
        _template(
            "Type: AWS::IAM::ManagedPolicy\nProperties:\n  PolicyDocument: {Statement: "
            "[{Effect: Allow, Action: '*', Resource: '*'}]}"
        ),
        managed_policy,
        ("AWS::IAM::ManagedPolicy",),
    ),
    "role": Case(
        "CF-IAM-005",
        "iam",
        _template(
            "Type: AWS::IAM::Role\nProperties:\n  AssumeRolePolicyDocument: {Statement: "
            "[{Effect: Allow, Principal: {AWS: '*'}, Action: 'sts:AssumeRole'}]}"
        ),
        role,
        ("AWS::IAM::Role",),
    ),
    "group": Case(
        "CF-IAM-006",
        "iam",
        _template(
            "Type: AWS::IAM::Group\nProperties:\n  Policies:\n    - PolicyName: s3\n"
            "      PolicyDocument: {Statement: [{Effect: Allow, Action: 's3:*', Resource: '*'}]}"
        ),
        group,
        ("AWS::IAM::Group",),
    ),
    "kms key": Case(
        "CF-KMS-001",
        "kms",
        _template("Type: AWS::KMS::Key\nProperties: {EnableKeyRotation: false}"),
        kms_key,
        ("AWS::KMS::Key",),
    ),
    "secret": Case(
        "CF-SM-001",
        "secretsmanager",
        _template("Type: AWS::SecretsManager::Secret\nProperties: {Name: api-token}"),
        secret,
        ("AWS::SecretsManager::Secret",),
    ),
    "log group": Case(
        "CF-LOGS-001",
        "logs",
        _template("Type: AWS::Logs::LogGroup\nProperties: {LogGroupName: /app/api}"),
        log_group,
        ("AWS::Logs::LogGroup",),
    ),
    "trail": Case(
        "CF-TRAIL-001",
        "cloudtrail",
        _template(
            "Type: AWS::CloudTrail::Trail\nProperties: {S3BucketName: b, IsLogging: true, "
            "EnableLogFileValidation: false}"
        ),
        trail,
        ("AWS::CloudTrail::Trail",),
    ),
    "db instance": Case(
        "CF-RDS-002",
        "rds",
        _template(
            "Type: AWS::RDS::DBInstance\nProperties: {Engine: postgres, "
            "DBInstanceClass: db.t3.micro, PubliclyAccessible: true}"
        ),
        db_instance,
        ("AWS::RDS::DBInstance",),
    ),
    "db cluster": Case(
        "CF-RDS-001",
        "rds",
        _template("Type: AWS::RDS::DBCluster\nProperties: {Engine: aurora-postgresql}"),
        db_cluster,
        ("AWS::RDS::DBCluster",),
    ),
    "table": Case(
        "CF-DDB-001",
        "dynamodb",
        _template(
            "Type: AWS::DynamoDB::Table\nProperties:\n  KeySchema: [{AttributeName: id, "
            "KeyType: HASH}]\n  AttributeDefinitions: [{AttributeName: id, AttributeType: S}]"
        ),
        table,
        ("AWS::DynamoDB::Table",),
    ),
    "topic": Case(
        "CF-SNS-001",
        "sns",
        _template("Type: AWS::SNS::Topic"),
        topic,
        ("AWS::SNS::Topic",),
    ),
    "queue policy": Case(
        "CF-SQS-002",
        "sqs",
        _template(
            "Type: AWS::SQS::QueuePolicy\nProperties:\n  Queues: [q]\n  PolicyDocument: "
            "{Statement: [{Effect: Allow, Principal: '*', Action: 'sqs:SendMessage', "
            "Resource: '*'}]}"
        ),
        queue_policy,
        ("AWS::SQS::Queue",),
    ),
    "function url": Case(
        "CF-LAMBDA-003",
        "lambda",
        _template("Type: AWS::Lambda::Url\nProperties: {TargetFunctionArn: f, AuthType: NONE}"),
        function_url,
        ("AWS::Lambda::Function",),
    ),
    "function environment": Case(
        "CF-LAMBDA-001",
        "lambda",
        _template(
            "Type: AWS::Lambda::Function\nProperties:\n  Runtime: python3.12\n"
            "  Environment: {Variables: {DB_PASSWORD: hunter2hunter2}}"
        ),
        function_environment,
        ("AWS::Lambda::Function",),
    ),
    "function permission": Case(
        "CF-LAMBDA-002",
        "lambda",
        _template(
            "Type: AWS::Lambda::Permission\nProperties: {FunctionName: f, "
            "Action: 'lambda:InvokeFunction', Principal: '*'}"
        ),
        function_permission,
        ("AWS::Lambda::Function",),
    ),
    "repository": Case(
        "CF-ECR-002",
        "ecr",
        _template("Type: AWS::ECR::Repository\nProperties: {ImageTagMutability: MUTABLE}"),
        repository,
        ("AWS::ECR::Repository",),
    ),
    "eks cluster": Case(
        "CF-EKS-001",
        "eks",
        _template(
            "Type: AWS::EKS::Cluster\nProperties:\n  RoleArn: r\n  ResourcesVpcConfig: "
            "{SubnetIds: [s], EndpointPublicAccess: true}"
        ),
        eks_cluster,
        ("AWS::EKS::Cluster",),
    ),
    "opensearch domain": Case(
        "CF-ES-001",
        "opensearch",
        _template(
            "Type: AWS::OpenSearchService::Domain\nProperties: "
            "{EncryptionAtRestOptions: {Enabled: false}}"
        ),
        domain,
        ("AWS::OpenSearchService::Domain",),
    ),
    "load balancer": Case(
        "CF-ELB-005",
        "elbv2",
        _template("Type: AWS::ElasticLoadBalancingV2::LoadBalancer\nProperties: {Subnets: [a, b]}"),
        load_balancer,
        ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    ),
    "listener": Case(
        "CF-ELB-001",
        "elbv2",
        _template(
            "Type: AWS::ElasticLoadBalancingV2::Listener\nProperties: {LoadBalancerArn: lb, "
            "Protocol: HTTP, Port: 80, DefaultActions: [{Type: forward, TargetGroupArn: tg}]}"
        ),
        listener,
        ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    ),
    "api method": Case(
        "CF-APIGW-004",
        "apigateway",
        _template(
            "Type: AWS::ApiGateway::Method\nProperties: {RestApiId: a, ResourceId: r, "
            "HttpMethod: GET, AuthorizationType: NONE}"
        ),
        api_method,
        ("AWS::ApiGateway::RestApi",),
    ),
    "api stage": Case(
        "CF-APIGW-002",
        "apigateway",
        _template(
            "Type: AWS::ApiGateway::Stage\nProperties: {RestApiId: a, DeploymentId: d, "
            "StageName: prod}"
        ),
        api_stage,
        ("AWS::ApiGateway::RestApi",),
    ),
    "distribution": Case(
        "CF-CFRONT-001",
        "cloudfront",
        _template(
            "Type: AWS::CloudFront::Distribution\nProperties:\n  DistributionConfig:\n"
            "    Enabled: true\n    DefaultCacheBehavior: {TargetOriginId: web, "
            "ViewerProtocolPolicy: allow-all}\n    Origins: [{Id: web, DomainName: "
            "origin.example.com, CustomOriginConfig: {OriginProtocolPolicy: https-only}}]"
        ),
        distribution,
        ("AWS::CloudFront::Distribution",),
    ),
}


def _findings(kind: ArtifactType, text: str, rule_id: str) -> set[str | None]:
    report = evaluate(kind, text, "artifact")
    assert report.error is None, report.error
    return {f.resource for f in report.findings if f.rule_id == rule_id}


def _live(session: Any, case: Case) -> set[str | None]:
    services = [case.service, "iam"] if case.service == "s3" else [case.service]
    inventory = collect(Reader(session), regions=[REGION], services=services)
    return _findings(ArtifactType.AWS_INVENTORY, inventory.model_dump_json(), case.rule)


@pytest.mark.parametrize("name", CASES)
def test_the_template_and_the_live_resource_give_the_same_finding(account: Any, name: str) -> None:
    case = CASES[name]
    assert _findings(ArtifactType.CLOUDFORMATION, case.template, case.rule) == {"Thing"}
    arn = case.live(account, False)
    assert arn in _live(account, case)


@pytest.mark.parametrize("name", CASES)
def test_the_fixed_live_resource_gives_no_finding(account: Any, name: str) -> None:
    case = CASES[name]
    arn = case.live(account, True)
    assert arn not in _live(account, case)


def test_every_mapping_is_exercised() -> None:
    exercised = {t for case in CASES.values() for t in case.types}
    assert exercised == set(MAPPINGS)


def test_hits_on_parts_name_the_part_and_the_resource(account: Any) -> None:
    arn = bucket_policy(account, False)
    inventory = collect(Reader(account), regions=[REGION], services=["s3"])
    report = evaluate(ArtifactType.AWS_INVENTORY, inventory.model_dump_json(), "a")
    [finding] = [f for f in report.findings if f.rule_id == "CF-S3-007"]
    assert finding.resource == arn and finding.line is None
    assert finding.message.startswith("bucket policy: the policy lets anyone read")
    assert finding.location == "aws://123456789012/us-east-1"


def test_a_section_not_read_voids_only_the_rules_that_need_it() -> None:
    bucket = {
        "arn": "arn:aws:s3:::half-read",
        "type": "AWS::S3::Bucket",
        "region": REGION,
        "id": "half-read",
        "configuration": {"Encryption": None, "Versioning": {}, "Logging": None, "Acl": {}},
        "not_assessed": {"Policy": "s3:GetBucketPolicy", "PublicAccessBlock": "s3:Get..."},
    }
    inventory = Inventory.model_validate(
        {
            "kind": "aws_inventory",
            "version": 1,
            "account_id": ACCOUNT,
            "regions": [REGION],
            "collected_at": "2026-01-01T00:00:00+00:00",
            "resources": [bucket],
            "facts": {"global": {"s3.account_public_access_block": None}},
        }
    )
    report = evaluate(ArtifactType.AWS_INVENTORY, inventory.model_dump_json(), "a")
    rules = {f.rule_id for f in report.findings if f.resource == bucket["arn"]}
    assert rules == {"CF-S3-001", "CF-S3-004", "CF-S3-005"}  # not S3-002, S3-006, S3-007


def test_region_settings_are_judged_as_their_template_resource() -> None:
    inventory = {
        "kind": "aws_inventory",
        "version": 1,
        "account_id": ACCOUNT,
        "regions": [REGION, "eu-west-1"],
        "collected_at": "2026-01-01T00:00:00+00:00",
        "facts": {
            REGION: {"ec2.snapshot_block_public_access": "unblocked"},
            "eu-west-1": {"ec2.snapshot_block_public_access": "block-all-sharing"},
        },
    }
    text = json.dumps(inventory)
    assert _findings(ArtifactType.AWS_INVENTORY, text, "CF-EBS-003") == {f"{ACCOUNT}/{REGION}"}


def test_a_tenants_cloudformation_rule_judges_live_resources(account: Any) -> None:
    from chalicelib.engine.custom import parse_custom_rules

    s3 = account.client("s3")
    s3.create_bucket(Bucket="tagged")
    s3.put_bucket_tagging(
        Bucket="tagged", Tagging={"TagSet": [{"Key": "cost-center", "Value": "7"}]}
    )
    s3.create_bucket(Bucket="untagged")
    rules = parse_custom_rules(
        [
            {
                "id": "X-ACME-001",
                "title": "Buckets carry a cost center",
                "severity": "low",
                "artifact_type": "cloudformation",
                "description": "Every bucket names who pays for it.",
                "match": {"resource_types": ["AWS::S3::Bucket"]},
                "assert": {
                    "path": "Properties.Tags",
                    "op": "any",
                    "where": {"path": "Key", "op": "equals", "value": "cost-center"},
                },
            }
        ]
    )
    inventory = collect(Reader(account), regions=[REGION], services=["s3"])
    report = evaluate(
        ArtifactType.AWS_INVENTORY, inventory.model_dump_json(), "a", custom_rules=rules
    )
    hits = {f.resource for f in report.findings if f.rule_id == "X-ACME-001"}
    assert hits == {"arn:aws:s3:::untagged"}
