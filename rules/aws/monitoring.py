"""Monitoring (CIS AWS Foundations section 4): for each kind of sensitive API activity, a
metric filter on the log group a multi-region trail sends its events to, and an alarm with an
action on the filter's metric. One rule per kind of activity, built from its filter terms."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.engine.registry import Hit
from chalicelib.posture.inventory import Inventory
from rules.aws._helpers import CIS, FSBP, account_rule, where
from rules.aws.trails import active_multi_region, logs_all_management_events

_DOC = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html"
_NEEDS = ("AWS::CloudTrail::Trail", "logs.metric_filters", "cloudwatch.alarms")
_LOG_GROUP = re.compile(r"^arn:[^:]+:logs:([^:]+):[^:]*:log-group:([^:]+)")


def _watched(inventory: Inventory) -> list[tuple[str, str]]:
    """(region, log group) of every logging multi-region trail that sends to CloudWatch Logs."""
    found = []
    for trail in active_multi_region(inventory):
        if not logs_all_management_events(trail):
            continue
        match = _LOG_GROUP.match(str(trail.configuration.get("CloudWatchLogsLogGroupArn") or ""))
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def _alarmed(inventory: Inventory, region: str, group: str, matches: Callable[[str], bool]) -> bool:
    filters = inventory.fact(region, "logs.metric_filters") or []
    alarms = inventory.fact(region, "cloudwatch.alarms") or []
    for item in filters:
        if item.get("logGroupName") != group or not matches(str(item.get("filterPattern") or "")):
            continue
        for metric in item.get("metricTransformations") or []:
            for alarm in alarms:
                if (
                    alarm.get("MetricName") == metric.get("metricName")
                    and alarm.get("Namespace") == metric.get("metricNamespace")
                    and alarm.get("AlarmActions")
                ):
                    return True
    return False


def _check(what: str, terms: tuple[str, ...]) -> Callable[[Inventory], Iterator[Hit]]:
    compiled = [re.compile(term) for term in terms]

    def matches(pattern: str) -> bool:
        return all(c.search(pattern) for c in compiled)

    def check(inventory: Inventory) -> Iterator[Hit]:
        watched = _watched(inventory)
        if not watched:
            yield Hit(
                "no logging multi-region trail sends its events to CloudWatch Logs, so nothing "
                f"can raise an alarm on {what}",
                resource=where(inventory),
            )
            return
        unread = [r for r, _ in watched if not inventory.has_fact(r, "logs.metric_filters")]
        if any(_alarmed(inventory, r, g, matches) for r, g in watched if r not in unread):
            return
        if unread and len(unread) == len(watched):
            if all(r not in inventory.regions for r in unread):
                yield Hit(
                    f"the trail's log group is in {unread[0]}, which was not collected "
                    f"(collect it with --region {unread[0]}) to know whether {what} raise alarms",
                    resource=where(inventory),
                )
            return
        groups = ", ".join(sorted({g for _, g in watched}))
        yield Hit(
            f"no metric filter on {groups} with an alarm and an action watches for {what}",
            resource=where(inventory),
        )

    return check


def _event_names(*names: str, source: str | None = None) -> tuple[str, ...]:
    terms = [r"\$\.eventName"] + [rf"\b{name}\b" for name in names]
    if source:
        terms.append(rf"\$\.eventSource\s*=\s*\"?{re.escape(source)}")
    return tuple(terms)


# (rule number, CIS control, FSBP control or None, title, what it watches, severity, terms)
_CHECKS: tuple[tuple[int, str, str | None, str, str, str, tuple[str, ...]], ...] = (
    (1, "4.1", "CloudWatch.2", "unauthorized API calls", "unauthorized API calls", "medium",
     (r"\$\.errorCode\s*=\s*\"?\*UnauthorizedOperation", r"\$\.errorCode\s*=\s*\"?AccessDenied\*")),
    (2, "4.2", "CloudWatch.3", "console sign-ins without MFA", "console sign-ins without MFA",
     "medium", (r"\$\.eventName\s*=\s*\"?ConsoleLogin",
                r"\$\.additionalEventData\.MFAUsed\s*!=\s*\"?Yes")),
    (3, "4.3", "CloudWatch.1", "use of the root user", "use of the root user", "high",
     (r"\$\.userIdentity\.type\s*=\s*\"?Root", r"\$\.userIdentity\.invokedBy\s+NOT\s+EXISTS",
      r"\$\.eventType\s*!=\s*\"?AwsServiceEvent")),
    (4, "4.4", "CloudWatch.4", "IAM policy changes", "IAM policy changes", "medium",
     _event_names("DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
                  "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy",
                  "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy",
                  "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
                  "AttachGroupPolicy", "DetachGroupPolicy")),
    (5, "4.5", "CloudWatch.5", "CloudTrail configuration changes",
     "changes to CloudTrail's configuration", "medium",
     _event_names("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")),
    (6, "4.6", "CloudWatch.6", "console authentication failures",
     "console authentication failures", "low",
     (r"\$\.eventName\s*=\s*\"?ConsoleLogin", r"\$\.errorMessage\s*=\s*\"?Failed authentication")),
    (7, "4.7", "CloudWatch.7", "customer key disabling or deletion",
     "KMS keys being disabled or scheduled for deletion", "medium",
     _event_names("DisableKey", "ScheduleKeyDeletion", source="kms.amazonaws.com")),
    (8, "4.8", "CloudWatch.8", "S3 bucket policy changes", "S3 bucket policy changes", "medium",
     _event_names("PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
                  "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors",
                  "DeleteBucketLifecycle", "DeleteBucketReplication",
                  source="s3.amazonaws.com")),
    (9, "4.9", "CloudWatch.9", "AWS Config configuration changes",
     "changes to AWS Config's recorders and channels", "medium",
     _event_names("StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
                  "PutConfigurationRecorder", source="config.amazonaws.com")),
    (10, "4.10", "CloudWatch.10", "security group changes", "security group changes", "medium",
     _event_names("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                  "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
                  "CreateSecurityGroup", "DeleteSecurityGroup")),
    (11, "4.11", "CloudWatch.11", "network ACL changes", "network ACL changes", "medium",
     _event_names("CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl",
                  "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry",
                  "ReplaceNetworkAclAssociation")),
    (12, "4.12", "CloudWatch.12", "network gateway changes", "network gateway changes", "medium",
     _event_names("CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
                  "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway")),
    (13, "4.13", "CloudWatch.13", "route table changes", "route table changes", "medium",
     _event_names("CreateRoute", "CreateRouteTable", "ReplaceRoute",
                  "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute",
                  "DisassociateRouteTable")),
    (14, "4.14", "CloudWatch.14", "VPC changes", "VPC changes", "medium",
     _event_names("CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
                  "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
                  "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc",
                  "DisableVpcClassicLink", "EnableVpcClassicLink")),
    (15, "4.15", None, "AWS Organizations changes", "changes to the organization", "medium",
     _event_names("AcceptHandshake", "AttachPolicy", "CreateAccount",
                  "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake",
                  "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy",
                  "DetachPolicy", "DisablePolicyType", "EnablePolicyType",
                  "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
                  "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit",
                  source="organizations.amazonaws.com")),
)  # fmt: skip


# an alarm on logged events is automated monitoring and automated review of the audit log
_WATCHED = ("nist-800-53-r5 SI-4", "pci-dss-4.0 10.4.1.1")


def _register(number: int, cis: str, fsbp: str | None, title: str, what: str, severity: str,
              terms: tuple[str, ...]) -> Any:  # fmt: skip
    controls = [f"cis-aws-3.0 {cis}", *([f"fsbp {fsbp}"] if fsbp else []), *_WATCHED]
    references = [_DOC, CIS] + (
        [f"{FSBP}/cloudwatch-controls.html#cloudwatch-{fsbp.split('.')[1]}"] if fsbp else []
    )
    return account_rule(
        id=f"AWS-MON-{number:03d}",
        needs=_NEEDS,
        title=f"No alarm on {title}",
        severity=severity,
        description=(
            f"Without a metric filter and an alarm on {what}, such activity is only found by "
            "someone reading the logs afterwards. The trail's events reach CloudWatch Logs; a "
            "filter there counts the matching events and an alarm with an action (an SNS "
            "topic) tells someone within minutes."
        ),
        remediation=(
            "On the log group of the multi-region trail, create a metric filter matching "
            f"{what} (the pattern of CIS AWS Foundations {cis}), and an alarm on its metric "
            "that notifies an SNS topic someone reads."
        ),
        references=references,
        controls=controls,
    )(_check(what, terms))


for _entry in _CHECKS:
    _register(*_entry)
