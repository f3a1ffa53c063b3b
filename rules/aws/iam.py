"""IAM account checks: the root user, users' credentials, the password policy, support role,
server certificates, Access Analyzer and CloudShell access."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit
from chalicelib.posture.inventory import Inventory
from rules.aws._helpers import (
    CIS,
    FSBP,
    GLOBAL,
    account_rule,
    age_days,
    collected_at,
    in_regions,
    parse_time,
    where,
)

_ROOT_ROW = "<root_account>"
_REPORT = "iam.credential_report"
_SUMMARY = "iam.account_summary"
_POLICY = "iam.password_policy"
_IAM = f"{FSBP}/iam-controls.html"
_CRED_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html"
_ROOT_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html"
_PW_DOC = (
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_account-policy.html"
)


def _summary(inventory: Inventory) -> dict[str, Any] | None:
    value = inventory.fact(GLOBAL, _SUMMARY)
    return value if isinstance(value, dict) else None


def _users(inventory: Inventory) -> list[dict[str, Any]]:
    """The credential report's rows of IAM users (not the root user)."""
    rows = inventory.fact(GLOBAL, _REPORT) or []
    return [r for r in rows if isinstance(r, dict) and r.get("user") != _ROOT_ROW]


def _root_row(inventory: Inventory) -> dict[str, Any] | None:
    rows = inventory.fact(GLOBAL, _REPORT) or []
    return next((r for r in rows if isinstance(r, dict) and r.get("user") == _ROOT_ROW), None)


def _root_arn(inventory: Inventory) -> str:
    return f"arn:{inventory.partition}:iam::{inventory.account_id}:root"


