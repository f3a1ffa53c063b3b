"""Drift: a template deployed into moto's CloudFormation, then changed outside the stack; the
named stacks in the inventory, unmanaged resources, stacks that cannot be read, intrinsics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.engine.runner import evaluate
from chalicelib.kinds import ArtifactType
from chalicelib.parsers import cloudformation as cfn
from chalicelib.posture.aws import Reader
from chalicelib.posture.collect import collect
from chalicelib.posture.inventory import Inventory
from chalicelib.posture.stacks import _Known, _parameters, resolve_properties
from tests.posture import seed

ACCOUNT = seed.ACCOUNT
REGION = seed.REGION
SERVICES = ["ec2", "s3", "sqs", "sns"]
BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
TEMPLATE: dict[str, Any] = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"Internal": {"Type": "String", "Default": "10.0.0.0/8"}},
    "Resources": {
        "WebGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "https from the internal network",
                "SecurityGroupIngress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIp": {"Ref": "Internal"},
                    }
                ],
            },
        },
        "AdminPort": {  # a rule of its own, on the group above
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": {"Fn::GetAtt": ["WebGroup", "GroupId"]},
                "IpProtocol": "tcp",
                "FromPort": 8443,
                "ToPort": 8443,
                "CidrIp": "10.1.0.0/16",
            },
        },
        "Data": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "PublicAccessBlockConfiguration": BLOCK,
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
            },
        },
        "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"KmsMasterKeyId": "alias/jobs"}},
    },
}


def deploy(session: Any, name: str = "web", template: dict[str, Any] | None = None) -> dict:
    """Create the stack; its logical id → physical id."""
    cloudformation = session.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template or TEMPLATE))
    listed = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
    physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in listed}
    # moto's CloudFormation creates the bucket without its public access block: set it as
    # AWS would have, so the live bucket starts out as the template says
    if "Data" in physical:
        session.client("s3").put_public_access_block(
            Bucket=physical["Data"], PublicAccessBlockConfiguration=BLOCK
        )
    return physical


def judge(session: Any, *stacks: str) -> tuple[Inventory, list[Any]]:
    inventory = collect(Reader(session), regions=[REGION], services=SERVICES, stacks=stacks)
    report = evaluate(ArtifactType.AWS_INVENTORY, inventory.model_dump_json(), "aws")
    assert report.error is None
    return inventory, report.findings


def drift(findings: list[Any]) -> dict[tuple[str, str | None], str]:
    return {(f.rule_id, f.resource): f.message for f in findings if "DRIFT" in f.rule_id}


def group_arn(group_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{group_id}"


def test_the_inventory_holds_the_stack_with_resolved_template_properties(account: Any) -> None:
    physical = deploy(account)
    inventory, _ = judge(account, "web")
    assert inventory.stacks is not None and len(inventory.stacks) == 1
    stack = inventory.stacks[0]
    assert (stack.name, stack.region, stack.status) == ("web", REGION, "CREATE_COMPLETE")
    managed = {r.logical_id: r for r in stack.resources}
    group = managed["WebGroup"]
    assert (group.type, group.physical_id) == ("AWS::EC2::SecurityGroup", physical["WebGroup"])
    assert group.properties["SecurityGroupIngress"] == [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}
    ]  # the parameter's value, from the stack
    assert managed["AdminPort"].properties["GroupId"] == physical["WebGroup"]  # GetAtt resolved
    assert managed["Data"].physical_id == physical["Data"]
    assert managed["Data"].properties["PublicAccessBlockConfiguration"] == BLOCK


def test_a_stack_left_alone_has_no_drift(account: Any) -> None:
    deploy(account)
    _, findings = judge(account, "web")
    assert drift(findings) == {}


def test_changes_outside_the_stack_are_drift_findings(account: Any) -> None:
    physical = deploy(account)
    group, bucket = physical["WebGroup"], physical["Data"]
    account.client("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    account.client("s3").delete_public_access_block(Bucket=bucket)

    _, findings = judge(account, "web")
    found = drift(findings)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    assert set(found) == {("AWS-DRIFT-001", group_arn(group)), ("AWS-DRIFT-004", bucket_arn)}
    assert found[("AWS-DRIFT-001", group_arn(group))] == (
        f"{group_arn(group)} (web): SecurityGroupIngress: tcp 22 from 0.0.0.0/0 added outside "
        "the template; template: tcp 443 from 10.0.0.0/8, tcp 8443 from 10.1.0.0/16; "
        "live: tcp 22 from 0.0.0.0/0, tcp 443 from 10.0.0.0/8, tcp 8443 from 10.1.0.0/16"
    )
    assert found[("AWS-DRIFT-004", bucket_arn)] == (
        f"{bucket_arn} (web): PublicAccessBlockConfiguration: removed outside the template; "
        'template: {"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,'
        '"RestrictPublicBuckets":true}; live: not set'
    )
    severities = {f.rule_id: f.severity for f in findings if "DRIFT" in f.rule_id}
    assert severities == {"AWS-DRIFT-001": "high", "AWS-DRIFT-004": "high"}


def test_removed_rules_weaker_blocks_and_settings_are_drift(account: Any) -> None:
    physical = deploy(account)
    group, bucket = physical["WebGroup"], physical["Data"]
    ec2, s3 = account.client("ec2"), account.client("s3")
    ec2.revoke_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            }
        ],
    )
    ec2.authorize_security_group_egress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 25,
                "ToPort": 25,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration={**BLOCK, "BlockPublicPolicy": False}
    )
    s3.delete_bucket_encryption(Bucket=bucket)
    queue = account.client("sqs").get_queue_url(QueueName=physical["Jobs"].rsplit("/", 1)[-1])
    account.client("sqs").set_queue_attributes(
        QueueUrl=queue["QueueUrl"], Attributes={"KmsMasterKeyId": "alias/other"}
    )

    _, findings = judge(account, "web")
    found = drift(findings)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{physical['Jobs'].rsplit('/', 1)[-1]}"
    assert set(found) == {
        ("AWS-DRIFT-002", group_arn(group)),
        ("AWS-DRIFT-003", group_arn(group)),
        ("AWS-DRIFT-004", bucket_arn),
        ("AWS-DRIFT-005", bucket_arn),
        ("AWS-DRIFT-007", queue_arn),
    }
    assert (
        "tcp 443 from 10.0.0.0/8 removed outside the template"
        in found[("AWS-DRIFT-002", group_arn(group))]
    )
    assert (
        "tcp 25 to 0.0.0.0/0 added; template: no rules;"
        in found[("AWS-DRIFT-003", group_arn(group))]
    )
    assert "BlockPublicPolicy changed outside the template" in found[("AWS-DRIFT-004", bucket_arn)]
    assert '"BlockPublicPolicy":false' in found[("AWS-DRIFT-004", bucket_arn)]
    assert found[("AWS-DRIFT-005", bucket_arn)].endswith(
        'template: [["AES256",null]]; live: not set'
    )
    assert found[("AWS-DRIFT-007", queue_arn)] == (
        f'{queue_arn} (web): KmsMasterKeyId: template: "alias/jobs"; live: "alias/other"'
    )


def test_resources_no_named_stack_manages_are_listed(account: Any) -> None:
    deploy(account)
    ec2 = account.client("ec2")
    by_hand = ec2.create_security_group(GroupName="by-hand", Description="made in the console")
    _, findings = judge(account, "web")
    unmanaged = {f.resource for f in findings if f.rule_id == "AWS-DRIFT-009"}
    assert unmanaged == {group_arn(by_hand["GroupId"])}  # not the VPC's default group
    message = next(f.message for f in findings if f.rule_id == "AWS-DRIFT-009")
    assert message == (
        f"AWS::EC2::SecurityGroup {by_hand['GroupId']} is managed by none of the named stacks"
    )
    # with no stack named, nothing is "unmanaged"
    _, findings = judge(account)
    assert not [f for f in findings if "DRIFT" in f.rule_id]


def test_a_deleted_managed_resource_is_drift(account: Any) -> None:
    physical = deploy(account)
    account.client("sqs").delete_queue(QueueUrl=physical["Jobs"])
    inventory, findings = judge(account, "web")
    stack_id = inventory.stacks[0].id  # type: ignore[index]
    assert drift(findings) == {
        ("AWS-DRIFT-008", f"{stack_id}/Jobs"): (
            f"{stack_id}/Jobs (web): Jobs: template: AWS::SQS::Queue {physical['Jobs']}; "
            "live: not found"
        )
    }


def test_a_missing_stack_is_not_assessed(account: Any) -> None:
    account.client("ec2").create_security_group(GroupName="by-hand", Description="console")
    inventory, findings = judge(account, "no-such-stack")
    assert inventory.stacks == []
    entries = [n for n in inventory.not_assessed if n.service == "cloudformation"]
    assert [(n.operation, n.reason, n.resource, n.region) for n in entries] == [
        ("cloudformation:DescribeStacks", "stack not found", "no-such-stack", REGION)
    ]
    blind = {f.resource: f.message for f in findings if f.rule_id == "AWS-ACCESS-001"}
    message = blind[f"{ACCOUNT}/{REGION}/cloudformation:DescribeStacks"]
    assert "stack not found" in message and "no-such-stack" in message
    assert "the drift checks (AWS-DRIFT-*) of that stack" in message
    assert not [f for f in findings if "DRIFT" in f.rule_id]  # nothing read: nothing listed


def test_a_stack_that_cannot_be_read_is_not_assessed(account: Any) -> None:
    """A role allowed everything but CloudFormation (moto enforces IAM policies on request)."""
    from moto.core import set_initial_no_auth_action_count

    deploy(account)
    session = seed.denied(account, ["cloudformation:GetTemplate"])
    read = set_initial_no_auth_action_count(0)(collect)
    inventory = read(Reader(session), regions=[REGION], services=["ec2"], stacks=["web"])
    assert inventory.stacks == []
    entries = [n for n in inventory.not_assessed if n.service == "cloudformation"]
    assert [(n.operation, n.reason) for n in entries] == [
        ("cloudformation:GetTemplate", "missing permission")
    ]
    report = evaluate(ArtifactType.AWS_INVENTORY, inventory.model_dump_json(), "aws")
    assert not [f for f in report.findings if "DRIFT" in f.rule_id]  # no "unmanaged" guess


# -- intrinsics ------------------------------------------------------------------------------


def _resolved(props: dict[str, Any], parameters: dict[str, Any] | None = None) -> Any:
    template = cfn.parse(
        json.dumps(
            {
                "Parameters": {"Secret": {"Type": "String", "NoEcho": True}},
                "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
                "Resources": {
                    "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
                    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": props},
                    "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
                },
            }
        ),
        parameters={"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, **(parameters or {})},
    )
    known = _Known(
        [
            {"LogicalResourceId": "Group", "ResourceType": "AWS::EC2::SecurityGroup",
             "PhysicalResourceId": "sg-0123"},
            {"LogicalResourceId": "Bucket", "ResourceType": "AWS::S3::Bucket",
             "PhysicalResourceId": "data-1"},
            {"LogicalResourceId": "Role", "ResourceType": "AWS::IAM::Role",
             "PhysicalResourceId": "role-1"},
        ],
        REGION, ACCOUNT, "aws",
    )  # fmt: skip
    return resolve_properties(template, template.resources["Bucket"].properties, known)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Group"}, "sg-0123"),
        ({"Fn::GetAtt": ["Group", "GroupId"]}, "sg-0123"),
        ({"Fn::GetAtt": "Bucket.Arn"}, "arn:aws:s3:::data-1"),
        ({"Fn::Sub": "${Bucket.Arn}/*"}, "arn:aws:s3:::data-1/*"),
        ({"Fn::Sub": "arn:aws:s3:::${Bucket}-${AWS::Region}"}, f"arn:aws:s3:::data-1-{REGION}"),
        ({"Fn::Sub": ["${Bucket}-${Name}", {"Name": "x"}]}, "data-1-x"),
        ({"Fn::Join": ["/", [{"Ref": "Bucket"}, "logs"]]}, "data-1/logs"),
        # what the stack does not tell stays an intrinsic: not comparable
        ({"Fn::GetAtt": ["Role", "Arn"]}, {"Fn::GetAtt": ["Role", "Arn"]}),
        ({"Ref": "Secret"}, {"Ref": "Secret"}),
        ({"Fn::ImportValue": "shared-cidr"}, {"Fn::ImportValue": "shared-cidr"}),
        ({"Fn::Sub": "${Role.Arn}"}, {"Fn::Sub": "${Role.Arn}"}),
    ],
)
def test_intrinsics_resolve_with_the_stack_or_stay_intrinsics(value: Any, expected: Any) -> None:
    assert _resolved({"Value": value}, {"Secret": cfn.UNRESOLVED}) == {"Value": expected}


def test_no_value_removes_the_property() -> None:
    props = {
        "A": {"Fn::If": ["Never", "x", {"Ref": "AWS::NoValue"}]},
        "B": [1, {"Ref": "AWS::NoValue"}],
    }
    assert _resolved(props) == {"B": [1]}


def test_an_unresolved_template_value_is_never_drift(account: Any) -> None:
    """An ingress rule whose source the stack cannot tell: the group's ingress is not compared,
    even though a rule was added outside the stack."""
    network = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"Cidr": {"Value": "10.0.0.0/8", "Export": {"Name": "shared-cidr"}}},
    }
    deploy(account, "network", network)
    template = json.loads(json.dumps(TEMPLATE))
    rule = template["Resources"]["WebGroup"]["Properties"]["SecurityGroupIngress"][0]
    rule["CidrIp"] = {"Fn::ImportValue": "shared-cidr"}  # another stack's export
    del template["Resources"]["Data"]
    physical = deploy(account, "secretive", template)
    account.client("ec2").authorize_security_group_ingress(
        GroupId=physical["WebGroup"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    inventory, findings = judge(account, "secretive", "network")
    managed = {r.logical_id: r for r in inventory.stacks[0].resources}  # type: ignore[index]
    assert managed["WebGroup"].properties["SecurityGroupIngress"][0]["CidrIp"] == {
        "Fn::ImportValue": "shared-cidr"
    }
    assert drift(findings) == {}


def test_a_no_echo_parameter_is_never_compared() -> None:
    stack = {
        "StackName": "web",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/web/1",
        "Parameters": [
            {"ParameterKey": "Secret", "ParameterValue": "****"},
            {"ParameterKey": "Cidr", "ParameterValue": "10.0.0.0/8"},
            {"ParameterKey": "Image", "ParameterValue": "/ami/latest", "ResolvedValue": "ami-1"},
        ],
    }
    values = _parameters(stack, REGION, ACCOUNT, "aws")
    assert values["Secret"] is cfn.UNRESOLVED
    assert (values["Cidr"], values["Image"], values["AWS::StackName"]) == (
        "10.0.0.0/8",
        "ami-1",
        "web",
    )


YAML_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Port:
    Type: Number
    Default: 443
Resources:
  Logs:
    Type: AWS::S3::Bucket
  Web:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub "web in front of ${Logs}"
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: !Ref Port
          ToPort: !Ref Port
          CidrIp: 10.0.0.0/8
"""


