"""IAM policy rules."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import (
    NO_VALUE,
    UNRESOLVED,
    LineDict,
    Resource,
    Template,
    is_intrinsic,
)
from rules.cloudformation._helpers import (
    MISSING,
    POLICY_DOCUMENT_TYPES,
    as_list,
    describe,
    each,
    enabled,
    param_unknown,
    policy_documents,
    present,
    truthy,
)

_ANY_ACTION = frozenset({"*", "*:*"})


def _allows(tpl: Template, statement: dict) -> bool:
    effects = tpl.possible_values(statement.get("Effect"))
    return any(isinstance(e, str) and e.lower() == "allow" for e in effects)


def _has_wildcard(tpl: Template, value: Any, wildcards: frozenset[str]) -> bool:
    values = (v for item in as_list(value) for v in tpl.possible_values(item))
    return any(isinstance(v, str) and v.strip() in wildcards for v in values)


@rule(
    id="CF-IAM-001",
    controls=("cis-aws-3.0 1.16", "fsbp IAM.1", "nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="IAM policy allows every action on every resource",
    severity="critical",
    resource_types=POLICY_DOCUMENT_TYPES,
    description=(
        'A statement with `Effect: Allow`, `Action: "*"` and `Resource: "*"` grants full '
        "administrator rights. Whoever obtains the identity's credentials (a leaked key, a "
        "compromised function) controls the whole account."
    ),
    remediation=(
        "Grant only the actions and resources needed:\n"
        "```yaml\n- Effect: Allow\n  Action: [s3:GetObject, s3:PutObject]\n"
        "  Resource: !Sub '${DataBucket.Arn}/*'\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
    ),
)
def admin_policy(tpl: Template) -> Iterator[Hit]:
    for res in tpl.resources.values():
        for document, path in policy_documents(res):
            if not isinstance(document, dict):
                continue
            for statement in as_list(document.get("Statement")):
                if not isinstance(statement, dict) or not _allows(tpl, statement):
                    continue
                if _has_wildcard(tpl, statement.get("Action"), _ANY_ACTION) and _has_wildcard(
                    tpl, statement.get("Resource"), frozenset({"*"})
                ):
                    line = (
                        statement.lines.get("Action") if isinstance(statement, LineDict) else None
                    )
                    yield Hit(
                        "a statement allows Action '*' on Resource '*'",
                        line=line or res.prop_line(*path),
                        resource=res.logical_id,
                    )


# -- policy helpers shared by the resource-policy rules (S3, KMS, Lambda) -------------------------

_FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide/"
_CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
# condition keys that tie a statement to known callers, networks or organizations
RESTRICTING_CONDITION_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceip",
        "aws:vpcsourceip",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalservicename",
        "aws:userid",
        "aws:username",
        "kms:calleraccount",
        "kms:viaservice",
        "sts:externalid",
        "lambda:functionarn",
    }
)


def as_document(value: Any) -> Any:
    """A policy document: a mapping, or a JSON string holding one (None if unreadable)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def policy_variants(tpl: Template, value: Any) -> tuple[list[dict], bool]:
    """The documents a policy property may be (`Fn::If` branches, JSON strings), and whether
    some variant cannot be read from the template. A removed policy is an empty document."""
    documents: list[dict] = []
    unreadable = False
    for variant in tpl.possible_values(value):
        if variant is NO_VALUE:
            documents.append({})
            continue
        document = as_document(variant)
        if isinstance(document, dict) and not is_intrinsic(document):
            documents.append(document)
        else:
            unreadable = True
    return documents, unreadable


def statements(document: Any) -> list[dict]:
    """The statements of a policy document that are mappings."""
    if not isinstance(document, dict):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def statement_line(res: Resource, statement: Any, key: str, *fallback: Any) -> int | None:
    """The line of `key` in a statement, else of the `fallback` property path."""
    if isinstance(statement, LineDict) and key in statement.lines:
        return statement.lines[key]
    if isinstance(statement, LineDict) and statement.first_line:
        return statement.first_line
    return res.prop_line(*fallback)


