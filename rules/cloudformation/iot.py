"""AWS IoT Core policies: what a device certificate or identity may do, and on what."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules.cloudformation.iam import allows, policy_variants, statement_line, statements, texts

_IOT_DOCS = "https://docs.aws.amazon.com/iot/latest/developerguide"
_POLICY = "AWS::IoT::Policy"


def _strings(tpl: Template, value: object) -> list[str]:
    return [v.strip() for v in texts(tpl, value) if isinstance(v, str)]


@rule(
    id="CF-IOT-001",
    controls=("nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="IoT policy allows every IoT action",
    severity="medium",
    resource_types=("AWS::IoT::Policy",),
    description=(
        '`Action: "iot:*"` (or `"*"`) in an AWS::IoT::Policy lets every device holding an '
        "attached certificate connect, publish, subscribe, and read or update any shadow and "
        "job it can name: one stolen device certificate then speaks for the whole fleet. "
        "AWS IoT Device Defender audits this as an overly permissive policy."
    ),
    remediation=(
        "Allow the actions a device needs, on its own client id and topics:\n```yaml\n"
        "- Effect: Allow\n  Action: iot:Connect\n"
        "  Resource: !Sub 'arn:aws:iot:${AWS::Region}:${AWS::AccountId}:client/"
        "${!iot:Connection.Thing.ThingName}'\n- Effect: Allow\n  Action: iot:Publish\n"
        "  Resource: !Sub 'arn:aws:iot:${AWS::Region}:${AWS::AccountId}:topic/telemetry/"
        "${!iot:Connection.Thing.ThingName}'\n```"
    ),
    references=(
        f"{_IOT_DOCS}/audit-chk-iot-policy-permissive.html",
        f"{_IOT_DOCS}/iot-policies.html",
    ),
)
def iot_every_action(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_POLICY):
        documents, _ = policy_variants(tpl, res.prop("PolicyDocument"))
        for statement in (s for document in documents for s in statements(document)):
            if not allows(tpl, statement):
                continue
            wild = [a for a in _strings(tpl, statement.get("Action")) if a in ("*", "iot:*")]
            if wild:
                yield Hit(
                    f"a statement allows Action {wild[0]!r}",
                    statement_line(res, statement, "Action", "PolicyDocument"),
                    res.logical_id,
                )
                break


@rule(
    id="CF-IOT-002",
    controls=("nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="IoT policy applies to every client, topic and thing",
    severity="medium",
    resource_types=("AWS::IoT::Policy",),
    description=(
        '`Resource: "*"` in an AWS::IoT::Policy statement lets a device use the allowed '
        "actions with any client id (disconnecting or impersonating other devices), on any "
        "topic (reading or forging other devices' messages) and on any thing's shadow. "
        "Policy variables such as ${iot:Connection.Thing.ThingName} scope a shared policy "
        "to each device."
    ),
    remediation=(
        "Scope resources to the connecting thing:\n```yaml\n- Effect: Allow\n"
        "  Action: iot:Subscribe\n  Resource: !Sub 'arn:aws:iot:${AWS::Region}:"
        "${AWS::AccountId}:topicfilter/commands/${!iot:Connection.Thing.ThingName}'\n```"
    ),
    references=(
        f"{_IOT_DOCS}/iot-policy-variables.html",
        f"{_IOT_DOCS}/audit-chk-iot-policy-permissive.html",
    ),
)
def iot_every_resource(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_POLICY):
        documents, _ = policy_variants(tpl, res.prop("PolicyDocument"))
        for statement in (s for document in documents for s in statements(document)):
            if allows(tpl, statement) and "*" in _strings(tpl, statement.get("Resource")):
                yield Hit(
                    "a statement allows its actions on Resource '*'",
                    statement_line(res, statement, "Resource", "PolicyDocument"),
                    res.logical_id,
                )
                break
