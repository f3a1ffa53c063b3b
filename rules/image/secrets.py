"""Rules about credentials carried in an image's configuration and build history."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image
from chalicelib.parsers.json_lines import line_of
from rules._secrets import is_literal_secret_value, is_secret_name
from rules.dockerfile._helpers import cis
from rules.dockerfile.secrets import credentials_in_url, secret_in_run, url_credentials
from rules.image._helpers import DOCKER_INSPECT, history_hits, step_label

_BUILD_SECRETS = "https://docs.docker.com/build/building/secrets/"
# values tools are given when they insist on having a credential
_PLACEHOLDERS = frozenset({"fake", "dummy", "placeholder", "unused", "none", "null", "xxx", "-"})
_NAME_HINTS = ("pass", "pwd", "secret", "token", "credential", "key")


def _secret(name: str, value: str) -> bool:
    lower = name.lower()
    if not any(hint in lower for hint in _NAME_HINTS) or not is_secret_name(name):
        return False
    return is_literal_secret_value(value) and value.strip().lower() not in _PLACEHOLDERS


@rule(
    id="IMG-SECRET-001",
    controls=("cis-docker-1.6 4.10", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="image",
    title="Secret stored in the image configuration",
    severity="high",
    description=(
        "An environment variable or label named like a credential (`DB_PASSWORD`, "
        "`API_TOKEN`, `AWS_SECRET_ACCESS_KEY`) holds a literal value, or a value carries a URL "
        "with a password (`postgres://app:s3cret@db/app`). The image configuration is public "
        "to everyone who can pull the image (`docker image inspect` prints it), is copied to "
        "every registry and cache the image passes through, and every container inherits the "
        "variable, where child processes, crash reports and `/proc/*/environ` expose it."
    ),
    remediation=(
        "Remove the value from the build (no `ENV DB_PASSWORD=...`, no `--build-arg` turned "
        "into ENV) and give it to the container when it starts: `docker run --env-file`, a "
        "Kubernetes Secret (`envFrom: secretRef`), or a file mounted from a secrets manager. "
        "Rotate the credential: it has been published with the image."
    ),
    references=(_BUILD_SECRETS, DOCKER_INSPECT, cis("4.10")),
)
def secret_in_config(image: Image) -> Iterator[Hit]:
    for var in image.env:
        if _secret(var.name, var.value):
            yield Hit(
                f"environment variable {var.name} holds a literal secret",
                line=var.line,
                resource=var.name,
            )
        elif "://" in var.value and "@" in var.value:
            found = url_credentials(var.value)
            if found:
                yield Hit(
                    f"environment variable {var.name} holds a URL with a password ({found})",
                    line=var.line,
                    resource=var.name,
                )
    labels = image.labels
    for name, value in labels.items():
        if isinstance(value, str) and _secret(name, value):
            yield Hit(
                f"label {name} holds a literal secret",
                line=line_of(labels, name, image.line("Labels")),
                resource=name,
            )


@rule(
    id="IMG-SECRET-002",
    controls=("cis-docker-1.6 4.10", "nist-800-53-r5 IA-5(7)", "pci-dss-4.0 8.6.2"),
    artifact_type="image",
    title="Credential recorded in the image build history",
    severity="high",
    description=(
        "The image's history keeps the command behind every layer, with the build arguments "
        "it saw (`RUN |1 NPM_TOKEN=... /bin/sh -c npm ci`). A password or token typed on a "
        "RUN command line, passed as a build argument, or written into a URL is therefore "
        "readable by everyone who can pull the image (`docker history --no-trunc`), even when "
        "the Dockerfile later deletes every file that used it."
    ),
    remediation=(
        "Rebuild with the credential as a build secret, which is mounted for one step and "
        "never recorded: `RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat "
        "/run/secrets/npm_token) npm ci`, built with `docker build --secret "
        "id=npm_token,env=NPM_TOKEN .`. Rotate the credential: it has been published."
    ),
    references=(_BUILD_SECRETS, "https://docs.docker.com/reference/cli/docker/image/history/"),
)
def secret_in_history(image: Image) -> Iterator[Hit]:
    seen: set[int] = set()
    for check in (secret_in_run, credentials_in_url):
        for step, hit in history_hits(image, check):
            if step.index not in seen:
                seen.add(step.index)
                yield Hit(f"{step_label(step)}: {hit.message}", line=step.line)
