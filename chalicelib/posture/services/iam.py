"""IAM: users, groups, roles and customer managed policies in one paginated call
(GetAccountAuthorizationDetails, with their inline and attached policies), and the account's
summary, password policy, credential report, virtual MFA devices and server certificates."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from typing import Any

from chalicelib.posture import inventory as inv
from chalicelib.posture.collect import NOT_READ, Scope

GLOBAL = True
CLIENT_REGION = "us-east-1"
REPORT_WAIT_SECONDS = 30.0

_DETAILS = (
    ("UserDetailList", "AWS::IAM::User", "UserName"),
    ("GroupDetailList", "AWS::IAM::Group", "GroupName"),
    ("RoleDetailList", "AWS::IAM::Role", "RoleName"),
    ("Policies", "AWS::IAM::ManagedPolicy", "PolicyName"),
)


def collect(scope: Scope) -> None:
    _authorization_details(scope)
    summary = scope.call("get_account_summary", feeds=["iam.account_summary"])
    if summary is not NOT_READ:
        scope.fact("iam.account_summary", summary.get("SummaryMap"), scope=inv.GLOBAL)
    policy = scope.call(
        "get_account_password_policy", absent=("NoSuchEntity",), feeds=["iam.password_policy"]
    )
    if policy is not NOT_READ:
        value = None if policy is None else policy.get("PasswordPolicy")
        scope.fact("iam.password_policy", value, scope=inv.GLOBAL)
    report = _credential_report(scope)
    if report is not NOT_READ:
        scope.fact("iam.credential_report", report, scope=inv.GLOBAL)
        if not any(row.get("user") == "<root_account>" for row in report):
            scope.record(
                "iam:GetCredentialReport",
                "incomplete answer",
                "the credential report has no row for the root user",
                feeds=["iam.credential_report.root"],
            )
    devices = scope.pages(
        "list_virtual_mfa_devices", "VirtualMFADevices", feeds=["iam.virtual_mfa_devices"]
    )
    if devices is not NOT_READ:
        kept = [
            {k: d.get(k) for k in ("SerialNumber", "EnableDate")}
            | {"UserArn": (d.get("User") or {}).get("Arn")}
            for d in devices
        ]
        scope.fact("iam.virtual_mfa_devices", kept, scope=inv.GLOBAL)
    certificates = scope.pages(
        "list_server_certificates",
        "ServerCertificateMetadataList",
        feeds=["iam.server_certificates"],
    )
    if certificates is not NOT_READ:
        scope.fact("iam.server_certificates", certificates, scope=inv.GLOBAL)


def _authorization_details(scope: Scope) -> None:
    items = scope.pages(
        "get_account_authorization_details",
        lambda page: [(key, item) for key, _, _ in _DETAILS for item in page.get(key) or []],
        feeds=[type_ for _, type_, _ in _DETAILS],
        Filter=["User", "Role", "Group", "LocalManagedPolicy"],
    )
    types = {key: (type_, name_key) for key, type_, name_key in _DETAILS}
    for key, item in items or []:
        type_, name_key = types[key]
        scope.add(
            type_, item["Arn"], item.get(name_key) or item["Arn"].rsplit("/", 1)[-1],
            _decoded(item), tags=item.get("Tags"),
            region=inv.GLOBAL,
        )  # fmt: skip


def _decoded(item: dict[str, Any]) -> dict[str, Any]:
    """Policy documents as JSON (the API returns them URL-encoded in some SDK versions)."""
    out = dict(item)
    for list_key, doc_key in (
        ("UserPolicyList", "PolicyDocument"),
        ("GroupPolicyList", "PolicyDocument"),
        ("RolePolicyList", "PolicyDocument"),
        ("PolicyVersionList", "Document"),
    ):
        if isinstance(out.get(list_key), list):
            out[list_key] = [
                {**p, doc_key: _document(p.get(doc_key))} if isinstance(p, dict) else p
                for p in out[list_key]
            ]
    if "AssumeRolePolicyDocument" in out:
        out["AssumeRolePolicyDocument"] = _document(out["AssumeRolePolicyDocument"])
    return out


def _document(value: Any) -> Any:
    if isinstance(value, str):
        text = urllib.parse.unquote(value) if value.startswith("%7B") else value
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


def _credential_report(scope: Scope) -> Any:
    feeds = ["iam.credential_report"]
    deadline = time.monotonic() + REPORT_WAIT_SECONDS
    while True:
        state = scope.call("generate_credential_report", feeds=feeds)
        if state is NOT_READ:
            return NOT_READ
        if state.get("State") == "COMPLETE" or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    report = scope.call("get_credential_report", feeds=feeds)
    if report is NOT_READ:
        return NOT_READ
    content = report.get("Content") or b""
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    return list(csv.DictReader(io.StringIO(text)))
