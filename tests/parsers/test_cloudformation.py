"""The CloudFormation parser: intrinsics, line numbers and hostile documents."""

from __future__ import annotations

import contextlib
import json
import random

import pytest

from chalicelib.models import ArtifactType
from chalicelib.parsers import ParseError
from chalicelib.parsers import parse as parse_any
from chalicelib.parsers.cloudformation import (
    NO_VALUE,
    UNRESOLVED,
    LineDict,
    is_intrinsic,
    parse,
)

TEMPLATE = """\
AWSTemplateFormatVersion: 2010-09-09
Parameters:
  Env:
    Type: String
    Default: prod
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Condition: IsProd
    Metadata:
      Owner: data
    Properties:
      BucketName: !Sub "${AWS::StackName}-data"
      Tags:
        - Key: env
          Value: !Ref Env
  Role:
    Type: AWS::IAM::Role
    Properties:
      Arn: !GetAtt Bucket.Arn
      Other: !GetAtt [Bucket, DomainName]
      Pick: !Select [0, !GetAZs ""]
      Joined: !Join ["-", [!Ref Env, !ImportValue shared-name]]
      Choice: !If [IsProd, !FindInMap [Map, !Ref Env, Key], !Ref "AWS::NoValue"]
      Logic: !And [!Not [!Condition IsProd], !Or [!Equals [a, b], !Condition IsProd]]
      Split: !Split [",", "a,b"]
      Encoded: !Base64 hello
      Net: !Cidr [10.0.0.0/16, 4, 8]
      Custom: !Length [1, 2]
"""