def test_a_yaml_template_with_short_form_intrinsics(account: Any) -> None:
    cloudformation = account.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="yaml", TemplateBody=YAML_TEMPLATE)
    inventory, findings = judge(account, "yaml")
    managed = {r.logical_id: r for r in inventory.stacks[0].resources}  # type: ignore[index]
    bucket = managed["Logs"].physical_id
    assert managed["Web"].properties == {
        "GroupDescription": f"web in front of {bucket}",
        "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": "443", "ToPort": "443", "CidrIp": "10.0.0.0/8"}
        ],
    }  # parameter values are text, as the stack holds them: compared as port numbers
    assert drift(findings) == {}


CHILD: dict[str, Any] = {
    "Resources": {
        "Edge": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "https from the internal network",
                "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}
                ],
            },
        }
    }
}


def _deploy_nested(session: Any) -> tuple[str, str]:
    """A stack `platform` whose `Network` resource is a nested stack holding a security group
    (its own `Inner` stack one level further down); the group's id and the nested stack's."""
    s3 = session.client("s3")
    s3.create_bucket(Bucket="templates")
    inner = {"Resources": {"Inner": {"Type": "AWS::SQS::Queue", "Properties": {}}}}
    s3.put_object(Bucket="templates", Key="inner.json", Body=json.dumps(inner))
    child = json.loads(json.dumps(CHILD))
    child["Resources"]["Deeper"] = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": "https://templates.s3.amazonaws.com/inner.json"},
    }
    s3.put_object(Bucket="templates", Key="network.json", Body=json.dumps(child))
    parent = {
        "Resources": {
            "Network": {
                "Type": "AWS::CloudFormation::Stack",
                "Properties": {"TemplateURL": "https://templates.s3.amazonaws.com/network.json"},
            }
        }
    }
    cloudformation = session.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="platform", TemplateBody=json.dumps(parent))
    [nested] = cloudformation.list_stack_resources(StackName="platform")["StackResourceSummaries"]
    listed = cloudformation.list_stack_resources(StackName=nested["PhysicalResourceId"])
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"] for r in listed["StackResourceSummaries"]
    }
    return physical["Edge"], nested["PhysicalResourceId"]


def test_drift_follows_nested_stacks(account: Any) -> None:
    group, _ = _deploy_nested(account)
    inventory, findings = judge(account, "platform")
    assert [s.name for s in inventory.stacks or []] == [
        "platform", "platform/Network", "platform/Network/Deeper",
    ]  # fmt: skip
    # the nested stacks' group and queue are managed, and as declared: only the bucket that
    # holds the templates, made by hand, is unmanaged
    assert set(drift(findings)) == {("AWS-DRIFT-009", "arn:aws:s3:::templates")}

    account.client("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )  # fmt: skip
    _, findings = judge(account, "platform")
    found = drift(findings)
    assert set(found) == {
        ("AWS-DRIFT-001", group_arn(group)), ("AWS-DRIFT-009", "arn:aws:s3:::templates"),
    }  # fmt: skip
    assert found[("AWS-DRIFT-001", group_arn(group))].startswith(
        f"{group_arn(group)} (platform/Network): SecurityGroupIngress: tcp 22 from 0.0.0.0/0 "
        "added outside the template"
    )
