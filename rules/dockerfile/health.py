"""Rules about HEALTHCHECK."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import cis, effective, overridden


def _is_none(ins: Instruction) -> bool:
    return ins.args.strip().upper() == "NONE"


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
        "|| exit 1` (or `HEALTHCHECK NONE` when the platform probes it for you, which "
        "DF-HEALTH-002 then reports for the record)."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#healthcheck", cis("4.6")),
)
def no_healthcheck(df: Dockerfile) -> Iterator[Hit]:
    if not effective(df, "HEALTHCHECK"):
        final = df.final_stage
        yield Hit(f"the final stage (FROM {final.base_image}) has no HEALTHCHECK", line=final.line)


@rule(
    id="DF-HEALTH-002",
    artifact_type="dockerfile",
    title="Health check disabled with HEALTHCHECK NONE",
    severity="info",
    description=(
        "`HEALTHCHECK NONE` switches off any health check, including one the base image "
        "defines. That is right when the orchestrator probes the service itself (Kubernetes "
        "liveness/readiness probes, ECS health checks), and wrong otherwise: a hung process "
        "then goes unnoticed. Reported for information so the choice stays visible."
    ),
    remediation=(
        "Make sure the platform probes the container; otherwise declare a check:\n"
        "`HEALTHCHECK --interval=30s --timeout=3s CMD wget -qO- http://localhost:8080/health "
        "|| exit 1`"
    ),
    references=("https://docs.docker.com/reference/dockerfile/#healthcheck", cis("4.6")),
)
def healthcheck_none(df: Dockerfile) -> Iterator[Hit]:
    checks = effective(df, "HEALTHCHECK")
    if checks and _is_none(checks[-1]):
        yield Hit("HEALTHCHECK NONE disables the image's health check", line=checks[-1].line)


@rule(
    id="DF-HEALTH-003",
    artifact_type="dockerfile",
    title="HEALTHCHECK replaced later in the same stage",
    severity="low",
    description=(
        "Only the last HEALTHCHECK of a stage takes effect. An earlier one is dead code that "
        "readers (and reviewers) take for the real probe, while the image silently uses "
        "another."
    ),
    remediation=(
        "Keep a single HEALTHCHECK per stage, normally right before CMD:\n"
        '`HEALTHCHECK CMD ["/app/healthcheck"]`'
    ),
    references=("https://docs.docker.com/reference/dockerfile/#healthcheck",),
)
def healthcheck_overridden(df: Dockerfile) -> Iterator[Hit]:
    for earlier, last in overridden(df, "HEALTHCHECK"):
        yield Hit(f"this HEALTHCHECK is replaced by the one on line {last.line}", line=earlier.line)