def allows(tpl: Template, statement: dict) -> bool:
    return _allows(tpl, statement)


def denies(tpl: Template, statement: dict) -> bool:
    effects = tpl.possible_values(statement.get("Effect"))
    return bool(effects) and all(isinstance(e, str) and e.lower() == "deny" for e in effects)


def texts(tpl: Template, value: Any) -> list[Any]:
    """The strings a value (or list) may be, with `Fn::Sub`/`Fn::Join` kept as their text.

    Placeholders stay as written (`arn:aws:iam::${AWS::AccountId}:role/*`), so wildcards and
    suffixes can be recognised in expressions that cannot be resolved; UNRESOLVED otherwise.
    """
    found: list[Any] = []
    for item in as_list(value):
        if isinstance(item, dict) and len(item) == 1 and "Fn::Sub" in item:
            arg = item["Fn::Sub"]
            text = arg[0] if isinstance(arg, list) and arg else arg
            found.append(text if isinstance(text, str) else UNRESOLVED)
        elif isinstance(item, dict) and len(item) == 1 and "Fn::Join" in item:
            arg = item["Fn::Join"]
            if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
                sep = arg[0] if isinstance(arg[0], str) else ""
                found.append(sep.join(p if isinstance(p, str) else "${?}" for p in arg[1]))
            else:
                found.append(UNRESOLVED)
        else:
            found.extend(tpl.possible_values(item))
    return found


def principal_is_public(tpl: Template, principal: Any) -> bool | None:
    """True when a principal may be anyone (`*`, `{"AWS": "*"}`, an account wildcard), None
    when it comes from a parameter the template leaves open, False otherwise."""
    if principal is None:
        return False
    if isinstance(principal, dict) and not is_intrinsic(principal):
        if "AWS" not in principal:
            return False  # Service / Federated / CanonicalUser principals are named
        principal = principal["AWS"]
    unknown = False
    for item in as_list(principal):
        for value in tpl.possible_values(item):
            if isinstance(value, str) and "*" in value:
                return True
        if param_unknown(tpl, item, could_be="*"):
            unknown = True
    return None if unknown else False


def who(public: bool | None, principal: Any, anyone: str = "anyone") -> str:
    """`anyone`, or the unresolved principal, for messages."""
    if public:
        return anyone
    return f"a principal from {describe_principal(principal)}, which cannot be resolved,"


def describe_principal(principal: Any) -> str:
    """A short description of a principal for messages (the AWS entry of a mapping)."""
    if isinstance(principal, dict) and not is_intrinsic(principal) and "AWS" in principal:
        principal = principal["AWS"]
    if isinstance(principal, list):
        return ", ".join(describe(p) for p in principal[:3])
    return describe(principal)


def has_restricting_condition(statement: dict) -> bool:
    """True when the statement's Condition names a caller, network or organization."""
    condition = statement.get("Condition")
    if condition is None:
        return False
    if not isinstance(condition, dict) or is_intrinsic(condition):
        return True  # an expression: give it the benefit of the doubt
    for operator, block in condition.items():
        if not isinstance(operator, str) or operator.lower().startswith("null"):
            continue
        if isinstance(block, dict) and any(
            isinstance(key, str) and key.lower() in RESTRICTING_CONDITION_KEYS for key in block
        ):
            return True
    return False


def public_statements(tpl: Template, value: Any) -> Iterator[tuple[dict, bool | None]]:
    """The Allow statements of a policy property (every variant) open to anyone without a
    restricting condition, each with True (public) or None (the principal is unresolved)."""
    documents, _ = policy_variants(tpl, value)
    for statement in (s for document in documents for s in statements(document)):
        if not allows(tpl, statement) or has_restricting_condition(statement):
            continue
        public = principal_is_public(tpl, statement.get("Principal"))
        if public is not False:
            yield statement, public


def _actions(tpl: Template, statement: dict) -> list[str]:
    return [v.strip() for v in texts(tpl, statement.get("Action")) if isinstance(v, str)]


