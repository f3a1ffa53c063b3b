"""Rules about how the container's main process is started."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import effective, overridden


@rule(
    id="DF-CMD-001",
    artifact_type="dockerfile",
    title="Main process started in shell form",
    severity="low",
    description=(
        "In shell form (`ENTRYPOINT app --serve`) the container's first process is `/bin/sh "
        "-c`, which does not pass SIGTERM on: the application is never told to stop, is killed "
        "after the grace period, and loses in-flight work."
    ),
    remediation=(
        'Use the exec (JSON) form: `ENTRYPOINT ["app", "--serve"]` or '
        '`CMD ["gunicorn", "app:wsgi"]` (use `exec` inside wrapper scripts).'
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#shell-and-exec-form",
        "https://docs.docker.com/reference/dockerfile/#entrypoint",
    ),
)
def shell_form_entrypoint(df: Dockerfile) -> Iterator[Hit]:
    starters = effective(df, "ENTRYPOINT", "CMD")
    entrypoints = [ins for ins in starters if ins.cmd == "ENTRYPOINT"]
    # the ENTRYPOINT decides what runs as PID 1; without one, the CMD does
    last = entrypoints[-1] if entrypoints else (starters[-1] if starters else None)
    if last is None or last.json_args is not None or not last.args.strip():
        return
    if last.args.lstrip().startswith("exec "):
        return  # `exec app` replaces the shell, so signals reach the application
    command = " ".join(last.args.split())
    if len(command) > 60:
        command = command[:57] + "..."
    yield Hit(f"{last.cmd} {command} runs under /bin/sh -c", line=last.line)


@rule(
    id="DF-CMD-002",
    artifact_type="dockerfile",
    title="CMD replaced later in the same stage",
    severity="low",
    description=(
        "A stage has several CMD instructions, but only the last one is kept: the earlier "
        "ones never run. Readers who stop at the first CMD misjudge what the container does, "
        "and the leftover often hides a merge mistake."
    ),
    remediation=(
        'Keep one CMD per stage, as its last instruction: `CMD ["gunicorn", "--bind", '
        '"0.0.0.0:8000", "app:wsgi"]`.'
    ),
    references=("https://docs.docker.com/reference/dockerfile/#cmd",),
)
def cmd_overridden(df: Dockerfile) -> Iterator[Hit]:
    for earlier, last in overridden(df, "CMD"):
        yield Hit(f"this CMD is replaced by the one on line {last.line}", line=earlier.line)


@rule(
    id="DF-CMD-003",
    artifact_type="dockerfile",
    title="ENTRYPOINT replaced later in the same stage",
    severity="low",
    description=(
        "A stage has several ENTRYPOINT instructions and only the last one counts: the "
        "earlier ones are dead code that misleads readers about which program is PID 1 and "
        "which arguments CMD is appended to."
    ),
    remediation=(
        'Keep one ENTRYPOINT per stage: `ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]` '
        'with `CMD ["serve"]` for its default arguments.'
    ),
    references=("https://docs.docker.com/reference/dockerfile/#entrypoint",),
)
def entrypoint_overridden(df: Dockerfile) -> Iterator[Hit]:
    for earlier, last in overridden(df, "ENTRYPOINT"):
        yield Hit(f"this ENTRYPOINT is replaced by the one on line {last.line}", line=earlier.line)
