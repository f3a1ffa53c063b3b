"""Rules about HEALTHCHECK."""

from __future__ import annotations

import json
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import Command, cis, effective, overridden, parse_args, parse_shell


def _is_none(ins: Instruction) -> bool:
    return ins.args.strip().upper() == "NONE"


@rule(
    id="DF-HEALTH-001",
    controls=("cis-docker-1.6 4.6",),
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
    controls=("cis-docker-1.6 4.6",),
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


def _probe_commands(ins: Instruction) -> list[Command]:
    """The commands a HEALTHCHECK runs (its CMD, in shell or exec form)."""
    text = ins.args.strip()
    head, _, rest = text.partition(" ")
    if head.upper() != "CMD":
        return []
    rest = rest.strip()
    if rest.startswith("["):
        try:
            args = json.loads(rest)
        except ValueError:
            return []
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            return []
        rest = args[2] if len(args) >= 3 and args[1] == "-c" else " ".join(args)
    return parse_shell(ins, rest)


def _fails_on_http_errors(command: Command) -> bool:
    parsed = parse_args(command.args, short_values="AbcCdDeEFHKmoPQrtTuUwxXyYz")
    return parsed.has("-f", "--fail", "--fail-with-body") or parsed.has("-w", "--write-out")


@rule(
    id="DF-HEALTH-004",
    artifact_type="dockerfile",
    title="HEALTHCHECK curl that ignores HTTP errors",
    severity="low",
    description=(
        "curl exits 0 whenever it gets an answer, also a 500 or a 503, unless it is told to "
        "fail on HTTP errors. A health check `curl http://localhost/health` therefore "
        "reports a broken service as healthy, and nothing restarts it or takes it out of "
        "the load balancer."
    ),
    remediation=(
        "Make curl fail on error statuses: `HEALTHCHECK CMD curl -fsS "
        "http://localhost:8080/health || exit 1`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#healthcheck",
        "https://curl.se/docs/manpage.html#-f",
    ),
)
def healthcheck_curl_without_fail(df: Dockerfile) -> Iterator[Hit]:
    for ins in df.find("HEALTHCHECK"):
        if "curl" not in ins.value:
            continue
        for command in _probe_commands(ins):
            if command.name == "curl" and not command.piped and not _fails_on_http_errors(command):
                yield Hit("HEALTHCHECK curl without --fail passes on HTTP errors", line=ins.line)
                break
