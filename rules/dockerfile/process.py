"""Rules about how the container's main process is started."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import effective


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
