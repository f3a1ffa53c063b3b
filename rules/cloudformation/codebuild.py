"""CodeBuild and CodeStar rules: artifact and log encryption, privileged builds, plaintext
secrets, public source repositories."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.cloudformation import Template
from rules._secrets import is_literal_secret_value, is_secret_name
from rules.cloudformation._helpers import as_list, customer_key, disabled, each, enabled, item_line

_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide/codebuild-controls.html"
_PROJECT = "AWS::CodeBuild::Project"


@rule(
    id="CF-CB-001",
    controls=("nist-800-53-r5 SC-12",),
    artifact_type="cloudformation",
    title="CodeBuild project without a customer managed key",
    severity="low",
    resource_types=("AWS::CodeBuild::Project",),
    description=(
        "Without EncryptionKey, a CodeBuild project encrypts its build artifacts and cache "
        "with the AWS managed key aws/s3: anyone who can read the bucket can read the "
        "artifacts, and use of the key cannot be restricted to the pipeline."
    ),
    remediation=(
        "```yaml\nAppBuild:\n  Type: AWS::CodeBuild::Project\n  Properties:\n"
        "    EncryptionKey: !GetAtt BuildKey.Arn\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/codebuild/latest/userguide/security-encryption.html",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-codebuild-project.html",
    ),
)
def project_without_cmk(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl, _PROJECT, customer_key, "EncryptionKey", what="artifacts use the AWS managed key"
    )


@rule(
    id="CF-CB-002",
    controls=("fsbp CodeBuild.5", "nist-800-53-r5 AC-6"),
    artifact_type="cloudformation",
    title="CodeBuild project runs privileged builds",
    severity="medium",
    resource_types=("AWS::CodeBuild::Project",),
    description=(
        "Environment.PrivilegedMode: true runs the build container with root on the build "
        "host's Docker daemon: code from a pull request or a compromised dependency can "
        "escape the container and read the credentials of every step. It is needed only "
        "to build Docker images. Relates to AWS FSBP CodeBuild.5."
    ),
    remediation=(
        "Set `PrivilegedMode: false`, or keep image builds in a separate project that only "
        "trusted branches can start."
    ),
    references=(
        f"{_HUB}#codebuild-5",
        "https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-available.html",
    ),
)
def privileged_build(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl,
        _PROJECT,
        disabled,
        "Environment",
        "PrivilegedMode",
        what="builds run with root on the Docker host",
    )


@rule(
    id="CF-CB-003",
    controls=("fsbp CodeBuild.3", "fsbp CodeBuild.7", "nist-800-53-r5 SC-28", "pci-dss-4.0 3.5.1"),
    artifact_type="cloudformation",
    title="CodeBuild encryption of artifacts or S3 logs disabled",
    severity="medium",
    resource_types=("AWS::CodeBuild::Project",),
    description=(
        "EncryptionDisabled: true on a project's Artifacts, SecondaryArtifacts or "
        "LogsConfig.S3Logs stores build outputs or logs (which often echo secrets and "
        "internal URLs) unencrypted in S3. Relates to AWS FSBP CodeBuild.3 and CodeBuild.7."
    ),
    remediation="Remove `EncryptionDisabled` (or set it to false) on artifacts and S3 logs.",
    references=(
        f"{_HUB}#codebuild-3",
        f"{_HUB}#codebuild-7",
    ),
)
def unencrypted_artifacts(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_PROJECT):
        paths: list[tuple] = [("Artifacts",), ("LogsConfig", "S3Logs")]
        paths += [
            ("SecondaryArtifacts", i) for i in range(len(as_list(res.prop("SecondaryArtifacts"))))
        ]
        for path in paths:
            hit = disabled(
                tpl, res, *path, "EncryptionDisabled", what=f"{path[0]} are not encrypted"
            )
            if hit:
                yield hit


@rule(
    id="CF-CB-004",
    controls=("fsbp CodeBuild.2", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="cloudformation",
    title="Secret in CodeBuild plaintext environment variables",
    severity="high",
    resource_types=("AWS::CodeBuild::Project",),
    description=(
        "A PLAINTEXT environment variable whose name says it is a secret (password, token, "
        "key...) and whose value is written in the template is shown in the console and in "
        "BatchGetProjects output to anyone allowed to read the project, and printed by any "
        "build that dumps its environment. Relates to AWS FSBP CodeBuild.2."
    ),
    remediation=(
        "```yaml\nEnvironmentVariables:\n  - Name: NPM_TOKEN\n    Type: SECRETS_MANAGER\n"
        "    Value: ci/npm:token\n```\nor `Type: PARAMETER_STORE` with a SecureString name."
    ),
    references=(
        f"{_HUB}#codebuild-2",
        "https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.env",
    ),
)
def plaintext_secret_variable(tpl: Template) -> Iterator[Hit]:
    for res in tpl.of_type(_PROJECT):
        variables = as_list(res.prop("Environment", "EnvironmentVariables"))
        for variable in variables:
            if not isinstance(variable, dict):
                continue
            name, kind = variable.get("Name"), variable.get("Type", "PLAINTEXT")
            if not (isinstance(name, str) and is_secret_name(name)):
                continue
            if not (isinstance(kind, str) and kind.upper() == "PLAINTEXT"):
                continue
            if is_literal_secret_value(variable.get("Value")):
                yield Hit(
                    f"environment variable {name} holds a literal value in plain text",
                    item_line(variable, "Value")
                    or res.prop_line("Environment", "EnvironmentVariables"),
                    res.logical_id,
                )


@rule(
    id="CF-CODESTAR-001",
    controls=("nist-800-53-r5 AC-3", "pci-dss-4.0 7.2.1"),
    artifact_type="cloudformation",
    title="CodeStar GitHub repository created public",
    severity="medium",
    resource_types=("AWS::CodeStar::GitHubRepository",),
    description=(
        "AWS::CodeStar::GitHubRepository creates a repository on GitHub; unless IsPrivate "
        "is true it is public, and the code committed to it (often with configuration, "
        "internal host names and, too often, credentials) is readable by everyone from the "
        "first push."
    ),
    remediation=(
        "```yaml\nServiceRepository:\n  Type: AWS::CodeStar::GitHubRepository\n"
        "  Properties:\n    RepositoryName: orders-service\n    RepositoryOwner: example-org\n"
        "    IsPrivate: true\n    ConnectionArn: !Ref GitHubConnection\n```"
    ),
    references=(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-codestar-githubrepository.html",
        "https://docs.github.com/en/repositories/creating-and-managing-repositories/about-repositories#about-repository-visibility",
    ),
)
def github_repository_public(tpl: Template) -> Iterator[Hit]:
    return each(
        tpl, "AWS::CodeStar::GitHubRepository", enabled, "IsPrivate", what="repository privacy"
    )
