"""Accounts seeded on moto: one resource of each kind, insecure or hardened, with known names.

`insecure(session)` leaves every problem the rules know; `hardened(session)` configures the
same kinds of resources the way the rules want them. Both work on in-process moto and on a
moto server (the session decides).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

REGION = "us-east-1"
WORLD = "0.0.0.0/0"
ACCOUNT = "123456789012"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


def _public_policy(action: str, resource: str) -> str:
    statement = {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _role(iam: Any, name: str, service: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def denied(session: Any, actions: list[str]) -> Any:
    """A session of a user allowed everything but `actions` (moto judges the user's policy
    only inside `enable_iam_authentication()` or `set_initial_no_auth_action_count(0)`)."""
    import boto3

    iam = session.client("iam")
    iam.create_user(UserName="auditor")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": actions, "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName="auditor", PolicyName="audit", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    return boto3.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name=REGION,
    )


def private_bucket(session: Any, name: str, *, lock: bool = False, acl: str | None = None) -> str:
    """A bucket as the bucket rules want it: encrypted with KMS, public access blocked,
    versioned, logged (into `hardened-logs`), TLS required."""
    s3 = session.client("s3", region_name=REGION)
    extra: dict[str, Any] = {"ObjectLockEnabledForBucket": True} if lock else {}
    if acl:
        extra["ACL"] = acl
    s3.create_bucket(Bucket=name, **extra)
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
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=BLOCK)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if name != "hardened-logs":
        s3.put_bucket_logging(
            Bucket=name,
            BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": "hardened-logs", "TargetPrefix": f"{name}/"}
            },
        )
    deny = {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},  # moto's logging check cannot read a bare "*"
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(
        Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]})
    )
    return f"arn:aws:s3:::{name}"


BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def network(session: Any) -> dict[str, str]:
    """A VPC with a subnet (moto's default VPC stays as it is)."""
    ec2 = session.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")
    return {"vpc": vpc, "subnet": subnet["Subnet"]["SubnetId"]}


def insecure(session: Any) -> dict[str, str]:
    """Every kind of problem, once; the ids of what was created."""
    ids = network(session)
    ec2 = session.client("ec2", region_name=REGION)
    group = ec2.create_security_group(GroupName="open-admin", Description="open", VpcId=ids["vpc"])[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": WORLD}]},
            {
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "IpRanges": [{"CidrIp": WORLD}],
            },
        ],
    )
    ids["group"] = group
    ec2.modify_subnet_attribute(SubnetId=ids["subnet"], MapPublicIpOnLaunch={"Value": True})
    instance = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        SubnetId=ids["subnet"],
        SecurityGroupIds=[group],
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "web"}]}],
    )["Instances"][0]["InstanceId"]
    ids["instance"] = instance
    volume = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a", Encrypted=False)
    ids["volume"] = volume["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=ids["volume"])["SnapshotId"]
    ec2.modify_snapshot_attribute(
        SnapshotId=snapshot,
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )
    ids["snapshot"] = snapshot
    image = ec2.create_image(InstanceId=instance, Name="shared-image")["ImageId"]
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]})
    ids["image"] = image
    ids["eip"] = ec2.allocate_address(Domain="vpc")["AllocationId"]

    s3 = session.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="insecure-data")
    s3.put_bucket_policy(
        Bucket="insecure-data",
        Policy=_public_policy("s3:GetObject", "arn:aws:s3:::insecure-data/*"),
    )

    iam = session.client("iam", region_name=REGION)
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Secret-password-1")
    iam.create_access_key(UserName="alice")
    admin = iam.create_policy(
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="alice", PolicyArn=admin)
    iam.create_role(
        RoleName="anyone",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )

    kms = session.client("kms", region_name=REGION)
    ids["key"] = kms.create_key(Description="no rotation")["KeyMetadata"]["Arn"]
    doomed = kms.create_key(Description="doomed")["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)
    ids["doomed_key"] = doomed

    rds = session.client("rds", region_name=REGION)
    rds.create_db_instance(
        DBInstanceIdentifier="open-db",
        DBInstanceClass="db.t3.micro",
        Engine="mysql",
        MasterUsername="admin",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        PubliclyAccessible=True,
        StorageEncrypted=False,
        VpcSecurityGroupIds=[group],
        BackupRetentionPeriod=0,
    )
    rds.create_db_snapshot(DBInstanceIdentifier="open-db", DBSnapshotIdentifier="open-db-snap")
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="open-db-snap", AttributeName="restore", ValuesToAdd=["all"]
    )

    lam = session.client("lambda", region_name=REGION)
    role = _role(iam, "fn-role", "lambda.amazonaws.com")
    lam.create_function(
        FunctionName="open-fn",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": _zip()},
        Environment={"Variables": {"DB_PASSWORD": "hunter2hunter2"}},
    )
    lam.create_function_url_config(FunctionName="open-fn", AuthType="NONE")
    lam.add_permission(
        FunctionName="open-fn",
        StatementId="anyone",
        Action="lambda:InvokeFunction",
        Principal="*",
    )

    ddb = session.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )

    sns = session.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="open-topic")["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=_public_policy("sns:Publish", topic)
    )
    ids["topic"] = topic
    sqs = session.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="open-queue", Attributes={"SqsManagedSseEnabled": "false"})
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:open-queue"
    sqs.set_queue_attributes(
        QueueUrl=queue["QueueUrl"],
        Attributes={"Policy": _public_policy("sqs:SendMessage", queue_arn)},
    )

    session.client("secretsmanager", region_name=REGION).create_secret(
        Name="db-password", SecretString="hunter2"
    )
    session.client("logs", region_name=REGION).create_log_group(logGroupName="/app/forever")

    s3.create_bucket(Bucket="trail-logs-insecure", ACL="public-read")
    trail = session.client("cloudtrail", region_name=REGION)
    trail.create_trail(Name="single-region", S3BucketName="trail-logs-insecure")

    ecr = session.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="open-repo", imageTagMutability="MUTABLE")
    ecr.set_repository_policy(
        repositoryName="open-repo",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "all", "Effect": "Allow", "Principal": "*", "Action": "ecr:*"}
                ],
            }
        ),
    )
    return ids