def test_short_form_tags_become_long_form() -> None:
    tpl = parse(TEMPLATE)
    bucket, role = tpl.resources["Bucket"], tpl.resources["Role"]
    assert bucket.properties["BucketName"] == {"Fn::Sub": "${AWS::StackName}-data"}
    assert bucket.properties["Tags"][0]["Value"] == {"Ref": "Env"}
    props = role.properties
    assert props["Arn"] == {"Fn::GetAtt": ["Bucket", "Arn"]}
    assert props["Other"] == {"Fn::GetAtt": ["Bucket", "DomainName"]}
    assert props["Pick"] == {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
    assert props["Joined"] == {
        "Fn::Join": ["-", [{"Ref": "Env"}, {"Fn::ImportValue": "shared-name"}]]
    }
    assert props["Choice"] == {
        "Fn::If": [
            "IsProd",
            {"Fn::FindInMap": ["Map", {"Ref": "Env"}, "Key"]},
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert props["Logic"] == {
        "Fn::And": [
            {"Fn::Not": [{"Condition": "IsProd"}]},
            {"Fn::Or": [{"Fn::Equals": ["a", "b"]}, {"Condition": "IsProd"}]},
        ]
    }
    assert props["Split"] == {"Fn::Split": [",", "a,b"]}
    assert props["Encoded"] == {"Fn::Base64": "hello"}
    assert props["Net"] == {"Fn::Cidr": ["10.0.0.0/16", 4, 8]}
    assert props["Custom"] == {"Fn::Length": [1, 2]}
    assert tpl.conditions["IsProd"] == {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
    assert is_intrinsic(props["Arn"]) and not is_intrinsic({"Ref": 1, "x": 2})


def test_model_and_line_numbers() -> None:
    tpl = parse(TEMPLATE)
    assert tpl.format_version == "2010-09-09"  # dates are not turned into datetime.date
    bucket, role = tpl.resources["Bucket"], tpl.resources["Role"]
    assert list(tpl.resources) == ["Bucket", "Role"]
    assert (bucket.type, bucket.line, bucket.condition) == ("AWS::S3::Bucket", 9, "IsProd")
    assert bucket.metadata == {"Owner": "data"}
    assert isinstance(bucket.properties, LineDict)
    assert bucket.properties.lines["BucketName"] == 15
    assert bucket.prop_line("BucketName") == 15
    assert bucket.prop_line("Tags", 0, "Value") == 18
    assert bucket.prop_line("Tags", 0) == 17
    assert bucket.prop_line("Missing", "Deeper") == 9  # falls back to the resource
    assert bucket.prop("Tags", 0, "Key") == "env"
    assert bucket.prop("Tags", 5, default="none") == "none"
    assert role.line == 19 and role.prop_line("Custom") == 31


def test_possible_values() -> None:
    tpl = parse(TEMPLATE)
    assert tpl.possible_values({"Ref": "Env"}) == ["prod"]
    assert tpl.possible_values("literal") == ["literal"]
    assert tpl.possible_values({"Ref": "AWS::NoValue"}) == [NO_VALUE]
    assert tpl.possible_values({"Ref": "AWS::Region"}) == [UNRESOLVED]
    assert tpl.possible_values({"Fn::GetAtt": ["Bucket", "Arn"]}) == [UNRESOLVED]
    assert tpl.possible_values({"Fn::If": ["IsProd", True, {"Ref": "Env"}]}) == [True, "prod"]


def test_allowed_values_without_default() -> None:
    tpl = parse(
        "Parameters:\n  Flag: {Type: String, AllowedValues: ['true', 'false']}\n"
        "Resources:\n  V: {Type: AWS::EC2::Volume}\n"
    )
    assert tpl.possible_values({"Ref": "Flag"}) == ["true", "false"]


def test_json_template_keeps_lines_even_with_tabs() -> None:
    text = (
        '{\n\t"AWSTemplateFormatVersion": "2010-09-09",\n\t"Resources": {\n'
        '\t\t"Queue": {\n\t\t\t"Type": "AWS::SQS::Queue",\n'
        '\t\t\t"Properties": {"DelaySeconds": 5, "Url": "http:\\/\\/x"}\n\t\t}\n\t}\n}\n'
    )
    tpl = parse(text)
    queue = tpl.resources["Queue"]
    assert queue.line == 4 and queue.prop_line("DelaySeconds") == 6
    assert queue.properties == {"DelaySeconds": 5, "Url": "http://x"}


def test_json_that_yaml_cannot_read_falls_back_to_json() -> None:
    long_key = "k" * 2000  # YAML limits implicit keys to 1024 characters
    text = json.dumps(
        {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {long_key: 1}}}}, indent=2
    )
    tpl = parse(text)
    assert tpl.resources["Q"].properties[long_key] == 1
    assert tpl.resources["Q"].line is None  # no lines on this path, but no failure either


def test_invalid_json_says_where() -> None:
    with pytest.raises(ParseError, match=r"invalid JSON at line 3, column 3"):
        parse('{\n  "Resources": {}\n  "Outputs": {}\n}')


def test_invalid_yaml_says_where() -> None:
    with pytest.raises(ParseError, match=r"invalid YAML at line 3, column 15"):
        parse("Mappings:\n  MyMap:\n    MyKey: Ref: AWS::NoValue\n")


def test_duplicate_keys_last_wins() -> None:
    tpl = parse("Resources:\n  A: {Type: AWS::SNS::Topic}\n  A: {Type: AWS::SQS::Queue}\n")
    assert tpl.resources["A"].type == "AWS::SQS::Queue"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just a string", "not a mapping: this is not a CloudFormation template"),
        ("- a\n- b\n", "not a mapping"),
        ("Description: x\n", "no Resources section: this is not a CloudFormation template"),
        ('{"Parameters": {}}', "no Resources section"),
        ("Resources:\n  - S3::Bucket\n", "the Resources section is a list"),
        ("Resources:\n  A: 3\n", "line 2: resource 'A' is not a mapping"),
        ("Resources:\n  A:\n    Properties: {}\n", "line 2: resource 'A' has no Type"),
        ("Resources: !!python/object:os.system {}\n", "invalid YAML"),
        ("a: 1\n---\nb: 2\n", "invalid YAML"),
    ],
)
def test_not_a_template(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(text)


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append("Resources: {X: {Type: AWS::SNS::Topic, Properties: {P: *a8}}}")
    with pytest.raises(ParseError, match="alias"):
        parse("\n".join(lines))


def test_too_many_aliases_are_refused() -> None:
    refs = "\n".join(f"  k{i}: *v" for i in range(150))
    with pytest.raises(ParseError, match="more than 100 YAML aliases"):
        parse(f"v: &v 1\nResources:\n  X: {{Type: AWS::SNS::Topic}}\nm:\n{refs}\n")


def test_a_few_aliases_are_fine() -> None:
    tpl = parse(
        "x-tags: &tags [{Key: team, Value: data}]\n"
        "Resources:\n  T: {Type: AWS::SNS::Topic, Properties: {Tags: *tags}}\n"
    )
    assert tpl.resources["T"].properties["Tags"] == [{"Key": "team", "Value": "data"}]


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ParseError, match="refers to itself"):
        parse("a: &a [1, *a]\nResources: {}\n")


@pytest.mark.parametrize(
    "text",
    [
        "Resources: " + "[" * 200 + "]" * 200,
        "Resources:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(100)) + "v",
        '{"Resources": ' + '{"a": ' * 200 + "1" + "}" * 200 + "}",
        '{"' + "k" * 2000 + '": 1, "Resources": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}",
    ],
    ids=["yaml-flow", "yaml-block", "json", "json-fallback"],
)
def test_deep_nesting_is_refused(text: str) -> None:
    with pytest.raises(ParseError, match="nested more than 64 levels"):
        parse(text)


@pytest.mark.parametrize("text", ["", "\n\n", "\x00\x01\x02", "Resources:\n  A: \x07"])
def test_empty_and_binary_input(text: str) -> None:
    with pytest.raises(ParseError):
        parse_any(ArtifactType.CLOUDFORMATION, text)


def test_control_character_is_reported_with_its_line() -> None:
    with pytest.raises(ParseError, match=r"line 2: .*#x0007"):
        parse("Resources:\n  A: \x07\n")


def test_random_input_only_raises_parse_error() -> None:
    rng = random.Random(4321)
    alphabet = "Resources:Type !Ref!GetAtt&a*a[]{}-\"' \n\t#|>?,.\\\x01"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        with contextlib.suppress(ParseError):  # anything else fails the test
            parse(text)
