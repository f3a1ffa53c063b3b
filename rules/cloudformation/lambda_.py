"""Lambda rules."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import LineDict, Template
from rules._secrets import is_literal_secret_value, is_secret_name


@rule(
    id="CF-LAMBDA-001",
    artifact_type="cloudformation",
    title="Secret in Lambda environment variables",
    severity="high",
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
    for res in tpl.of_type("AWS::Lambda::Function", "AWS::Serverless::Function"):
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