def hardened(session: Any) -> dict[str, str]:
    """The same kinds of resources, configured as the rules want them."""
    ids = network(session)
    ec2 = session.client("ec2", region_name=REGION)
    ec2.enable_ebs_encryption_by_default()
    for group in ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]:
        if group["IpPermissions"]:
            ec2.revoke_security_group_ingress(
                GroupId=group["GroupId"], IpPermissions=group["IpPermissions"]
            )
        if group["IpPermissionsEgress"]:
            ec2.revoke_security_group_egress(
                GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"]
            )
    group = ec2.create_security_group(
        GroupName="internal-https", Description="https from the vpc", VpcId=ids["vpc"]
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.20.0.0/16", "Description": "clients in the vpc"}],
            }
        ],
    )
    ids["group"] = group
    volume = ec2.create_volume(Size=1, AvailabilityZone="us-east-1a", Encrypted=True)
    ids["volume"] = volume["VolumeId"]
    private_bucket(session, "hardened-logs", acl="log-delivery-write")
    private_bucket(session, "hardened-data")
    block = BLOCK
    session.client("s3control", region_name=REGION).put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration=block
    )
    kms = session.client("kms", region_name=REGION)
    key = kms.create_key(Description="rotated")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key)
    ids["key"] = key
    iam = session.client("iam", region_name=REGION)
    iam.update_account_password_policy(
        MinimumPasswordLength=16,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        PasswordReusePrevention=24,
        MaxPasswordAge=90,
    )
    support = _role(iam, "support", "ec2.amazonaws.com")
    iam.attach_role_policy(RoleName="support", PolicyArn="arn:aws:iam::aws:policy/AWSSupportAccess")
    ids["support_role"] = support
    gd = session.client("guardduty", region_name=REGION)
    gd.create_detector(Enable=True, DataSources={"S3Logs": {"Enable": True}})
    session.client("securityhub", region_name=REGION).enable_security_hub()
    _recording(session)
    ids["trail"] = _watched_trail(session, block)
    _quiet_network(session)
    for listed in kms.list_keys()["Keys"]:  # moto makes its aws/ebs key a customer key
        if kms.describe_key(KeyId=listed["KeyId"])["KeyMetadata"]["KeyManager"] == "CUSTOMER":
            kms.enable_key_rotation(KeyId=listed["KeyId"])
    return ids


def _quiet_network(session: Any) -> None:
    """Flow logs on every VPC, no public IPs on launch, no egress to everywhere, network
    ACLs that admit only HTTPS from the private range."""
    ec2 = session.client("ec2", region_name=REGION)
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
    ec2.create_flow_logs(
        ResourceIds=vpcs,
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::hardened-logs",
    )
    for subnet in ec2.describe_subnets()["Subnets"]:
        if subnet["MapPublicIpOnLaunch"]:
            ec2.modify_subnet_attribute(
                SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": False}
            )
    for group in ec2.describe_security_groups()["SecurityGroups"]:
        if group["GroupName"] != "default" and group["IpPermissionsEgress"]:
            ec2.revoke_security_group_egress(
                GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"]
            )
    for acl in ec2.describe_network_acls()["NetworkAcls"]:
        for entry in acl["Entries"]:
            if entry["RuleNumber"] == 100 and entry["RuleAction"] == "allow":
                ec2.replace_network_acl_entry(
                    NetworkAclId=acl["NetworkAclId"],
                    RuleNumber=100,
                    Protocol="6",
                    PortRange={"From": 443, "To": 443},
                    RuleAction="allow",
                    Egress=entry["Egress"],
                    CidrBlock="10.0.0.0/8",
                )


def _recording(session: Any) -> None:
    config = session.client("config", region_name=REGION)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    private_bucket(session, "hardened-config")
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": "hardened-config"}
    )
    config.start_configuration_recorder(ConfigurationRecorderName="default")