def _on(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _active_keys(row: dict[str, Any]) -> list[int]:
    return [n for n in (1, 2) if _on(row.get(f"access_key_{n}_active"))]


@account_rule(
    id="AWS-IAM-001",
    controls=("cis-aws-3.0 1.4", "fsbp IAM.4", "nist-800-53-r5 AC-6(2)"),
    needs=(_SUMMARY,),
    title="Root user has access keys",
    severity="critical",
    description=(
        "Access keys of the root user sign API calls with unrestricted power over the whole "
        "account, no permission boundary or SCP applies to them, and a leaked pair cannot be "
        "scoped down, only deleted. No task needs root keys."
    ),
    remediation=(
        "Sign in as root, open Security credentials and delete every access key; give "
        "automation IAM roles instead."
    ),
    references=(f"{_IAM}#iam-4", _ROOT_DOC, CIS),
)
def root_access_keys(inventory: Inventory) -> Iterator[Hit]:
    summary = _summary(inventory)
    if summary and int(summary.get("AccountAccessKeysPresent") or 0) > 0:
        yield Hit("the root user has an access key", resource=_root_arn(inventory))


@account_rule(
    id="AWS-IAM-002",
    controls=("cis-aws-3.0 1.5", "fsbp IAM.9", "nist-800-53-r5 IA-2(1)", "pci-dss-4.0 8.4.1"),
    needs=(_SUMMARY,),
    title="Root user without MFA",
    severity="critical",
    description=(
        "Without multi-factor authentication, the root user's password alone opens the "
        "account: a phished or reused password gives full control, including closing the "
        "account and changing its contacts."
    ),
    remediation="Enable MFA for the root user (a hardware key or a passkey), then lock it away.",
    references=(f"{_IAM}#iam-9", _ROOT_DOC, CIS),
)
def root_without_mfa(inventory: Inventory) -> Iterator[Hit]:
    summary = _summary(inventory)
    if summary is not None and int(summary.get("AccountMFAEnabled") or 0) != 1:
        yield Hit("the root user has no MFA device", resource=_root_arn(inventory))


@account_rule(
    id="AWS-IAM-003",
    controls=("cis-aws-3.0 1.6", "fsbp IAM.6", "nist-800-53-r5 IA-2(1)", "pci-dss-4.0 8.4.1"),
    needs=(_SUMMARY, "iam.virtual_mfa_devices"),
    title="Root user MFA is a virtual device",
    severity="medium",
    description=(
        "A virtual MFA app lives on a phone or laptop that is also used for mail and browsing; "
        "a hardware key or passkey kept offline is harder to steal or clone. The root user "
        "deserves the strongest factor."
    ),
    remediation="Register a hardware MFA key (FIDO2 or TOTP token) for root, then remove the app.",
    references=(f"{_IAM}#iam-6", _ROOT_DOC, CIS),
)
def root_virtual_mfa(inventory: Inventory) -> Iterator[Hit]:
    summary = _summary(inventory)
    if summary is None or int(summary.get("AccountMFAEnabled") or 0) != 1:
        return
    root = _root_arn(inventory)
    devices = inventory.fact(GLOBAL, "iam.virtual_mfa_devices") or []
    virtual = [d for d in devices if isinstance(d, dict) and d.get("UserArn") == root]
    if virtual:
        yield Hit(
            f"the root user's MFA is the virtual device {virtual[0].get('SerialNumber')}",
            resource=root,
        )


@account_rule(
    id="AWS-IAM-004",
    controls=("cis-aws-3.0 1.7", "nist-800-53-r5 AC-6(2)"),
    needs=(_REPORT, "iam.credential_report.root"),
    title="Root user used recently",
    severity="high",
    description=(
        "Daily work as root bypasses every IAM guard rail and leaves actions attributed to the "
        "account rather than a person. The credential report shows when the root password or "
        "keys were last used; any use within the period is reported."
    ),
    remediation=(
        "Do administrative work through IAM Identity Center or IAM roles, and keep root for "
        "the few tasks that need it."
    ),
    references=(_ROOT_DOC, _CRED_DOC, CIS),
    params={"days": 90},
)
def root_used(inventory: Inventory, params: dict[str, Any]) -> Iterator[Hit]:
    row = _root_row(inventory)
    if row is None:
        return
    now = collected_at(inventory)
    for field in (
        "password_last_used",
        "access_key_1_last_used_date",
        "access_key_2_last_used_date",
    ):
        age = age_days(row.get(field), now)
        if age is not None and age <= params["days"]:
            yield Hit(
                f"the root user was used {age:.0f} days ago ({field.replace('_', ' ')})",
                resource=_root_arn(inventory),
            )
            return


@account_rule(
    id="AWS-IAM-005",
    controls=("cis-aws-3.0 1.10", "fsbp IAM.5", "nist-800-53-r5 IA-2(1)", "pci-dss-4.0 8.4.2"),
    needs=(_REPORT,),
    title="Console user without MFA",
    severity="high",
    description=(
        "An IAM user who signs in to the console with only a password is one phishing page "
        "away from handing over their permissions. MFA makes a stolen password useless alone."
    ),
    remediation=(
        "Require MFA for every user with a console password (an IAM policy denying actions "
        "without aws:MultiFactorAuthPresent helps), or move people to IAM Identity Center."
    ),
    references=(f"{_IAM}#iam-5", _CRED_DOC, CIS),
)
def console_without_mfa(inventory: Inventory) -> Iterator[Hit]:
    for row in _users(inventory):
        if _on(row.get("password_enabled")) and not _on(row.get("mfa_active")):
            yield Hit(
                f"user {row.get('user')} has a console password and no MFA",
                resource=row.get("arn"),
            )


@account_rule(
    id="AWS-IAM-006",
    controls=("cis-aws-3.0 1.14", "fsbp IAM.3", "nist-800-53-r5 IA-5"),
    needs=(_REPORT,),
    title="Access key not rotated",
    severity="medium",
    description=(
        "An access key that lives for years has had years to be copied into scripts, laptops "
        "and logs. Rotating keys regularly bounds how long a leaked key stays useful."
    ),
    remediation=(
        "Create a second key, move its users to it, deactivate and then delete the old one; "
        "better, replace long-lived keys with roles."
    ),
    references=(f"{_IAM}#iam-3", _CRED_DOC, CIS),
    params={"max_age_days": 90},
)
def old_access_keys(inventory: Inventory, params: dict[str, Any]) -> Iterator[Hit]:
    now = collected_at(inventory)
    for row in _users(inventory):
        for n in _active_keys(row):
            age = age_days(row.get(f"access_key_{n}_last_rotated"), now)
            if age is not None and age > params["max_age_days"]:
                yield Hit(
                    f"user {row.get('user')}'s access key {n} is {age:.0f} days old "
                    f"(limit {params['max_age_days']})",
                    resource=row.get("arn"),
                )


@account_rule(
    id="AWS-IAM-007",
    controls=("cis-aws-3.0 1.12", "fsbp IAM.22", "nist-800-53-r5 AC-2(3)", "pci-dss-4.0 8.2.6"),
    needs=(_REPORT,),
    title="Credentials unused for too long",
    severity="medium",
    description=(
        "A password or access key that nobody has used for weeks belongs to someone who left "
        "or to a forgotten job; it keeps its permissions and is never watched. Unused "
        "credentials (never used ones counted from their creation) are reported."
    ),
    remediation="Deactivate the unused password or key, and delete it after a grace period.",
    references=(f"{_IAM}#iam-22", _CRED_DOC, CIS),
    params={"days": 45},
)
def unused_credentials(inventory: Inventory, params: dict[str, Any]) -> Iterator[Hit]:
    now = collected_at(inventory)
    limit = params["days"]
    for row in _users(inventory):
        stale = []
        if _on(row.get("password_enabled")):
            used = row.get("password_last_used")
            since = used if parse_time(used) else row.get("user_creation_time")
            age = age_days(since, now)
            if age is not None and age > limit:
                stale.append(f"the password ({age:.0f} days)")
        for n in _active_keys(row):
            used = row.get(f"access_key_{n}_last_used_date")
            since = used if parse_time(used) else row.get(f"access_key_{n}_last_rotated")
            age = age_days(since, now)
            if age is not None and age > limit:
                stale.append(f"access key {n} ({age:.0f} days)")
        if stale:
            yield Hit(
                f"user {row.get('user')} has not used {' and '.join(stale)}",
                resource=row.get("arn"),
            )


@account_rule(
    id="AWS-IAM-008",
    controls=("cis-aws-3.0 1.13",),
    needs=(_REPORT,),
    title="User with two active access keys",
    severity="low",
    description=(
        "Two active keys are meant for the minutes of a rotation; kept longer, the old key "
        "stays valid wherever it was copied, and nobody knows which one is in use."
    ),
    remediation="Finish the rotation: deactivate the key no longer used, then delete it.",
    references=(_CRED_DOC, CIS),
)
def two_active_keys(inventory: Inventory) -> Iterator[Hit]:
    for row in _users(inventory):
        if len(_active_keys(row)) > 1:
            yield Hit(f"user {row.get('user')} has 2 active access keys", resource=row.get("arn"))


@account_rule(
    id="AWS-IAM-009",
    controls=("cis-aws-3.0 1.11",),
    needs=(_REPORT,),
    title="Console user has an access key never used",
    severity="low",
    description=(
        'Keys created along with a console user "just in case" are never used, never '
        "rotated and rarely noticed: a credential nobody needs. Users who need keys should "
        "create them when they do."
    ),
    remediation="Delete access keys that have never been used.",
    references=(_CRED_DOC, CIS),
)
def unused_setup_keys(inventory: Inventory) -> Iterator[Hit]:
    for row in _users(inventory):
        if not _on(row.get("password_enabled")):
            continue
        for n in _active_keys(row):
            if parse_time(row.get(f"access_key_{n}_last_used_date")) is None:
                yield Hit(
                    f"user {row.get('user')}'s access key {n} has never been used",
                    resource=row.get("arn"),
                )


def _password_policy(inventory: Inventory) -> tuple[bool, dict[str, Any]]:
    """(read, the policy or {} when the account has none)."""
    if not inventory.has_fact(GLOBAL, _POLICY):
        return False, {}
    value = inventory.fact(GLOBAL, _POLICY)
    return True, value if isinstance(value, dict) else {}


@account_rule(
    id="AWS-IAM-010",
    controls=("cis-aws-3.0 1.8", "fsbp IAM.15", "nist-800-53-r5 IA-5(1)", "pci-dss-4.0 8.3.6"),
    needs=(_POLICY,),
    title="Password policy allows short passwords",
    severity="medium",
    description=(
        "Without an account password policy requiring at least 14 characters, IAM users may "
        "choose passwords short enough to be guessed or cracked."
    ),
    remediation=(
        "`aws iam update-account-password-policy --minimum-password-length 14` (with the other "
        "settings you want: the call replaces the whole policy)."
    ),
    references=(f"{_IAM}#iam-15", _PW_DOC, CIS),
    params={"min_length": 14},
)
def short_passwords(inventory: Inventory, params: dict[str, Any]) -> Iterator[Hit]:
    read, policy = _password_policy(inventory)
    if not read:
        return
    length = int(policy.get("MinimumPasswordLength") or 0)
    if not policy:
        yield Hit("the account has no password policy", resource=where(inventory))
    elif length < params["min_length"]:
        yield Hit(
            f"the password policy requires {length} characters (at least "
            f"{params['min_length']} wanted)",
            resource=where(inventory),
        )


@account_rule(
    id="AWS-IAM-011",
    controls=("cis-aws-3.0 1.9", "fsbp IAM.16", "nist-800-53-r5 IA-5(1)", "pci-dss-4.0 8.3.7"),
    needs=(_POLICY,),
    title="Password policy allows password reuse",
    severity="medium",
    description=(
        "When users may go back to a previous password, a password that leaked once comes "
        "back into use. The policy should remember the last 24 passwords."
    ),
    remediation="Set `PasswordReusePrevention` to 24 in the account password policy.",
    references=(f"{_IAM}#iam-16", _PW_DOC, CIS),
    params={"remembered": 24},
)
def password_reuse(inventory: Inventory, params: dict[str, Any]) -> Iterator[Hit]:
    read, policy = _password_policy(inventory)
    if not read:
        return
    remembered = int(policy.get("PasswordReusePrevention") or 0)
    if remembered < params["remembered"]:
        what = "no password policy" if not policy else f"{remembered} passwords remembered"
        yield Hit(
            f"previous passwords can be reused ({what}; {params['remembered']} wanted)",
            resource=where(inventory),
        )


_CLASSES = {
    "RequireUppercaseCharacters": "uppercase letters",
    "RequireLowercaseCharacters": "lowercase letters",
    "RequireNumbers": "numbers",
    "RequireSymbols": "symbols",
}


@account_rule(
    id="AWS-IAM-012",
    controls=("fsbp IAM.7", "nist-800-53-r5 IA-5(1)", "pci-dss-4.0 8.3.6"),
    needs=(_POLICY,),
    title="Password policy lacks character classes",
    severity="low",
    description=(
        "A password policy that does not require upper and lower case letters, numbers and "
        "symbols lets users pick dictionary words that are cracked first."
    ),
    remediation=(
        "Require uppercase, lowercase, numbers and symbols in the account password policy."
    ),
    references=(f"{_IAM}#iam-7", _PW_DOC),
)
def weak_password_classes(inventory: Inventory) -> Iterator[Hit]:
    read, policy = _password_policy(inventory)
    if not read:
        return
    missing = [name for key, name in _CLASSES.items() if not policy.get(key)]
    if missing:
        yield Hit(
            f"the password policy does not require {', '.join(missing)}",
            resource=where(inventory),
        )


_SUPPORT_POLICY = ":iam::aws:policy/AWSSupportAccess"
_CLOUDSHELL_POLICY = ":iam::aws:policy/AWSCloudShellFullAccess"


def _attached(res: Any) -> list[str]:
    return [
        str(p.get("PolicyArn"))
        for p in res.configuration.get("AttachedManagedPolicies") or []
        if isinstance(p, dict)
    ]


@account_rule(
    id="AWS-IAM-013",
    controls=("cis-aws-3.0 1.17", "fsbp IAM.18"),
    needs=("AWS::IAM::Role",),
    title="No role for AWS Support",
    severity="low",
    description=(
        "During an incident, someone must open and follow AWS Support cases. Without a role "
        "carrying AWSSupportAccess, that means root or an over-privileged user."
    ),
    remediation=(
        "Create a role your responders can assume and attach "
        "`arn:aws:iam::aws:policy/AWSSupportAccess` to it."
    ),
    references=(f"{_IAM}#iam-18", CIS),
)
def no_support_role(inventory: Inventory) -> Iterator[Hit]:
    roles = inventory.of_type("AWS::IAM::Role")
    if not any(a.endswith(_SUPPORT_POLICY) for role in roles for a in _attached(role)):
        yield Hit("no role has the AWSSupportAccess policy attached", resource=where(inventory))


@account_rule(
    id="AWS-IAM-014",
    controls=("cis-aws-3.0 1.19", "fsbp IAM.26"),
    needs=("iam.server_certificates",),
    title="Expired server certificate in IAM",
    severity="medium",
    description=(
        "An expired TLS certificate stored in IAM can still be attached to a load balancer "
        "by mistake, breaking clients or teaching them to click through warnings."
    ),
    remediation=(
        "Delete expired certificates: "
        "`aws iam delete-server-certificate --server-certificate-name NAME`."
    ),
    references=(f"{_IAM}#iam-26", CIS),
)
def expired_certificates(inventory: Inventory) -> Iterator[Hit]:
    now = collected_at(inventory)
    for cert in inventory.fact(GLOBAL, "iam.server_certificates") or []:
        expiry = parse_time(cert.get("Expiration")) if isinstance(cert, dict) else None
        if expiry is not None and expiry < now:
            yield Hit(
                f"server certificate {cert.get('ServerCertificateName')} expired on "
                f"{expiry.date().isoformat()}",
                resource=cert.get("Arn"),
            )


@account_rule(
    id="AWS-IAM-015",
    controls=("cis-aws-3.0 1.20", "fsbp IAM.28"),
    needs=("accessanalyzer.analyzers",),
    title="IAM Access Analyzer not enabled in the region",
    severity="medium",
    description=(
        "IAM Access Analyzer finds buckets, keys, roles, queues and other resources shared "
        "outside the account or organization. Without an active analyzer in a region, such "
        "sharing there goes unnoticed."
    ),
    remediation=(
        "In each region: "
        "`aws accessanalyzer create-analyzer --analyzer-name account --type ACCOUNT`."
    ),
    references=(f"{_IAM}#iam-28", CIS),
)
def no_access_analyzer(inventory: Inventory) -> Iterator[Hit]:
    for region, analyzers in in_regions(inventory, "accessanalyzer.analyzers"):
        active = [a for a in analyzers or [] if isinstance(a, dict) and a.get("status") == "ACTIVE"]
        if not active:
            yield Hit(f"no active Access Analyzer in {region}", resource=where(inventory, region))


@account_rule(
    id="AWS-IAM-016",
    controls=("cis-aws-3.0 1.22", "nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    needs=("AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Group"),
    title="AWSCloudShellFullAccess attached",
    severity="low",
    description=(
        "CloudShell full access lets a principal upload and download files and reach the "
        "internet from a shell inside AWS: a way to move data out that bypasses the usual "
        "egress controls. Grant it only to those who need it."
    ),
    remediation=(
        "Detach `arn:aws:iam::aws:policy/AWSCloudShellFullAccess` and grant a narrower "
        "CloudShell policy where needed."
    ),
    references=(
        "https://docs.aws.amazon.com/cloudshell/latest/userguide/sec-auth-with-identities.html",
        CIS,
    ),
)
def cloudshell_full_access(inventory: Inventory) -> Iterator[Hit]:
    for res in inventory.of_type("AWS::IAM::User", "AWS::IAM::Role", "AWS::IAM::Group"):
        if any(a.endswith(_CLOUDSHELL_POLICY) for a in _attached(res)):
            kind = res.type.rsplit("::", 1)[-1].lower()
            yield Hit(f"{kind} {res.id} has AWSCloudShellFullAccess attached", resource=res.arn)
