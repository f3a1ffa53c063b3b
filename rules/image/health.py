"""Rules about the image's health check."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image
from rules.dockerfile._helpers import cis
from rules.image._helpers import where


@rule(
    id="IMG-HEALTH-001",
    controls=("cis-docker-1.6 4.6",),
    artifact_type="image",
    title="Image has no health check",
    severity="low",
    description=(
        "The image configuration has no `Healthcheck`, or disables the one it inherited "
        '(`Test: ["NONE"]`). Docker, Compose and Swarm then consider a container healthy as '
        "long as its process exists: a server that hangs or loses its backend keeps receiving "
        "traffic and is never restarted."
    ),
    remediation=(
        "Add a cheap probe of the service to the build:\n"
        '`HEALTHCHECK --interval=30s --timeout=3s CMD ["/app/healthcheck"]`\n'
        "(on Kubernetes, declare liveness and readiness probes in the pod spec as well: "
        "Kubernetes ignores the image's health check)."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#healthcheck", cis("4.6")),
)
def no_healthcheck(image: Image) -> Iterator[Hit]:
    check = image.healthcheck
    test = check.get("Test") if check is not None else None
    if not isinstance(test, list) or not test:
        line = image.line("Healthcheck")
        yield Hit(f"{where(image)} declares no health check", line=line)
    elif test[0] == "NONE":
        yield Hit(f"{where(image)} disables its health check", line=image.line("Healthcheck"))
