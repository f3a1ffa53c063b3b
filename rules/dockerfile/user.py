"""Rules about the user the container runs as."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import effective

_ROOT_USERS = frozenset({"root", "0", "containeradministrator"})


def is_root(user: str) -> bool:
    """`root`, `0`, `root:staff`, `0:0` and Windows' ContainerAdministrator are root."""
    name = user.strip().strip("'\"").split(":", 1)[0]
    return name.lower() in _ROOT_USERS


@rule(
    id="DF-USER-001",
    artifact_type="dockerfile",
    title="Container runs as root",
    severity="high",
    description=(
        "Without a USER instruction in the final stage (or with USER root), the container's "
        "process runs as root. Any flaw in the application then gives an attacker root inside "
        "the container, which makes escaping to the host and tampering with mounted volumes "
        "much easier."
    ),
    remediation=(
        "Create an unprivileged user and switch to it at the end of the final stage:\n"
        "`RUN useradd --system --uid 10001 app`\n`USER 10001`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#user",
        "https://docs.docker.com/build/building/best-practices/#user",
    ),
)
def runs_as_root(df: Dockerfile) -> Iterator[Hit]:
    users = effective(df, "USER")
    final = df.final_stage
    if not users:
        if "nonroot" in final.base_image.lower() or "rootless" in final.base_image.lower():
            return  # e.g. gcr.io/distroless/static:nonroot sets an unprivileged user
        yield Hit(
            f"the final stage (FROM {final.base_image}) never sets USER, so it runs as root",
            line=final.line,
        )
        return
    last = users[-1]
    if is_root(last.args):
        yield Hit(f"the final stage switches to USER {last.args.strip()}", line=last.line)
