"""The CloudFormation parser: intrinsics, line numbers and hostile documents."""

from __future__ import annotations

import contextlib
import json
import random
import time

import pytest

from chalicelib.models import ArtifactType
from chalicelib.parsers import ParseError
from chalicelib.parsers import parse as parse_any
from chalicelib.parsers.cloudformation import (
    MAX_COMBINATIONS,
    NO_VALUE,
    UNRESOLVED,
    LineDict,
    Possible,
    Template,
    describe_when,
    is_intrinsic,
    parse,
    using_parameters,
)
from rules.cloudformation._helpers import require_true

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
    assert bucket.prop_line("Missing", "Deeper") == 14  # falls back to Properties
    assert bucket.properties_line == 14
    bare = parse("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n").resources["Topic"]
    assert bare.prop_line("TopicName") == bare.properties_line == 2  # no Properties: the resource
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
    # IsProd is decidable (Env defaults to prod, no other value is allowed): one branch only
    assert tpl.possible_values({"Fn::If": ["IsProd", True, {"Ref": "Env"}]}) == [True]


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
        ("a: 1\n---\nb: 2\n", "line 2: a second YAML document starts here"),
    ],
)
def test_not_a_template(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(text)


def test_a_second_yaml_document_is_refused_with_its_line() -> None:
    text = "Resources:\n  A: {Type: AWS::SNS::Topic}\n---\nResources:\n  B: {Type: AWS::SQS::Queue}"
    with pytest.raises(ParseError, match=r"^line 3: a second YAML document starts here") as info:
        parse(text)
    assert "single document" in str(info.value)


def test_an_indented_template_is_read() -> None:
    tpl = parse(" Resources:\n  Topic:\n      Type: AWS::SNS::Topic\n      Properties: {}\n")
    assert tpl.resources["Topic"].type == "AWS::SNS::Topic"
    assert tpl.resources["Topic"].line == 2


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


# -- resolution ------------------------------------------------------------------------------

RESOLVE = """\
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Name: {Type: String, Default: app}
  Open: {Type: String}
  Zones: {Type: CommaDelimitedList, Default: "a, b,c"}
  Ami: {Type: "AWS::SSM::Parameter::Value<String>", Default: /aws/ami}
Mappings:
  Sizes:
    dev: {Disk: 10, Encrypt: "false"}
    prod: {Disk: 100, Encrypt: "true"}
  Accounts:
    123456789012: {Name: main}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  IsOpen: !Equals [!Ref Open, "yes"]
  Never: !Equals [false, true]
  Always: !Or [!Condition Never, !Equals [!Ref Name, app]]
  Both: !And [!Condition IsProd, !Condition IsOpen]
Resources:
  Gone:
    Type: AWS::S3::Bucket
    Condition: Never
  Maybe:
    Type: AWS::S3::Bucket
    Condition: IsOpen
  Kept:
    Type: AWS::S3::Bucket
    Condition: Always
  Plain:
    Type: AWS::S3::Bucket
"""


def _values(tpl: Template, value: object) -> list[object]:
    return tpl.possible_values(value)


def test_parameters_default_allowed_supplied_and_typed() -> None:
    tpl = parse(RESOLVE)
    assert _values(tpl, {"Ref": "Name"}) == ["app"]
    assert _values(tpl, {"Ref": "Env"}) == ["dev", "prod"]  # the Default first, then the rest
    assert _values(tpl, {"Ref": "Open"}) == [UNRESOLVED]
    assert _values(tpl, {"Ref": "Zones"}) == [["a", "b", "c"]]
    assert _values(tpl, {"Ref": "Ami"}) == [UNRESOLVED]  # read from SSM at deploy time
    assert _values(tpl, {"Ref": "Plain"}) == [UNRESOLVED]  # a resource's physical id
    supplied = parse(RESOLVE, parameters={"Env": "prod", "Open": "yes", "Zones": "x,y"})
    assert _values(supplied, {"Ref": "Env"}) == ["prod"]
    assert _values(supplied, {"Ref": "Zones"}) == [["x", "y"]]
    assert supplied.condition_value("Both") is True
    assert tpl.with_parameters({"Open": "no"}).condition_value("IsOpen") is False
    assert tpl.condition_value("IsOpen") is None  # the original is untouched


def test_parameters_supplied_through_the_engine_entry_point() -> None:
    with using_parameters({"Open": "yes", "AWS::Region": "eu-west-1"}):
        tpl = parse_any(ArtifactType.CLOUDFORMATION, RESOLVE)
    assert tpl.condition_value("IsOpen") is True
    assert _values(tpl, {"Fn::Sub": "${AWS::Region}"}) == ["eu-west-1"]
    assert parse(RESOLVE).supplied_parameters == {}  # the block is over


def test_pseudo_parameters() -> None:
    tpl = parse(RESOLVE)
    assert _values(tpl, {"Ref": "AWS::NoValue"}) == [NO_VALUE]
    assert _values(tpl, {"Ref": "AWS::Partition"}) == ["aws"]
    assert _values(tpl, {"Ref": "AWS::URLSuffix"}) == ["amazonaws.com"]
    for name in ("AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId"):
        assert _values(tpl, {"Ref": name}) == [UNRESOLVED]
    assert _values(
        tpl.with_parameters({"AWS::Partition": "aws-cn"}), {"Ref": "AWS::Partition"}
    ) == ["aws-cn"]


def test_find_in_map() -> None:
    tpl = parse(RESOLVE)
    assert _values(tpl, {"Fn::FindInMap": ["Sizes", "prod", "Disk"]}) == [100]
    assert _values(tpl, {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Encrypt"]}) == [
        "false",
        "true",
    ]
    assert _values(tpl, {"Fn::FindInMap": ["Accounts", "123456789012", "Name"]}) == ["main"]
    assert _values(tpl, {"Fn::FindInMap": ["Sizes", "test", "Disk"]}) == [UNRESOLVED]
    assert _values(tpl, {"Fn::FindInMap": ["Sizes", {"Ref": "AWS::Region"}, "Disk"]}) == [
        UNRESOLVED
    ]
    default = {"Fn::FindInMap": ["Sizes", "test", "Disk", {"DefaultValue": 5}]}
    assert _values(tpl, default) == [5]


def test_sub_both_forms() -> None:
    tpl = parse(RESOLVE)
    assert _values(tpl, {"Fn::Sub": "${Name}-${AWS::Partition}"}) == ["app-aws"]
    assert _values(tpl, {"Fn::Sub": "arn:${AWS::Partition}:s3:::${AWS::Region}"}) == [UNRESOLVED]
    assert _values(tpl, {"Fn::Sub": "${Plain.Arn}/*"}) == [UNRESOLVED]
    assert _values(tpl, {"Fn::Sub": "${!Literal}-${Name}"}) == ["${Literal}-app"]
    assert _values(tpl, {"Fn::Sub": "no variables"}) == ["no variables"]
    listed = {"Fn::Sub": ["${A}-${Name}", {"A": {"Fn::FindInMap": ["Sizes", "dev", "Disk"]}}]}
    assert _values(tpl, listed) == ["10-app"]
    assert _values(tpl, {"Fn::Sub": ["${Env}", {}]}) == ["dev", "prod"]
    assert _values(tpl, {"Fn::Sub": "${Zones}"}) == [UNRESOLVED]  # a list is not a string
    assert _values(
        tpl.with_parameters({"AWS::Region": "us-east-1"}), {"Fn::Sub": "${AWS::Region}"}
    ) == ["us-east-1"]


def test_join_select_split() -> None:
    tpl = parse(RESOLVE)
    assert _values(tpl, {"Fn::Join": ["-", ["a", {"Ref": "Name"}, 3, True]]}) == ["a-app-3-true"]
    assert _values(tpl, {"Fn::Join": [",", {"Ref": "Zones"}]}) == ["a,b,c"]
    assert _values(tpl, {"Fn::Join": ["", ["x", {"Ref": "AWS::NoValue"}, "y"]]}) == ["xy"]
    assert _values(tpl, {"Fn::Join": ["", ["x", {"Fn::GetAtt": ["Plain", "Arn"]}]]}) == [UNRESOLVED]
    assert _values(tpl, {"Fn::Select": [1, {"Ref": "Zones"}]}) == ["b"]
    assert _values(tpl, {"Fn::Select": ["0", ["first", {"Fn::GetAtt": ["P", "A"]}]]}) == ["first"]
    assert _values(tpl, {"Fn::Select": [0, {"Fn::GetAZs": ""}]}) == [UNRESOLVED]
    assert _values(tpl, {"Fn::Select": [9, ["a"]]}) == [UNRESOLVED]
    split = {"Fn::Select": [2, {"Fn::Split": ["/", "arn/aws/x"]}]}
    assert _values(tpl, split) == ["x"]
    assert _values(tpl, {"Fn::Split": [",", {"Fn::Join": [",", ["a", "b"]]}]}) == [["a", "b"]]
    assert _values(tpl, {"Fn::Base64": "hi"}) == ["aGk="]
    assert _values(tpl, {"Fn::Length": {"Ref": "Zones"}}) == [3]


def test_conditions() -> None:
    tpl = parse(RESOLVE)
    assert tpl.condition_value("Never") is False
    assert tpl.condition_value("Always") is True
    assert tpl.condition_value("IsProd") is None  # Env may be dev or prod
    assert tpl.condition_value("IsDev") is None
    assert tpl.condition_value("Both") is None
    assert tpl.condition_value("Missing") is None
    assert tpl.condition_value("IsDev", {"IsProd": True}) is False
    assert tpl.condition_value("Both", {"IsOpen": False}) is False


def test_if_with_decidable_and_undecidable_conditions() -> None:
    tpl = parse(RESOLVE)
    assert _values(tpl, {"Fn::If": ["Always", "on", "off"]}) == ["on"]
    assert _values(tpl, {"Fn::If": ["Never", "on", {"Ref": "AWS::NoValue"}]}) == [NO_VALUE]
    value = {"Fn::If": ["IsProd", True, {"Ref": "AWS::NoValue"}]}
    assert tpl.possible_values_with_conditions(value) == [
        Possible(True, frozenset({("IsProd", True)})),
        Possible(NO_VALUE, frozenset({("IsProd", False)})),
    ]
    assert tpl.possible_values_with_conditions(value, {"IsProd": True}) == [Possible(True)]
    # the same condition twice is decided once per branch: 2 combinations, not 4
    twice = {"Fn::Join": ["", [{"Fn::If": ["IsProd", "a", "b"]}, {"Fn::If": ["IsProd", "c", "d"]}]]}
    assert _values(tpl, twice) == ["ac", "bd"]
    # IsDev is the negation of IsProd: contradicting combinations are dropped
    implied = {"Fn::Join": ["", [{"Fn::If": ["IsProd", "p", ""]}, {"Fn::If": ["IsDev", "d", ""]}]]}
    assert _values(tpl, implied) == ["p", "d"]
    assert _values(tpl, {"Fn::If": ["Unknown", 1, 2]}) == [1, 2]
    assert _values(tpl, {"Condition": "Always"}) == [True]
    assert describe_when(frozenset({("IsProd", False)})) == "when condition IsProd is false"
    assert describe_when(frozenset({("B", True), ("A", False)})) == (
        "when conditions A is false and B is true"
    )
    assert describe_when(frozenset()) == ""


def test_helper_messages_name_the_condition() -> None:
    tpl = parse(
        "Parameters:\n  Stage: {Type: String}\n"
        "Conditions:\n  IsProd: !Equals [!Ref Stage, prod]\n"
        "Resources:\n"
        "  V:\n    Type: AWS::EC2::Volume\n"
        "    Properties: {Encrypted: !If [IsProd, true, !Ref AWS::NoValue]}\n"
        "  W:\n    Type: AWS::EC2::Volume\n    Condition: IsProd\n"
        "    Properties: {Encrypted: !If [IsProd, true, false]}\n"
        "  X:\n    Type: AWS::EC2::Volume\n"
        "    Properties: {Encrypted: !If [IsProd, !GetAtt K.Arn, true]}\n"
    )
    hit = require_true(tpl, tpl.resources["V"], "Encrypted", what="encryption")
    assert hit is not None and hit.line == 8
    assert "when condition IsProd is false" in hit.message
    # W only exists when IsProd is true, and then it is encrypted
    assert require_true(tpl, tpl.resources["W"], "Encrypted", what="encryption") is None
    hit = require_true(tpl, tpl.resources["X"], "Encrypted", what="encryption")
    assert hit is not None and "cannot be resolved" in hit.message
    assert "when condition IsProd is true" in hit.message


def test_resource_conditions_and_of_type() -> None:
    tpl = parse(RESOLVE)
    assert tpl.resources["Gone"].condition == "Never"
    ids = [r.logical_id for r in tpl.of_type("AWS::S3::Bucket")]
    assert ids == ["Maybe", "Kept", "Plain"]  # Gone is never created
    all_ids = [r.logical_id for r in tpl.of_type("AWS::S3::Bucket", include_disabled=True)]
    assert all_ids == ["Gone", "Maybe", "Kept", "Plain"]
    assert [r.logical_id for r in tpl.all_resources()] == ["Maybe", "Kept", "Plain"]
    assert len(list(tpl.all_resources(include_disabled=True))) == 4


def test_combinations_are_capped() -> None:
    count = 30
    params = "".join(f"  P{i}: {{Type: String}}\n" for i in range(count))
    conditions = "".join(f"  C{i}: !Equals [!Ref P{i}, x]\n" for i in range(count))
    chained = "".join(
        f"  D{i}: !And [!Condition {'D' + str(i - 1) if i else 'C0'}, !Condition C{i}]\n"
        for i in range(count)
    )
    independent = ", ".join(f"!If [C{i}, a, b]" for i in range(count))
    nested = "z"
    for i in range(count):
        nested = f"!If [C{i}, v{i}, {nested}]"
    text = (
        f"Parameters:\n{params}Conditions:\n{conditions}{chained}"
        "  Loop1: !Condition Loop2\n  Loop2: !Not [!Condition Loop1]\n"
        "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Condition: D29\n    Properties:\n"
        f"      Independent: !Join ['', [{independent}]]\n"
        f"      Nested: {nested}\n"
        "      Chained: !If [D29, up, down]\n"
        "      Loop: !If [Loop1, up, down]\n"
    )
    started = time.perf_counter()
    tpl = parse(text)
    res = tpl.resources["R"]
    assert tpl.possible_values(res.prop("Independent")) == [UNRESOLVED]  # 2**30 > cap
    nested_values = tpl.possible_values(res.prop("Nested"))
    assert len(nested_values) == count + 1 <= MAX_COMBINATIONS
    assert tpl.possible_values_with_conditions(res.prop("Nested"))[-1].when == frozenset(
        (f"C{i}", False) for i in range(count)
    )
    chained_values = tpl.possible_values_with_conditions(res.prop("Chained"))
    assert [p.value for p in chained_values] == ["up", "down"]
    assert tpl.possible_values(res.prop("Chained")) == ["up", "down"]
    assert tpl.possible_values_with_conditions(res.prop("Chained"), {"D29": True}) == [
        Possible("up")
    ]
    assert tpl.possible_values(res.prop("Loop")) == ["up", "down"]  # circular: undecided
    assert [r.logical_id for r in tpl.of_type("AWS::SNS::Topic")] == ["R"]
    assert time.perf_counter() - started < 2


def test_intrinsics_that_explode_stay_bounded() -> None:
    value: object = "x"
    for i in range(12):  # every level doubles the work without the per-level cap
        value = {
            "Fn::Join": ["", [{"Fn::If": [f"C{i}", value, "a"]}, {"Fn::If": ["D", value, "b"]}]]
        }
    conditions = {f"C{i}": {"Fn::Equals": [{"Ref": "P"}, str(i)]} for i in range(12)}
    conditions["D"] = {"Fn::Equals": [{"Ref": "P"}, "d"]}
    tpl = Template(resources={}, parameters={"P": {"Type": "String"}}, conditions=conditions)
    started = time.perf_counter()
    assert tpl.possible_values(value) == [UNRESOLVED]
    assert time.perf_counter() - started < 2


# -- SAM -------------------------------------------------------------------------------------

SAM = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Environment:
      Variables:
        API_TOKEN: from-globals
Conditions:
  Never: !Equals [a, b]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      InlineCode: print(1)
      Tracing: Active
      Environment:
        Variables:
          STAGE: prod
      Policies:
        - Statement: [{Effect: Allow, Action: "*", Resource: "*"}]
      Tags: {team: data}
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      TracingEnabled: true
      EndpointConfiguration: {Type: PRIVATE}
      MethodSettings: [{HttpMethod: "*", ResourcePath: "/*", LoggingLevel: INFO}]
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      AccessLogSettings: {DestinationArn: arn, Format: x}
  Table:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: pk, Type: Number}
      SSESpecification: {SSEEnabled: true}
  Disabled:
    Type: AWS::Serverless::Function
    Condition: Never
    Properties: {Handler: a.b, CodeUri: "s3://bucket/key.zip"}
  Native:
    Type: AWS::Lambda::Function
    Properties: {Runtime: nodejs20.x}
"""


def test_sam_resources_seen_as_cloudformation_types() -> None:
    tpl = parse(SAM)
    assert tpl.is_sam
    assert [r.logical_id for r in tpl.of_type("AWS::Lambda::Function")] == ["Native"]
    functions = list(tpl.of_type("AWS::Lambda::Function", include_sam=True))
    assert [(r.logical_id, r.sam_type) for r in functions] == [
        ("Fn", "AWS::Serverless::Function"),
        ("Native", None),
    ]
    fn = functions[0]
    assert fn.type == "AWS::Lambda::Function" and fn.line == 11
    assert fn.prop("Runtime") == "python3.12"  # from Globals
    assert fn.prop("Environment", "Variables") == {"API_TOKEN": "from-globals", "STAGE": "prod"}
    assert fn.prop_line("Environment", "Variables", "STAGE") == 19
    assert fn.prop_line("Environment", "Variables", "API_TOKEN") == 7
    assert fn.prop("Code") == {"ZipFile": "print(1)"} and fn.prop_line("Code", "ZipFile") == 15
    assert fn.prop("TracingConfig", "Mode") == "Active"
    assert fn.prop("Tags") == [{"Key": "team", "Value": "data"}]
    assert fn.prop("Role") == {"Fn::GetAtt": ["FnRole", "Arn"]}
    assert fn.prop("Policies", 0, "Statement", 0, "Action") == "*"
    assert "InlineCode" not in fn.properties and "Tracing" not in fn.properties
    assert tpl.resources["Fn"].prop("Runtime") is None  # the resource as written is unchanged
    disabled = tpl.sam_expansion(tpl.resources["Disabled"])[0]
    assert disabled.prop("Code") == {"S3Bucket": "bucket", "S3Key": "key.zip"}
    assert disabled.condition == "Never"
    # asking for the SAM type itself gives it once, as written
    both = list(tpl.of_type("AWS::Lambda::Function", "AWS::Serverless::Function", include_sam=True))
    assert [(r.logical_id, r.type) for r in both] == [
        ("Fn", "AWS::Serverless::Function"),
        ("Native", "AWS::Lambda::Function"),
    ]


def test_sam_apis_and_tables() -> None:
    tpl = parse(SAM)
    (stage,) = tpl.of_type("AWS::ApiGateway::Stage", include_sam=True)
    assert (stage.logical_id, stage.prop("StageName"), stage.prop("TracingEnabled")) == (
        "Api",
        "prod",
        True,
    )
    assert stage.prop("MethodSettings", 0, "LoggingLevel") == "INFO"
    (rest,) = tpl.of_type("AWS::ApiGateway::RestApi", include_sam=True)
    assert rest.prop("EndpointConfiguration", "Types") == ["PRIVATE"]
    (http_stage,) = tpl.of_type("AWS::ApiGatewayV2::Stage", include_sam=True)
    assert http_stage.prop("StageName") == "$default"
    assert http_stage.prop("AccessLogSettings", "Format") == "x"
    (http_api,) = tpl.of_type("AWS::ApiGatewayV2::Api", include_sam=True)
    assert http_api.prop("ProtocolType") == "HTTP"
    (table,) = tpl.of_type("AWS::DynamoDB::Table", include_sam=True)
    assert table.prop("SSESpecification", "SSEEnabled") is True
    assert table.prop("KeySchema") == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table.prop("AttributeDefinitions", 0, "AttributeType") == "N"
    assert table.prop("BillingMode") == "PAY_PER_REQUEST"
    assert table.prop_line("SSESpecification", "SSEEnabled") == 38
