"""Secrets Manager and Parameter Store rules: rotation, customer managed keys, secret values in
templates and in plain-text parameters."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import NO_VALUE, Template
from rules._secrets import is_secret_name
from rules.cloudformation._helpers import MISSING, refers_to, written

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide"
_SECRET = "AWS::SecretsManager::Secret"
_AWS_MANAGED_KEYS = frozenset({"alias/aws/secretsmanager"})


@rule(
    id="CF-SM-001",
    controls=("fsbp SecretsManager.1", "nist-800-53-r5 IA-5"),
    artifact_type="cloudformation",
    title="Secrets Manager secret without automatic rotation",
    severity="medium",
    resource_types=("AWS::SecretsManager::RotationSchedule", "AWS::SecretsManager::Secret"),
    description=(
        "A secret that is never rotated stays valid for as long as it exists: a copy leaked "
        "in a log, a laptop or a former employee's notes keeps working. Automatic rotation "
        "limits how long a leaked value is useful. No AWS::SecretsManager::RotationSchedule "
        "in the template refers to this secret."
    ),
    remediation=(
        "```yaml\nDatabaseSecretRotation:\n  Type: AWS::SecretsManager::RotationSchedule\n"
        "  Properties:\n    SecretId: !Ref DatabaseSecret\n"
        "    HostedRotationLambda:\n      RotationType: PostgreSQLSingleUser\n"
        "    RotationRules:\n      ScheduleExpression: rate(30 days)\n```"
    ),
    references=(
        f"{_HUB}/secretsmanager-controls.html#secretsmanager-1",
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html",
    ),
)
def secret_without_rotation(tpl: Template) -> Iterator[Hit]:
    secrets = list(tpl.of_type(_SECRET))
    if not secrets:
        return
    schedules = [s.prop("SecretId") for s in tpl.of_type("AWS::SecretsManager::RotationSchedule")]
    for res in secrets:
        name = res.prop("Name")
        if any(refers_to(target, res.logical_id) for target in schedules):
            continue
        if isinstance(name, str) and name in schedules:  # SecretId may be the secret's name
            continue
        yield Hit(
            "no RotationSchedule refers to this secret", line=res.line, resource=res.logical_id
        )


@rule(
    id="CF-SM-002",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="Secrets Manager secret not using a customer managed key",
    severity="low",
    resource_types=("AWS::SecretsManager::Secret",),
    description=(
        "Without KmsKeyId, a secret is encrypted with the AWS managed key aws/secretsmanager, "
        "whose key policy you cannot change: anyone in the account with "
        "secretsmanager:GetSecretValue can decrypt it, and the secret cannot be shared with "
        "another account."
    ),
    remediation=(
        "```yaml\nDatabaseSecret:\n  Type: AWS::SecretsManager::Secret\n  Properties:\n"
        "    KmsKeyId: !Ref SecretsKey\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html",
    ),
)
def secret_without_cmk(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_SECRET):
        value = res.prop("KmsKeyId", default=MISSING)
        if value is MISSING or value is None:
            yield Hit(
                "no KmsKeyId is set, so the AWS managed key aws/secretsmanager is used",
                line=res.properties_line,
                resource=res.logical_id,
            )
            continue
        values = tpl.possible_values(value)
        if any(
            v is NO_VALUE or v == "" or (isinstance(v, str) and v.strip() in _AWS_MANAGED_KEYS)
            for v in values
        ):
            yield Hit(
                "KmsKeyId can be the AWS managed key aws/secretsmanager",
                line=res.prop_line("KmsKeyId"),
                resource=res.logical_id,
            )


@rule(
    id="CF-SM-003",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Secrets Manager secret value written in the template",
    severity="high",
    resource_types=("AWS::SecretsManager::Secret",),
    description=(
        "A SecretString written as a literal is stored in the template, its version history, "
        "every copy of the repository and the stack's template in CloudFormation: the secret "
        "is exposed before Secrets Manager ever protects it."
    ),
    remediation=(
        "Let Secrets Manager generate the value:\n"
        "```yaml\nDatabaseSecret:\n  Type: AWS::SecretsManager::Secret\n  Properties:\n"
        '    GenerateSecretString:\n      SecretStringTemplate: \'{"username": "app"}\'\n'
        "      GenerateStringKey: password\n      PasswordLength: 32\n```\n"
        "or pass it as a NoEcho parameter without Default at deploy time."
    ),
    references=(
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/cfn-example_RDSsecret.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/security-best-practices.html#creds",
    ),
)
def secret_value_in_template(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_SECRET):
        value = res.prop("SecretString", default=MISSING)
        if value is MISSING or value is None:
            continue
        if written(value):
            yield Hit(
                "SecretString holds a value written in the template",
                line=res.prop_line("SecretString"),
                resource=res.logical_id,
            )


@rule(
    id="CF-SSM-001",
    controls=("nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Secret stored in a plain-text SSM parameter",
    severity="medium",
    resource_types=("AWS::SSM::Parameter",),
    description=(
        "CloudFormation can only create String and StringList parameters: a parameter whose "
        "name says it holds a password, token or key is stored unencrypted, readable by "
        "anyone allowed ssm:GetParameter without any KMS permission, and shown in clear in "
        "the console and the parameter's history. When its Value is written in the template, "
        "the secret is in the repository too."
    ),
    remediation=(
        "Keep the secret in Secrets Manager (or create a SecureString parameter outside "
        "CloudFormation) and reference it:\n```yaml\nDatabaseSecret:\n"
        "  Type: AWS::SecretsManager::Secret\n  Properties:\n"
        "    GenerateSecretString: {PasswordLength: 32, ExcludePunctuation: true}\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-securestring.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ssm-parameter.html",
    ),
)
def secret_in_plain_parameter(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type("AWS::SSM::Parameter"):
        names = tpl.possible_values(res.prop("Name"))
        leaf = [n.rstrip("/").rsplit("/", 1)[-1] for n in names if isinstance(n, str)]
        if not any(is_secret_name(n) for n in leaf):
            continue
        value = res.prop("Value")
        where = " and its Value is written in the template" if written(value) else ""
        yield Hit(
            f"parameter {leaf[0]} looks like a secret but is stored as plain text{where}",
            res.prop_line("Value"),
            res.logical_id,
        )
