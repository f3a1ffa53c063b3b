"""Rules about HEALTHCHECK."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import effective


@rule(
    id="DF-HEALTH-001",
    artifact_type="dockerfile",
    title="No HEALTHCHECK in the final image",
    severity="low",
    description=(
        "Without a health check, Docker and orchestrators only know whether the process is "
        "alive, not whether it works: a hung or broken service keeps receiving traffic and is "
        "never restarted."
    ),
    remediation=(
        "Declare how to probe the service, for example:\n"
        "`HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://localhost:8080/health "
        "|| exit 1` (or `HEALTHCHECK NONE` when the platform probes it for you)."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#healthcheck",),
)
def no_healthcheck(df: Dockerfile) -> Iterator[Hit]:
    if not effective(df, "HEALTHCHECK"):
        final = df.final_stage
        yield Hit(f"the final stage (FROM {final.base_image}) has no HEALTHCHECK", line=final.line)