# CIS AWS Foundations section 4: what each metric filter must match
MONITORED = {
    "unauthorized": '{ ($.errorCode = "*UnauthorizedOperation") || '
    '($.errorCode = "AccessDenied*") }',
    "no-mfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
    "root": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
    '$.eventType != "AwsServiceEvent" }',
    "sign-in-failures": "{ ($.eventName = ConsoleLogin) && "
    '($.errorMessage = "Failed authentication") }',
}
_EVENTS = {
    "iam": (None, "DeleteGroupPolicy DeleteRolePolicy DeleteUserPolicy PutGroupPolicy "
            "PutRolePolicy PutUserPolicy CreatePolicy DeletePolicy CreatePolicyVersion "
            "DeletePolicyVersion AttachRolePolicy DetachRolePolicy AttachUserPolicy "
            "DetachUserPolicy AttachGroupPolicy DetachGroupPolicy"),
    "trail": (None, "CreateTrail UpdateTrail DeleteTrail StartLogging StopLogging"),
    "kms": ("kms.amazonaws.com", "DisableKey ScheduleKeyDeletion"),
    "s3": ("s3.amazonaws.com", "PutBucketAcl PutBucketPolicy PutBucketCors PutBucketLifecycle "
           "PutBucketReplication DeleteBucketPolicy DeleteBucketCors DeleteBucketLifecycle "
           "DeleteBucketReplication"),
    "config": ("config.amazonaws.com", "StopConfigurationRecorder DeleteDeliveryChannel "
               "PutDeliveryChannel PutConfigurationRecorder"),
    "groups": (None, "AuthorizeSecurityGroupIngress AuthorizeSecurityGroupEgress "
               "RevokeSecurityGroupIngress RevokeSecurityGroupEgress CreateSecurityGroup "
               "DeleteSecurityGroup"),
    "acls": (None, "CreateNetworkAcl CreateNetworkAclEntry DeleteNetworkAcl "
             "DeleteNetworkAclEntry ReplaceNetworkAclEntry ReplaceNetworkAclAssociation"),
    "gateways": (None, "CreateCustomerGateway DeleteCustomerGateway AttachInternetGateway "
                 "CreateInternetGateway DeleteInternetGateway DetachInternetGateway"),
    "routes": (None, "CreateRoute CreateRouteTable ReplaceRoute ReplaceRouteTableAssociation "
               "DeleteRouteTable DeleteRoute DisassociateRouteTable"),
    "vpcs": (None, "CreateVpc DeleteVpc ModifyVpcAttribute AcceptVpcPeeringConnection "
             "CreateVpcPeeringConnection DeleteVpcPeeringConnection RejectVpcPeeringConnection "
             "AttachClassicLinkVpc DetachClassicLinkVpc DisableVpcClassicLink "
             "EnableVpcClassicLink"),
    "organizations": ("organizations.amazonaws.com", "AcceptHandshake AttachPolicy "
                      "CreateAccount CreateOrganizationalUnit CreatePolicy DeclineHandshake "
                      "DeleteOrganization DeleteOrganizationalUnit DeletePolicy DetachPolicy "
                      "DisablePolicyType EnablePolicyType InviteAccountToOrganization "
                      "LeaveOrganization MoveAccount RemoveAccountFromOrganization UpdatePolicy "
                      "UpdateOrganizationalUnit"),
}  # fmt: skip
for _name, (_source, _names) in _EVENTS.items():
    _any = " || ".join(f"($.eventName = {event})" for event in _names.split())
    _from = f"($.eventSource = {_source}) && " if _source else ""
    MONITORED[_name] = "{ " + _from + "(" + _any + ") }"


def _watched_trail(session: Any, block: dict[str, bool]) -> str:
    """A multi-region trail into a private, logged bucket and a log group that metric filters
    and alarms watch for every kind of activity CIS section 4 names."""
    private_bucket(session, "hardened-trail", lock=True)
    key = session.client("kms", region_name=REGION).create_key(Description="trail")
    key_arn = key["KeyMetadata"]["Arn"]
    logs = session.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="trail-events", kmsKeyId=key_arn)
    logs.put_retention_policy(logGroupName="trail-events", retentionInDays=365)
    cloudtrail = session.client("cloudtrail", region_name=REGION)
    trail = cloudtrail.create_trail(
        Name="everything",
        S3BucketName="hardened-trail",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail-events:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail-logs",
        KmsKeyId=key_arn,
    )["TrailARN"]
    cloudtrail.put_event_selectors(
        TrailName="everything",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            }
        ],
    )
    cloudtrail.start_logging(Name="everything")
    sns = session.client("sns", region_name=REGION)
    topic = sns.create_topic(
        Name="security-alarms", Attributes={"KmsMasterKeyId": "alias/aws/sns"}
    )["TopicArn"]
    alarms = session.client("cloudwatch", region_name=REGION)
    for name, pattern in MONITORED.items():
        logs.put_metric_filter(
            logGroupName="trail-events",
            filterName=name,
            filterPattern=pattern,
            metricTransformations=[
                {"metricName": name, "metricNamespace": "Security", "metricValue": "1"}
            ],
        )
        alarms.put_metric_alarm(
            AlarmName=name,
            MetricName=name,
            Namespace="Security",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topic],
        )
    return trail
