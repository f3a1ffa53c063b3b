"""Lambda rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, LineDict, Resource, Template, is_intrinsic
from rules._secrets import is_literal_secret_value, is_secret_name
from rules.cloudformation._helpers import MISSING, describe, one_of, param_unknown, require_value
from rules.cloudformation.iam import principal_is_public


@rule(
    id="CF-LAMBDA-001",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Secret in Lambda environment variables",
    severity="high",
    resource_types=("AWS::Lambda::Function",),
    description=(
        "Environment variables are part of the function's configuration: they are visible to "
        "anyone allowed to read the function (console, `GetFunctionConfiguration`), stored in "
        "the template's history, and usually end up in logs and crash reports."
    ),
    remediation=(
        "Keep the secret in Secrets Manager or SSM Parameter Store and pass its name:\n"
        "```yaml\nEnvironment:\n  Variables:\n    DB_SECRET_ARN: !Ref DatabaseSecret\n```\n"
        "then read it at run time (or use a `{{resolve:secretsmanager:...}}` reference)."
    ),
    references=(
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html",
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html",
    ),
)
def secret_in_environment(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Lambda::Function", include_sam=True):
        variables = res.prop("Environment", "Variables")
        if not isinstance(variables, dict):
            continue
        for name, value in variables.items():
            if isinstance(name, str) and is_secret_name(name) and is_literal_secret_value(value):
                line = variables.lines.get(name) if isinstance(variables, LineDict) else None
                yield Hit(
                    f"environment variable {name} holds a literal value",
                    line=line or res.prop_line("Environment", "Variables"),
                    resource=res.logical_id,
                )


_FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide/lambda-controls.html"
_FUNCTION = "AWS::Lambda::Function"
_SAM_FUNCTION = "AWS::Serverless::Function"
_SCOPING_KEYS = ("SourceArn", "SourceAccount", "PrincipalOrgID")


def _functions(tpl: Template) -> Iterator[Resource]:
    """Lambda functions, SAM functions included as the function they expand to (their
    `Globals.Function` applied, DeadLetterQueue mapped to DeadLetterConfig)."""
    return tpl.of_type(_FUNCTION, include_sam=True)


def _setting(res: Resource, key: str) -> tuple[Any, int | None]:
    """A function property and its line (the resource's line when it is not set)."""
    if key in res.properties:
        return res.properties[key], res.prop_line(key)
    return MISSING, res.properties_line


def _present(tpl: Template, value: Any) -> bool:
    """Set, not empty, and not removable with AWS::NoValue."""
    if value is MISSING or value is None:
        return False
    return not any(v is NO_VALUE or v in ("", []) for v in tpl.possible_values(value))


@rule(
    id="CF-LAMBDA-002",
    controls=("fsbp Lambda.1", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="Lambda function invocable by anyone",
    severity="high",
    resource_types=("AWS::Lambda::Permission",),
    description=(
        "An AWS::Lambda::Permission for the principal `*` without SourceArn, SourceAccount "
        "or PrincipalOrgID lets any AWS account (or, for function URLs, anyone on the "
        "internet) invoke the function: they run your code with its role's permissions, on "
        "your bill. A principal taken from a parameter without a default is reported too. "
        "Relates to AWS FSBP Lambda.1."
    ),
    remediation=(
        "Grant the calling service, scoped to the calling resource:\n"
        "```yaml\nInvokeFromBucket:\n  Type: AWS::Lambda::Permission\n  Properties:\n"
        "    FunctionName: !Ref ResizeFunction\n    Action: lambda:InvokeFunction\n"
        "    Principal: s3.amazonaws.com\n    SourceArn: !GetAtt UploadsBucket.Arn\n"
        "    SourceAccount: !Ref AWS::AccountId\n```"
    ),
    references=(
        f"{_FSBP}#lambda-1",
        "https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html",
    ),
)
def public_permission(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Lambda::Permission"):
        principal = res.prop("Principal")
        public = principal_is_public(tpl, principal)
        if public is False:
            continue
        if any(_present(tpl, res.prop(key, default=MISSING)) for key in _SCOPING_KEYS):
            continue
        who = "anyone" if public else f"a principal from {describe(principal)} (unresolved)"
        yield Hit(
            f"the permission lets {who} invoke the function, with no SourceArn, "
            "SourceAccount or PrincipalOrgID",
            line=res.prop_line("Principal"),
            resource=res.logical_id,
        )


@rule(
    id="CF-LAMBDA-003",
    controls=("fsbp Lambda.1", "nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="Lambda function URL without authentication",
    severity="medium",
    resource_types=("AWS::Lambda::Function", "AWS::Lambda::Url", "AWS::Serverless::Function"),
    description=(
        "A function URL with AuthType NONE is a public HTTPS endpoint: anyone who finds the "
        "URL can invoke the function as often as they like, so the function itself must "
        "authenticate callers, validate every input and withstand abuse (and the bill). "
        "Webhooks that verify a signature may need it; anything else should use AWS_IAM or "
        "sit behind API Gateway or CloudFront with authentication."
    ),
    remediation=(
        "```yaml\nFunctionUrl:\n  Type: AWS::Lambda::Url\n  Properties:\n"
        "    TargetFunctionArn: !GetAtt ApiFunction.Arn\n    AuthType: AWS_IAM\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html",
        f"{_FSBP}#lambda-1",
    ),
)
def function_url_without_auth(tpl: Template) -> Iterator[Hit]:
    good = frozenset({"aws_iam"})
    what = "anyone on the internet can call the function"
    for res in tpl.of_type("AWS::Lambda::Url", _FUNCTION, include_sam=True):
        if res.type == "AWS::Lambda::Url":
            hit = require_value(tpl, res, "AuthType", good=good, what=what)
        elif res.sam_type == _SAM_FUNCTION and isinstance(res.prop("FunctionUrlConfig"), dict):
            hit = require_value(tpl, res, "FunctionUrlConfig", "AuthType", good=good, what=what)
        else:
            continue
        if hit:
            yield hit


# Runtime identifier → the date Lambda deprecated it (no more security patches). A runtime is
# reported from that date on; add entries as AWS announces deprecations.
DEPRECATED_RUNTIMES = {
    "nodejs": "2016-10-31",
    "nodejs4.3": "2020-03-05",
    "nodejs4.3-edge": "2020-04-30",
    "nodejs6.10": "2019-08-12",
    "nodejs8.10": "2020-03-06",
    "nodejs10.x": "2021-07-30",
    "nodejs12.x": "2023-03-31",
    "nodejs14.x": "2023-12-04",
    "nodejs16.x": "2024-06-12",
    "nodejs18.x": "2025-09-01",
    "nodejs20.x": "2026-04-30",
    "python2.7": "2021-07-15",
    "python3.6": "2022-07-18",
    "python3.7": "2023-12-04",
    "python3.8": "2024-10-14",
    "python3.9": "2025-12-15",
    "python3.10": "2026-06-30",
    "ruby2.5": "2021-07-30",
    "ruby2.7": "2023-12-07",
    "ruby3.2": "2026-03-31",
    "java8": "2024-01-08",
    "go1.x": "2024-01-08",
    "provided": "2024-01-08",
    "dotnetcore1.0": "2019-07-30",
    "dotnetcore2.0": "2019-05-30",
    "dotnetcore2.1": "2022-01-05",
    "dotnetcore3.1": "2023-04-03",
    "dotnet5.0": "2022-05-10",
    "dotnet6": "2024-12-20",
    "dotnet7": "2024-05-14",
    "dotnet8": "2026-11-10",
}


@rule(
    id="CF-LAMBDA-004",
    controls=("fsbp Lambda.2", "nist-800-53-r5 SI-2", "pci-dss-4.0 6.3.3"),
    artifact_type="cloudformation",
    title="Lambda function uses a deprecated runtime",
    severity="medium",
    resource_types=("AWS::Lambda::Function",),
    description=(
        "Once Lambda deprecates a runtime, its language version and operating system stop "
        "receiving security patches, and soon after, functions using it can no longer be "
        "created or updated, which blocks the next urgent fix. The rule keeps a table of "
        "deprecated runtimes with their deprecation dates (Python up to 3.10, Node.js up to "
        "20, Ruby up to 3.2, Java 8 on Amazon Linux 1, .NET up to 8, go1.x, provided) and "
        "reports a runtime from its date on. A runtime taken from a parameter without a "
        "default is reported too. Relates to AWS FSBP Lambda.2."
    ),
    remediation=(
        "Move to a supported runtime and test the function on it:\n"
        "```yaml\nRuntime: python3.13\n```"
    ),
    references=(
        f"{_FSBP}#lambda-2",
        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html",
    ),
)
def deprecated_runtime(tpl: Template) -> Iterator[Hit]:
    today = date.today().isoformat()
    for res in _functions(tpl):
        value, line = _setting(res, "Runtime")
        if value is MISSING or value is None:
            continue  # container image functions have no runtime
        for runtime in tpl.possible_values(value):
            since = (
                DEPRECATED_RUNTIMES.get(runtime.strip().lower())
                if isinstance(runtime, str)
                else None
            )
            if since and since <= today:
                yield Hit(
                    f"runtime {runtime} has been deprecated since {since}",
                    line=line,
                    resource=res.logical_id,
                )
                break
        else:
            if param_unknown(tpl, value):
                yield Hit(
                    f"Runtime comes from {describe(value)}, which cannot be resolved from the "
                    "template: make sure it is a supported runtime",
                    line=line,
                    resource=res.logical_id,
                )


def _failure_destinations(tpl: Template) -> set[str]:
    """Functions given an on-failure destination by an AWS::Lambda::EventInvokeConfig."""
    by_name = {
        res.prop("FunctionName"): res.logical_id
        for res in _functions(tpl)
        if isinstance(res.prop("FunctionName"), str)
    }
    found = set()
    for res in tpl.of_type("AWS::Lambda::EventInvokeConfig"):
        if not _present(
            tpl, res.prop("DestinationConfig", "OnFailure", "Destination", default=MISSING)
        ):
            continue
        target = res.prop("FunctionName")
        if isinstance(target, dict) and isinstance(target.get("Ref"), str):
            found.add(target["Ref"])
        elif isinstance(target, dict) and isinstance(target.get("Fn::GetAtt"), list):
            found.add(str(target["Fn::GetAtt"][0]))
        elif isinstance(target, str) and target in by_name:
            found.add(by_name[target])
    return found


@rule(
    id="CF-LAMBDA-005",
    artifact_type="cloudformation",
    title="Lambda function without a dead-letter queue",
    severity="low",
    resource_types=(
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Function",
        "AWS::Serverless::Function",
    ),
    description=(
        "Events from asynchronous invocations (S3, SNS, EventBridge, `Event` invokes) that "
        "still fail after Lambda's retries are dropped silently unless the function has a "
        "dead-letter queue (DeadLetterConfig) or an on-failure destination (an "
        "EventInvokeConfig). Functions only ever invoked synchronously can ignore this."
    ),
    remediation=(
        "```yaml\nDeadLetterConfig:\n  TargetArn: !GetAtt ProcessorDLQ.Arn\n```\n"
        "(SAM: `DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt ProcessorDLQ.Arn}`), or an "
        "`AWS::Lambda::EventInvokeConfig` with `DestinationConfig.OnFailure`."
    ),
    references=(
        "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
    ),
)
def function_without_dlq(tpl: Template) -> Iterator[Hit]:
    destinations = _failure_destinations(tpl)
    for res in _functions(tpl):
        if res.logical_id in destinations:
            continue
        name = "DeadLetterConfig"
        if res.sam_type == _SAM_FUNCTION:
            invoke, _ = _setting(res, "EventInvokeConfig")
            destination = invoke.get("DestinationConfig") if isinstance(invoke, dict) else None
            if isinstance(destination, dict) and _present(
                tpl, destination.get("OnFailure", MISSING)
            ):
                continue
            name = "DeadLetterQueue"
        value, line = _setting(res, "DeadLetterConfig")
        target = value.get("TargetArn", MISSING) if isinstance(value, dict) else value
        if value is MISSING:
            yield Hit(
                f"no {name} or on-failure destination: failed asynchronous events are lost",
                line=res.properties_line,
                resource=res.logical_id,
            )
        elif not _present(tpl, target):
            yield Hit(
                f"{name} has no target, or it can be removed",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-LAMBDA-006",
    controls=("fsbp Lambda.3", "nist-800-53-r5 SC-7", "pci-dss-4.0 1.3.1"),
    artifact_type="cloudformation",
    title="Lambda function not connected to a VPC",
    severity="info",
    resource_types=("AWS::Lambda::Function",),
    description=(
        "A function outside a VPC reaches the internet directly and reaches private "
        "resources only through public endpoints; inside a VPC, its traffic goes through "
        "security groups, VPC endpoints and flow logs you control. Functions that only call "
        "AWS APIs may reasonably stay outside, hence the informational severity. Relates to "
        "AWS FSBP Lambda.3."
    ),
    remediation=(
        "```yaml\nVpcConfig:\n  SubnetIds: [!Ref PrivateSubnetA, !Ref PrivateSubnetB]\n"
        "  SecurityGroupIds: [!Ref FunctionSecurityGroup]\n```"
    ),
    references=(
        f"{_FSBP}#lambda-3",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    ),
)
def function_outside_vpc(tpl: Template) -> Iterator[Hit]:
    for res in _functions(tpl):
        value, line = _setting(res, "VpcConfig")
        if value is MISSING:
            yield Hit("no VpcConfig is declared", line=res.properties_line, resource=res.logical_id)
        elif not isinstance(value, dict) or is_intrinsic(value):
            if not _present(tpl, value):
                yield Hit("VpcConfig can be removed", line=line, resource=res.logical_id)
        elif not _present(tpl, value.get("SubnetIds", MISSING)):
            yield Hit("VpcConfig has no SubnetIds", line=line, resource=res.logical_id)


@rule(
    id="CF-LAMBDA-007",
    artifact_type="cloudformation",
    title="Lambda function without reserved concurrency",
    severity="info",
    resource_types=("AWS::Lambda::Function",),
    description=(
        "Without ReservedConcurrentExecutions, one function can take the whole account's "
        "concurrency during a burst or a retry storm and throttle every other function, and "
        "nothing caps how many copies run (and bill) at once. Reserving concurrency both "
        "guarantees and limits it."
    ),
    remediation="Set `ReservedConcurrentExecutions: 50` (sized to the function's peak).",
    references=("https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html",),
)
def function_without_reserved_concurrency(tpl: Template) -> Iterator[Hit]:
    for res in _functions(tpl):
        value, line = _setting(res, "ReservedConcurrentExecutions")
        if value is MISSING:
            yield Hit(
                "ReservedConcurrentExecutions is not set",
                line=res.properties_line,
                resource=res.logical_id,
            )
        elif not _present(tpl, value):
            yield Hit(
                "ReservedConcurrentExecutions can be removed",
                line=line,
                resource=res.logical_id,
            )


@rule(
    id="CF-LAMBDA-010",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="Lambda environment variables without a customer managed key",
    severity="low",
    resource_types=("AWS::Lambda::Function",),
    description=(
        "A function's environment variables are encrypted with the AWS managed key "
        "aws/lambda unless KmsKeyArn names a key of your own: anyone allowed to read the "
        "function's configuration then sees them decrypted, with no key policy to narrow it "
        "and no CloudTrail record of each decryption. Only functions that set variables are "
        "checked."
    ),
    remediation=(
        "```yaml\nOrdersFunction:\n  Type: AWS::Lambda::Function\n  Properties:\n"
        "    KmsKeyArn: !GetAtt FunctionsKey.Arn\n    Environment:\n      Variables:\n"
        "        TABLE_NAME: !Ref OrdersTable\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
        "https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#customer-cmk",
    ),
)
def environment_without_cmk(tpl: Template) -> Iterator[Hit]:
    for res in _functions(tpl):
        variables = res.prop("Environment", "Variables")
        if not isinstance(variables, dict) or not variables or is_intrinsic(variables):
            continue
        key = res.prop("KmsKeyArn", default=MISSING)
        if (
            key is MISSING
            or key is None
            or any(v is NO_VALUE or v == "" for v in tpl.possible_values(key))
        ):
            yield Hit(
                "KmsKeyArn is not set, so the variables are encrypted with aws/lambda",
                res.prop_line("KmsKeyArn"),
                res.logical_id,
            )


@rule(
    id="CF-LAMBDA-009",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="Lambda permission for a service without a source",
    severity="medium",
    resource_types=("AWS::Lambda::Permission",),
    description=(
        "A permission for a service principal (s3.amazonaws.com, sns.amazonaws.com, "
        "events.amazonaws.com...) without SourceArn or SourceAccount lets that service "
        "invoke the function on behalf of any account's resource: another customer can "
        "point their bucket notifications, topic or rule at your function (the confused "
        "deputy problem). For S3, whose bucket ARNs hold no account id, SourceAccount is "
        "what ties the bucket to you."
    ),
    remediation=(
        "```yaml\nInvokeFromUploads:\n  Type: AWS::Lambda::Permission\n  Properties:\n"
        "    FunctionName: !Ref ResizeFunction\n    Action: lambda:InvokeFunction\n"
        "    Principal: s3.amazonaws.com\n    SourceArn: !GetAtt UploadsBucket.Arn\n"
        "    SourceAccount: !Ref AWS::AccountId\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-services.html",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
    ),
)
def service_permission_without_source(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::Lambda::Permission"):
        principals = tpl.possible_values(res.prop("Principal"))
        services = [
            p for p in principals if isinstance(p, str) and p.strip().endswith(".amazonaws.com")
        ]
        if not services:
            continue
        if any(_present(tpl, res.prop(key, default=MISSING)) for key in _SCOPING_KEYS):
            continue
        yield Hit(
            f"{services[0]} may invoke the function for any account's resources: no "
            "SourceArn or SourceAccount",
            res.prop_line("Principal"),
            res.logical_id,
        )


@rule(
    id="CF-LAMBDA-011",
    controls=("fsbp Lambda.7",),
    artifact_type="cloudformation",
    title="Lambda function without active X-Ray tracing",
    severity="low",
    resource_types=("AWS::Lambda::Function",),
    description=(
        "Unless TracingConfig.Mode is Active (Tracing: Active on a SAM function), the "
        "function records no X-Ray traces of its own: the calls it makes to other services, "
        "their latency and errors cannot be followed from the request that caused them, "
        "which slows down investigating failures and abuse. Relates to AWS FSBP Lambda.7."
    ),
    remediation=(
        "```yaml\nOrdersFunction:\n  Type: AWS::Lambda::Function\n  Properties:\n"
        "    TracingConfig:\n      Mode: Active\n```\n(the role needs "
        "xray:PutTraceSegments and xray:PutTelemetryRecords)"
    ),
    references=(
        f"{_FSBP}#lambda-7",
        "https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
    ),
)
def function_without_tracing(tpl: Template) -> Iterator[Hit]:
    for res in _functions(tpl):
        hit = one_of(
            tpl,
            res,
            "TracingConfig",
            "Mode",
            good=("Active",),
            what="the function records no traces",
            label="TracingConfig.Mode",
        )
        if hit:
            yield hit


@rule(
    id="CF-LAMBDA-012",
    artifact_type="cloudformation",
    title="Lambda functions share an execution role",
    severity="low",
    resource_types=("AWS::Lambda::Function",),
    description=(
        "Functions that run under one execution role each hold the permissions all of them "
        "need: a flaw in the smallest function reaches every table, queue and secret the "
        "others use, and no policy can be trimmed to one function's needs. Give each "
        "function a role of its own."
    ),
    remediation=(
        "```yaml\nResizeRole:\n  Type: AWS::IAM::Role\n  Properties:\n"
        "    AssumeRolePolicyDocument: ...\nResizeFunction:\n  Type: AWS::Lambda::Function\n"
        "  Properties:\n    Role: !GetAtt ResizeRole.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
        "https://docs.aws.amazon.com/wellarchitected/latest/serverless-applications-lens/identity-and-access-management.html",
    ),
)
def shared_execution_role(tpl: Template) -> Iterator[Hit]:
    by_role: dict[str, list[Resource]] = {}
    for res in tpl.of_type("AWS::Lambda::Function"):
        role = res.prop("Role", default=MISSING)
        if role is MISSING or role is None or role == {"Ref": "AWS::NoValue"}:
            continue
        by_role.setdefault(repr(role), []).append(res)
    for functions in by_role.values():
        if len(functions) < 2:
            continue
        for res in functions:
            others = ", ".join(f.logical_id for f in functions if f is not res)
            yield Hit(
                f"the execution role is also the role of {others}",
                line=res.prop_line("Role"),
                resource=res.logical_id,
            )
