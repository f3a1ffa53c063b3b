"""Rules about how the container's main process is started."""

from __future__ import annotations

import json
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import (
    SHELLS,
    effective,
    facts,
    overridden,
    referenced,
    shorten,
    stage_chain,
)


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


_EXEC_FORM = ("RUN", "CMD", "ENTRYPOINT", "SHELL", "HEALTHCHECK")


def _exec_text(ins: Instruction) -> str:
    """The part of an instruction that may be an exec-form array (after HEALTHCHECK's CMD)."""
    text = ins.args.split("\n", 1)[0].strip()
    if ins.cmd == "HEALTHCHECK":
        head, _, rest = text.partition(" ")
        text = rest.strip() if head.upper() == "CMD" else ""
    return text


def _json_array(text: str) -> list[str] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _malformed(ins: Instruction, text: str, has_entrypoint: bool) -> str | None:
    if ins.cmd == "SHELL" and not text.startswith("["):
        return "SHELL takes a JSON array only"
    if not (text.startswith("[") and text.endswith("]")):
        return None
    args = ins.json_args if ins.cmd != "HEALTHCHECK" else _json_array(text)
    if args is None:
        if ins.cmd == "RUN" and text[1:2].isspace() and "," not in text:
            return None  # `RUN [ -f /etc/app.conf ]` is the shell's test command
        return f"{shorten(text, 40)} is not valid JSON, so it runs as a shell command"
    if args and " " in args[0].strip() and not (ins.cmd == "CMD" and has_entrypoint):
        return f"the program name {args[0]!r} contains a space"
    return None


@rule(
    id="DF-CMD-004",
    artifact_type="dockerfile",
    title="Exec form that is not a valid JSON array",
    severity="medium",
    description=(
        "RUN, CMD, ENTRYPOINT and HEALTHCHECK take the exec form only when the argument is "
        "a valid JSON array of strings. `CMD [python, app.py]` or `CMD ['python', 'app.py']` "
        "is not JSON, so Docker quietly runs it through `/bin/sh -c` as the literal command "
        '`[python,` and the container fails to start; `["sudo yum", "install"]` looks for '
        "a program called `sudo yum`; SHELL accepts nothing but an array."
    ),
    remediation=(
        'Write a JSON array with double quotes, one element per argument: `CMD ["python", '
        '"/usr/src/app/app.py"]`, `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`.'
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#shell-and-exec-form",
        "https://docs.docker.com/reference/dockerfile/#shell",
    ),
)
def malformed_exec_form(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    entrypoint_stages: set[int] | None = None
    for ins in (ins for cmd in _EXEC_FORM for ins in shared.find(cmd)):  # runner sorts hits
        args = ins.json_args
        if args is not None:  # valid JSON: only the program name can be wrong
            if not args or " " not in args[0].strip():
                continue
        elif ins.cmd in ("RUN", "CMD", "ENTRYPOINT") and not ins.value.startswith(("[", "--")):
            continue  # shell form: the text does not even start like an array
        text = _exec_text(ins)
        if not text or ins.heredocs:
            continue
        if entrypoint_stages is None:
            entrypoint_stages = {
                stage.index
                for stage in df.stages
                if any(st.find("ENTRYPOINT") for st in stage_chain(df, stage))
            }
        problem = _malformed(ins, text, ins.stage in entrypoint_stages)
        if problem:
            yield Hit(f"{ins.cmd}: {problem}", line=ins.line)


_EXPANDING = SHELLS | {"env", "envsubst"}


@rule(
    id="DF-CMD-005",
    artifact_type="dockerfile",
    title="Variable in exec form is never expanded",
    severity="low",
    description=(
        "In the exec (JSON) form no shell runs, so nothing replaces variables: "
        '`CMD ["java", "-jar", "$APP_JAR"]` passes the six characters `$APP_JAR` to java, '
        "which then looks for a file by that name. Only a shell, or the program itself, can "
        "expand them."
    ),
    remediation=(
        'Write the value out (`CMD ["java", "-jar", "/app/app.jar"]`), or run a shell that '
        'expands it and replaces itself: `CMD ["sh", "-c", "exec java -jar \\"$APP_JAR\\""]`.'
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#shell-and-exec-form",
        "https://docs.docker.com/reference/dockerfile/#environment-replacement",
    ),
)
def unexpanded_exec_variable(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins in (ins for cmd in ("RUN", "CMD", "ENTRYPOINT") for ins in shared.find(cmd)):
        args = ins.json_args
        if not args or "$" not in ins.value:
            continue
        program = args[0].rsplit("/", 1)[-1].lower()
        if program in _EXPANDING:
            continue
        for arg in args:
            names = [name for name, _ in referenced(arg)]
            if names:
                yield Hit(
                    f"{ins.cmd} passes ${names[0]} literally: no shell expands it", line=ins.line
                )
                break
