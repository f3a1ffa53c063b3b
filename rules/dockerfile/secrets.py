"""Rules about credentials written into the image."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules._secrets import is_literal_secret_value, is_secret_name
from rules.dockerfile._helpers import key_values


@rule(
    id="DF-SECRET-001",
    artifact_type="dockerfile",
    title="Secret value hard-coded in ENV or ARG",
    severity="high",
    description=(
        "Values given to ENV and ARG are stored in the image configuration and its history: "
        "anyone who can pull the image can read a password or token written there, and it "
        "stays in every copy of the image and of the Dockerfile's repository."
    ),
    remediation=(
        "Pass the secret at run time (`docker run -e DB_PASSWORD`, an orchestrator secret), or "
        "mount it only for the build step that needs it:\n"
        "`RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci`"
    ),
    references=(
        "https://docs.docker.com/build/building/secrets/",
        "https://docs.docker.com/reference/dockerfile/#env",
    ),
)
def hardcoded_secret(df: Dockerfile) -> Iterator[Hit]:
    for ins in df.find("ENV", "ARG"):
        for name, value in key_values(ins):
            if is_secret_name(name) and is_literal_secret_value(value):
                yield Hit(f"{ins.cmd} {name} is given a literal value", line=ins.line)


@rule(
    id="DF-SECRET-002",
    artifact_type="dockerfile",
    title="Secret passed as a build argument",
    severity="medium",
    description=(
        "A build argument named like a credential is meant to receive one with "
        "`--build-arg`. Build arguments are recorded in the image history and build "
        "provenance, so the secret leaks to everyone who can pull the image."
    ),
    remediation=(
        "Use a build secret instead of an ARG: `RUN --mount=type=secret,id=api_token "
        "./fetch-deps.sh` and build with `docker build --secret id=api_token,env=API_TOKEN .`"
    ),
    references=(
        "https://docs.docker.com/build/building/secrets/",
        "https://docs.docker.com/reference/dockerfile/#arg",
    ),
)
def secret_build_arg(df: Dockerfile) -> Iterator[Hit]:
    for ins in df.find("ARG"):
        for name, value in key_values(ins):
            if value is None and is_secret_name(name):
                yield Hit(f"ARG {name} receives a secret as a build argument", line=ins.line)
