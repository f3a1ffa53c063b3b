"""Rules about the user an image's containers run as."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image
from rules.dockerfile._helpers import cis
from rules.dockerfile.user import is_root
from rules.image._helpers import OCI_CONFIG, where

_K8S_SECURITY_CONTEXT = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/"


@rule(
    id="IMG-USER-001",
    controls=("cis-docker-1.6 4.1", "nist-800-53-r5 AC-6"),
    artifact_type="image",
    title="Image runs as root by default",
    severity="high",
    description=(
        "The image configuration's `User` is empty, `root` or UID 0, so every container started "
        "from it runs its process as root unless the deployment overrides the user. A flaw in "
        "the application then hands an attacker root inside the container, one step from the "
        "host's kernel and from every volume the container mounts. The configuration is what "
        "was built, whatever the Dockerfile says: a base image's user, a later `USER root`, "
        "or a tool that sets none all end up here."
    ),
    remediation=(
        "Give the image an unprivileged numeric user as the last step of its build:\n"
        "`RUN useradd --system --uid 10001 app`\n`USER 10001:10001`\n"
        "and check the result with `docker image inspect --format '{{.Config.User}}' IMAGE`."
    ),
    references=(OCI_CONFIG, "https://docs.docker.com/reference/dockerfile/#user", cis("4.1")),
)
def runs_as_root(image: Image) -> Iterator[Hit]:
    user = image.user
    if not user:
        yield Hit(f"{where(image)} sets no user, so it runs as root", line=image.line("User"))
    elif is_root(user):
        yield Hit(f"{where(image)} runs as {user}", line=image.line("User"))


@rule(
    id="IMG-USER-002",
    artifact_type="image",
    title="Image user given by name, not by numeric UID",
    severity="low",
    description=(
        "A user given by name (`app`) is looked up in the image's /etc/passwd when the "
        "container starts. Kubernetes cannot check such a user against `runAsNonRoot: true` "
        'and refuses to start the pod ("image has non-numeric user"), and a later layer or '
        "base image that remaps the name silently changes who the process runs as."
    ),
    remediation=(
        "Set the user by UID (and GID): `USER 10001:10001`, with the account created earlier "
        "in the build (`RUN useradd --system --uid 10001 app`)."
    ),
    references=(_K8S_SECURITY_CONTEXT, OCI_CONFIG),
)
def user_by_name(image: Image) -> Iterator[Hit]:
    user = image.user
    if not user or is_root(user):
        return
    name = user.split(":", 1)[0]
    if not name.isdigit():
        yield Hit(
            f"the user {user!r} is a name: runAsNonRoot cannot verify it", line=image.line("User")
        )