def _any_resource(tpl: Template, statement: dict) -> bool:
    return any(
        isinstance(v, str) and v.strip() == "*" for v in texts(tpl, statement.get("Resource"))
    )


_POLICY_CARRIERS = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
)


def _identity_statements(tpl: Template) -> Iterator[tuple[Resource, dict, tuple[Any, ...]]]:
    for res in tpl.of_type(*_POLICY_CARRIERS):
        for document, path in policy_documents(res):
            for statement in statements(document):
                yield res, statement, path


# -- more IAM rules -------------------------------------------------------------------------------

_PASSROLE = "iam:passrole"
_SERVICE_WIDE = frozenset({"*", "*:*", "iam:*"})
_ANY_ROLE = (":role/*", ":*")


@rule(
    id="CF-IAM-002",
    controls=("nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="IAM policy allows passing any role",
    severity="high",
    resource_types=_POLICY_CARRIERS,
    description=(
        "iam:PassRole lets an identity hand a role to a service (an EC2 instance, a Lambda "
        "function, a CloudFormation stack). Allowed on every role, it is a privilege "
        "escalation path: the identity launches a resource with the most powerful role in "
        'the account and acts through it. Statements with `Action: "*"` or `iam:*` are '
        "reported by CF-IAM-001 and CF-IAM-006."
    ),
    remediation=(
        "Name the roles that may be passed, and to which service:\n"
        "```yaml\n- Effect: Allow\n  Action: iam:PassRole\n  Resource: !GetAtt TaskRole.Arn\n"
        "  Condition:\n    StringEquals:\n      iam:PassedToService: ecs-tasks.amazonaws.com\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
    ),
)
def pass_any_role(tpl: Template) -> Iterator[Hit]:
    for res, statement, path in _identity_statements(tpl):
        if not allows(tpl, statement):
            continue
        actions = [a for a in _actions(tpl, statement) if a.lower() not in _SERVICE_WIDE]
        if not any(fnmatch.fnmatchcase(_PASSROLE, a.lower()) for a in actions):
            continue
        resources = [v.strip() for v in texts(tpl, statement.get("Resource")) if isinstance(v, str)]
        wide = [r for r in resources if r == "*" or (":iam::" in r and r.endswith(_ANY_ROLE))]
        if wide:
            yield Hit(
                f"iam:PassRole is allowed on {wide[0]!r}",
                line=statement_line(res, statement, "Resource", *path),
                resource=res.logical_id,
            )


@rule(
    id="CF-IAM-003",
    controls=("cis-aws-3.0 1.15", "fsbp IAM.2", "nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="IAM user has policies attached directly",
    severity="low",
    resource_types=(
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::User",
        "AWS::IAM::UserPolicy",
    ),
    description=(
        "Permissions attached to individual users (inline policies, managed policy ARNs, or "
        "policies naming the user) drift apart user by user and are forgotten when people "
        "change roles; grant them through groups or, better, roles assumed through single "
        "sign-on. Relates to AWS FSBP IAM.2 and CIS AWS Foundations Benchmark v1.4.0 1.15."
    ),
    remediation=(
        "Attach the policy to a group and add the user to it:\n"
        "```yaml\nDeployersGroup:\n  Type: AWS::IAM::Group\n  Properties:\n"
        "    ManagedPolicyArns: [!Ref DeployPolicy]\nCiUser:\n  Type: AWS::IAM::User\n"
        "  Properties:\n    Groups: [!Ref DeployersGroup]\n```"
    ),
    references=(f"{_FSBP}iam-controls.html#iam-2", _CIS),
)
def user_with_policies(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(
        "AWS::IAM::User", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::UserPolicy"
    ):
        if res.type == "AWS::IAM::User":
            keys = [k for k in ("Policies", "ManagedPolicyArns") if as_list(res.prop(k))]
        elif res.type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            keys = ["Users"] if as_list(res.prop("Users")) else []
        elif res.type == "AWS::IAM::UserPolicy":
            keys = ["UserName"]
        else:
            continue
        if keys:
            yield Hit(
                f"{res.type} attaches permissions to a user through {keys[0]}",
                line=res.prop_line(keys[0]),
                resource=res.logical_id,
            )


@rule(
    id="CF-IAM-004",
    controls=("nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="IAM policy uses NotAction with Allow",
    severity="medium",
    resource_types=_POLICY_CARRIERS,
    description=(
        "`Effect: Allow` with NotAction grants every action except the listed ones, "
        "including actions of services launched after the policy was written. It is almost "
        'always broader than intended ("everything but IAM" still allows deleting every '
        "bucket and database). NotAction belongs in Deny statements."
    ),
    remediation=(
        "List the allowed actions instead:\n"
        "```yaml\n- Effect: Allow\n  Action: [s3:GetObject, s3:ListBucket]\n"
        "  Resource: [!GetAtt Bucket.Arn, !Sub '${Bucket.Arn}/*']\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html",
    ),
)
def allow_not_action(tpl: Template) -> Iterator[Hit]:
    for res, statement, path in _identity_statements(tpl):
        if "NotAction" in statement and allows(tpl, statement):
            yield Hit(
                "an Allow statement uses NotAction",
                line=statement_line(res, statement, "NotAction", *path),
                resource=res.logical_id,
            )


@rule(
    id="CF-IAM-005",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="IAM role can be assumed by anyone",
    severity="critical",
    resource_types=("AWS::IAM::Role",),
    description=(
        'A trust policy that allows `sts:AssumeRole` to the principal `*` (or `{AWS: "*"}`, '
        "or an account wildcard) without a condition naming the caller (sts:ExternalId, "
        "aws:PrincipalOrgID, aws:PrincipalArn, aws:SourceAccount...) lets any AWS account in "
        "the world obtain the role's credentials. A principal taken from a parameter without "
        "a default is reported too."
    ),
    remediation=(
        "Trust a named account or service, and the caller's external id:\n"
        "```yaml\nAssumeRolePolicyDocument:\n  Version: '2012-10-17'\n  Statement:\n"
        "    - Effect: Allow\n      Principal:\n        AWS: arn:aws:iam::111122223333:root\n"
        "      Action: sts:AssumeRole\n      Condition:\n        StringEquals:\n"
        "          sts:ExternalId: !Ref PartnerExternalId\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",
    ),
)
def role_trusts_anyone(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::IAM::Role"):
        for statement, public in public_statements(tpl, res.prop("AssumeRolePolicyDocument")):
            detail = "trusts " + who(public, statement.get("Principal"), "any principal")
            yield Hit(
                f"the trust policy {detail} without a restricting condition",
                line=statement_line(res, statement, "Principal", "AssumeRolePolicyDocument"),
                resource=res.logical_id,
            )


@rule(
    id="CF-IAM-006",
    controls=("fsbp IAM.21", "nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="IAM policy allows all actions of a service",
    severity="medium",
    resource_types=_POLICY_CARRIERS,
    description=(
        '`Action: s3:*` (or `dynamodb:*`, `ec2:*`...) on `Resource: "*"` grants every '
        "present and future action of the service on every resource of the account, "
        "including deleting data and rewriting resource policies; with `iam:*` or `sts:*` it "
        "amounts to full administrator rights. Relates to AWS FSBP IAM.21."
    ),
    remediation=(
        "List the actions the workload calls, on its own resources:\n"
        "```yaml\n- Effect: Allow\n  Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:Query]\n"
        "  Resource: !GetAtt OrdersTable.Arn\n```"
    ),
    references=(
        f"{_FSBP}iam-controls.html#iam-21",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
    ),
)
def service_wildcard(tpl: Template) -> Iterator[Hit]:
    for res, statement, path in _identity_statements(tpl):
        if not allows(tpl, statement) or not _any_resource(tpl, statement):
            continue
        wild = [
            a
            for a in _actions(tpl, statement)
            if a.endswith(":*") and a not in ("*:*",) and ":" in a and "*" not in a[:-2]
        ]
        if wild:
            yield Hit(
                f"{', '.join(sorted(set(wild)))} allowed on Resource '*'",
                line=statement_line(res, statement, "Action", *path),
                resource=res.logical_id,
            )


_ADMIN_POLICY_SUFFIX = ":policy/administratoraccess"


def _is_admin_policy(text: Any) -> bool:
    if not isinstance(text, str):
        return False
    lowered = text.strip().lower()
    return lowered == "administratoraccess" or lowered.endswith(_ADMIN_POLICY_SUFFIX)


@rule(
    id="CF-IAM-007",
    controls=("cis-aws-3.0 1.16", "nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="AdministratorAccess managed policy attached",
    severity="high",
    resource_types=(
        "AWS::IAM::Group",
        "AWS::IAM::Role",
        "AWS::IAM::User",
        "AWS::Serverless::Function",
    ),
    description=(
        "The AWS managed policy AdministratorAccess grants every action on every resource. "
        "Attached to a role, user, group or function, it turns any compromise of that "
        "identity (a leaked key, an exploited function, a poisoned build) into control of "
        "the whole account. Relates to AWS FSBP IAM.1 and CIS AWS Foundations "
        "Benchmark v1.4.0 1.16."
    ),
    remediation=(
        "Attach a policy scoped to the job:\n"
        "```yaml\nManagedPolicyArns:\n"
        "  - !Ref DeployPolicy   # only the actions the pipeline needs\n```"
    ),
    references=(f"{_FSBP}iam-controls.html#iam-1", _CIS),
)
def administrator_access(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(
        "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group", "AWS::Serverless::Function"
    ):
        if res.type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            key = "ManagedPolicyArns"
        elif res.type == "AWS::Serverless::Function":
            key = "Policies"  # SAM accepts managed policy names and ARNs here
        else:
            continue
        if any(_is_admin_policy(t) for t in texts(tpl, res.prop(key))):
            yield Hit(
                f"AdministratorAccess is attached through {key}",
                line=res.prop_line(key),
                resource=res.logical_id,
            )


@rule(
    id="CF-IAM-008",
    artifact_type="cloudformation",
    title="IAM user with a console password",
    severity="low",
    resource_types=("AWS::IAM::User",),
    description=(
        "A LoginProfile gives the user a long-lived console password. A template cannot "
        "require an MFA device for it, so the account relies on someone enrolling one later; "
        "a password alone is phished or reused easily. People should sign in through IAM "
        "Identity Center (single sign-on) instead. Relates to AWS FSBP IAM.5 and CIS AWS "
        "Foundations Benchmark v1.4.0 1.10."
    ),
    remediation=(
        "Drop the LoginProfile and give people access through IAM Identity Center; if the "
        "user must stay, enforce MFA with a policy denying everything without "
        "`aws:MultiFactorAuthPresent` and keep the password out of the template."
    ),
    references=(
        f"{_FSBP}iam-controls.html#iam-5",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html",
        _CIS,
    ),
)
def user_console_password(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::IAM::User"):
        profile = res.prop("LoginProfile", default=MISSING)
        if profile is MISSING or profile is None:
            continue
        if any(v is NO_VALUE for v in tpl.possible_values(profile)):
            continue
        password = res.prop("LoginProfile", "Password")
        literal = isinstance(password, str) and not password.startswith("{{resolve:")
        yield Hit(
            "the user has a console password"
            + (" written in the template" if literal else "")
            + "; MFA cannot be enforced from here",
            line=res.prop_line("LoginProfile"),
            resource=res.logical_id,
        )


_ACCOUNT = re.compile(r"^(\d{12}|arn:aws[a-z-]*:iam::(\d{12}):.+)$")


def _other_accounts(tpl: Template, principal: Any) -> list[str]:
    """Account ids or ARNs in a principal's AWS entry written as literals (the template's own
    account is written `${AWS::AccountId}`, which never resolves to a literal)."""
    if not isinstance(principal, dict) or "AWS" not in principal:
        return []
    found = []
    for item in as_list(principal["AWS"]):
        for value in tpl.possible_values(item):
            if isinstance(value, str) and _ACCOUNT.match(value.strip()):
                found.append(value.strip())
    return found


def _checks_caller(tpl: Template, statement: dict) -> bool:
    """A condition that pins the caller: a non-empty sts:ExternalId, MFA present (true) or
    an MFA age limit. `aws:MultiFactorAuthPresent: false` or an empty external id do not."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    for operator, block in condition.items():
        if not isinstance(block, dict):
            continue
        for key, value in block.items():
            name = str(key).lower()
            values = [v for item in as_list(value) for v in tpl.possible_values(item)]
            if (
                name == "sts:externalid"
                and values
                and all(v is UNRESOLVED or (isinstance(v, str) and v.strip()) for v in values)
            ):
                return True
            mfa = name == "aws:multifactorauthpresent" and str(operator).startswith("Bool")
            if mfa and values and all(truthy(v) is True for v in values):
                return True
            if name == "aws:multifactorauthage" and values:
                return True
    return False


@rule(
    id="CF-IAM-009",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="Cross-account trust without ExternalId or MFA",
    severity="high",
    resource_types=("AWS::IAM::Role",),
    description=(
        "A role trusting another AWS account (a literal account id or ARN in Principal.AWS) "
        "without a condition on sts:ExternalId or aws:MultiFactorAuthPresent can be assumed "
        "by any identity that account lets call sts:AssumeRole. For a third party this is "
        "the confused deputy problem: anyone who learns the role's ARN can have the vendor "
        "assume it; for people, no second factor is required."
    ),
    remediation=(
        "```yaml\n- Effect: Allow\n  Principal:\n    AWS: arn:aws:iam::111122223333:root\n"
        "  Action: sts:AssumeRole\n  Condition:\n    StringEquals:\n"
        "      sts:ExternalId: !Ref VendorExternalId\n```\nFor people: "
        "`Bool: {aws:MultiFactorAuthPresent: 'true'}`."
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html",
    ),
)
def cross_account_trust(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::IAM::Role"):
        documents, _ = policy_variants(tpl, res.prop("AssumeRolePolicyDocument"))
        for document in documents:
            for statement in statements(document):
                if not allows(tpl, statement) or _checks_caller(tpl, statement):
                    continue
                accounts = _other_accounts(tpl, statement.get("Principal"))
                if accounts:
                    yield Hit(
                        f"the trust policy lets account {accounts[0]} assume the role without "
                        "an ExternalId or MFA condition",
                        line=statement_line(
                            res, statement, "Principal", "AssumeRolePolicyDocument"
                        ),
                        resource=res.logical_id,
                    )
                    break


@rule(
    id="CF-IAM-010",
    controls=("cis-aws-3.0 1.13",),
    artifact_type="cloudformation",
    title="IAM user with more than one active access key",
    severity="medium",
    resource_types=("AWS::IAM::AccessKey",),
    description=(
        "Two active AWS::IAM::AccessKey resources for the same user double the long-lived "
        "credentials that can leak, and hide which one a system really uses: a key that "
        "should have been retired stays valid. Rotation needs a second key only for the "
        "few minutes of the switch. Relates to CIS AWS Foundations Benchmark v1.4.0 1.13."
    ),
    remediation=(
        "Keep one active key per user (mark the old one `Status: Inactive` while rotating, "
        "then delete it), or better, replace the user with a role the workload assumes."
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console",
        _CIS,
    ),
)
def user_with_two_keys(tpl: Template) -> Iterator[Hit]:
    by_user: dict[str, list[Resource]] = {}
    for res in tpl.of_type("AWS::IAM::AccessKey"):
        status = tpl.possible_values(res.prop("Status", default="Active"))
        if all(isinstance(s, str) and s.strip().lower() == "inactive" for s in status):
            continue
        by_user.setdefault(repr(res.prop("UserName")), []).append(res)
    for keys in by_user.values():
        if len(keys) < 2:
            continue
        names = ", ".join(k.logical_id for k in keys)
        for res in keys:
            yield Hit(
                f"the user has {len(keys)} active access keys ({names})",
                res.prop_line("UserName"),
                res.logical_id,
            )


@rule(
    id="CF-IAM-011",
    controls=("nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="IAM policy allows every action on named resources",
    severity="medium",
    resource_types=_POLICY_CARRIERS,
    description=(
        '`Action: "*"` limited to some resources still grants every action of every service '
        "on them: deleting them, changing their policies and encryption, sharing them with "
        'other accounts. (With `Resource: "*"` the statement is full administrator rights, '
        "reported by CF-IAM-001.)"
    ),
    remediation=(
        "Name the actions:\n```yaml\n- Effect: Allow\n"
        "  Action: [s3:GetObject, s3:PutObject]\n  Resource: !Sub '${UploadsBucket.Arn}/*'\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html",
    ),
)
def every_action_on_named_resources(tpl: Template) -> Iterator[Hit]:
    for res, statement, path in _identity_statements(tpl):
        if not allows(tpl, statement) or _any_resource(tpl, statement):
            continue
        if "Resource" not in statement:
            continue  # NotResource: a different (and rarer) shape
        if any(a in _ANY_ACTION for a in _actions(tpl, statement)):
            yield Hit(
                "a statement allows Action '*' on the resources it names",
                statement_line(res, statement, "Action", *path),
                res.logical_id,
            )


# actions that let an identity grant itself (or a principal it controls) more permissions
_ESCALATION = tuple(
    f"iam:{name}"
    for name in (
        "CreatePolicyVersion",
        "SetDefaultPolicyVersion",
        "AttachUserPolicy",
        "AttachGroupPolicy",
        "AttachRolePolicy",
        "PutUserPolicy",
        "PutGroupPolicy",
        "PutRolePolicy",
        "AddUserToGroup",
        "UpdateAssumeRolePolicy",
        "CreateAccessKey",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "DeleteUserPermissionsBoundary",
        "DeleteRolePermissionsBoundary",
    )
)


@rule(
    id="CF-IAM-012",
    controls=("nist-800-53-r5 AC-6", "pci-dss-4.0 7.2.2"),
    artifact_type="cloudformation",
    title="IAM policy allows privilege escalation on any resource",
    severity="high",
    resource_types=_POLICY_CARRIERS,
    description=(
        "Actions such as iam:CreatePolicyVersion, iam:AttachRolePolicy, iam:PutUserPolicy, "
        'iam:UpdateAssumeRolePolicy or iam:CreateAccessKey on `Resource: "*"` let an '
        "identity give itself, or any user or role, any permission: whoever controls it "
        "becomes administrator. (`iam:*` and `*` are reported by CF-IAM-006 and CF-IAM-001; "
        "iam:PassRole by CF-IAM-002.)"
    ),
    remediation=(
        "Scope IAM write actions to the principals the workload manages, and cap them with a "
        "permissions boundary:\n```yaml\n- Effect: Allow\n  Action: iam:PutRolePolicy\n"
        "  Resource: !Sub 'arn:aws:iam::${AWS::AccountId}:role/app-*'\n  Condition:\n"
        "    StringEquals:\n      iam:PermissionsBoundary: !Ref AppBoundary\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
    ),
)
def privilege_escalation(tpl: Template) -> Iterator[Hit]:
    for res, statement, path in _identity_statements(tpl):
        if not allows(tpl, statement) or not _any_resource(tpl, statement):
            continue
        granted = [a.lower() for a in _actions(tpl, statement) if a.lower() not in _SERVICE_WIDE]
        risky = [e for e in _ESCALATION if any(fnmatch.fnmatchcase(e.lower(), a) for a in granted)]
        if risky:
            more = f" and {len(risky) - 1} more" if len(risky) > 1 else ""
            yield Hit(
                f"{risky[0]}{more} allowed on Resource '*'",
                statement_line(res, statement, "Action", *path),
                res.logical_id,
            )


def _secret_key_target(value: Any, depth: int = 0) -> str | None:
    """The access key whose SecretAccessKey an output value reads (GetAtt or Sub), if any."""
    if depth > 8:
        return None
    if isinstance(value, dict):
        target = value.get("Fn::GetAtt")
        if isinstance(target, list) and target[1:2] == ["SecretAccessKey"]:
            return str(target[0])
        if isinstance(target, str) and target.endswith(".SecretAccessKey"):
            return target.rsplit(".", 1)[0]
        sub = value.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str):
            found = re.search(r"\$\{([A-Za-z0-9]+)\.SecretAccessKey\}", text)
            if found:
                return found.group(1)
        items: list[Any] = list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        found_key = _secret_key_target(item, depth + 1)
        if found_key:
            return found_key
    return None


@rule(
    id="CF-IAM-013",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Access key secret published in stack outputs",
    severity="high",
    resource_types=("AWS::IAM::AccessKey",),
    description=(
        "An output whose value is an access key's SecretAccessKey shows the secret to anyone "
        "allowed cloudformation:DescribeStacks, in the console and in every tool that lists "
        "stacks, for as long as the stack exists; exported, it is readable by every stack "
        "that imports it."
    ),
    remediation=(
        "Store the key in Secrets Manager instead of an output:\n```yaml\nCiKeySecret:\n"
        "  Type: AWS::SecretsManager::Secret\n  Properties:\n    SecretString: !Sub "
        '\'{"id": "${CiKey}", "secret": "${CiKey.SecretAccessKey}"}\'\n```\n'
        "or, better, give the workload a role instead of a user key."
    ),
    references=(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-accesskey.html",
    ),
)
def secret_key_in_outputs(tpl: Template) -> Iterator[Hit]:
    keys = {res.logical_id for res in tpl.of_type("AWS::IAM::AccessKey")}
    if not keys:
        return
    for name, output in tpl.outputs.items():
        if not isinstance(output, dict):
            continue
        target = _secret_key_target(output.get("Value"))
        if target in keys:
            line = output.lines.get("Value") if isinstance(output, LineDict) else None
            yield Hit(
                f"output {name} publishes the SecretAccessKey of {target}",
                line or getattr(tpl.outputs, "lines", {}).get(name),
                target,
            )


@rule(
    id="CF-IAM-014",
    artifact_type="cloudformation",
    title="IAM user in no group",
    severity="low",
    resource_types=("AWS::IAM::User",),
    description=(
        "Account-wide guards on people are usually group policies: the policy denying "
        "everything without MFA, the boundary every human shares. A user outside every group "
        "escapes them, and whatever access it has is managed one user at a time. Relates to "
        "CIS AWS Foundations Benchmark v1.4.0 1.15 (permissions only through groups)."
    ),
    remediation=(
        "```yaml\nCiUser:\n  Type: AWS::IAM::User\n  Properties:\n"
        "    Groups: [!Ref DeployersGroup]\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html",
        _CIS,
    ),
)
def user_in_no_group(tpl: Template) -> Iterator[Hit]:
    return each(tpl, "AWS::IAM::User", present, "Groups", what="the user is in no group")


@rule(
    id="CF-IAM-015",
    artifact_type="cloudformation",
    title="IAM console password not reset at first sign-in",
    severity="low",
    resource_types=("AWS::IAM::User",),
    description=(
        "A console password set by a template is known to everyone who can read the "
        "template, its parameters or the stack's history. Unless LoginProfile requires a "
        "reset, the user keeps signing in with it, and so can anyone else who read it."
    ),
    remediation=(
        "```yaml\nLoginProfile:\n  Password: '{{resolve:secretsmanager:ci-user-initial}}'\n"
        "  PasswordResetRequired: true\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-iam-user-loginprofile.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_admin-change-user.html",
    ),
)
def password_reset_not_required(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::IAM::User"):
        profile = res.prop("LoginProfile")
        # only a password the template sets: a live user's profile shows none, and whether
        # its reset is still pending says nothing about who knows the password
        if isinstance(profile, dict) and "Password" in profile:
            hit = enabled(
                tpl,
                res,
                "LoginProfile",
                "PasswordResetRequired",
                what="the forced reset of the password set here",
            )
            if hit:
                yield hit
