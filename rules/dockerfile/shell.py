"""Rules about how RUN commands use the shell."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import (
    Command,
    facts,
    parse_shell,
    shorten,
    stage_chain,
    substitutions,
)

_CHECKSUM_TOOLS = frozenset({"sha1sum", "sha256sum", "sha384sum", "sha512sum", "md5sum", "shasum"})
_SAFE_PRODUCERS = frozenset({"echo", "printf", "yes", "true", ""})
_WINDOWS_HINTS = ("windows", "nanoserver", "servercore", "mcr.microsoft.com/powershell")
_NON_POSIX = ("powershell", "pwsh", "cmd")


@rule(
    id="DF-SHELL-001",
    artifact_type="dockerfile",
    title="cd used to set the directory of a RUN",
    severity="info",
    description=(
        "A RUN that starts with `cd` changes directory for that one command only: the next "
        "RUN, COPY or CMD is back where it was, which surprises readers and leads to files "
        "landing in the wrong place. WORKDIR sets the directory for everything that follows "
        "and documents it."
    ),
    remediation=(
        "Set the directory with WORKDIR, then run the command:\n"
        "`WORKDIR /usr/src/app`\n`RUN make install`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#workdir",
        "https://docs.docker.com/build/building/best-practices/#workdir",
    ),
)
def cd_in_run(df: Dockerfile) -> Iterator[Hit]:
    for ins, commands in facts(df).runs():
        first = next((c for c in commands if c.name not in ("set", "")), None)
        if first is not None and first.name == "cd" and first.args:
            yield Hit(f"RUN starts with cd {first.args[0]}: use WORKDIR", line=ins.line)


def _verifies(consumer: Command) -> bool:
    """A checksum check fails on empty input, so a failed producer cannot go unnoticed."""
    return consumer.name in _CHECKSUM_TOOLS and any(
        arg in ("-c", "--check") or (arg[:1] == "-" and arg[1:2] != "-" and "c" in arg)
        for arg in consumer.args
    )


def _posix_shell(df: Dockerfile, ins: Instruction) -> tuple[bool, bool]:
    """(whether RUN uses a POSIX shell, whether that shell has pipefail on) at `ins`."""
    stage = df.stages[ins.stage]
    chain = stage_chain(df, stage)
    shells = [
        shell
        for st in chain
        for shell in st.find("SHELL")
        if st.index != stage.index or shell.line < ins.line
    ]
    if shells:
        args = shells[-1].json_args or []
        program = args[0].lower() if args else ""
        if any(name in program for name in _NON_POSIX):
            return False, False
        return True, "pipefail" in args
    base = chain[0].base_image.lower()
    return not any(hint in base for hint in _WINDOWS_HINTS), False


@rule(
    id="DF-SHELL-002",
    artifact_type="dockerfile",
    title="Pipe in RUN without pipefail",
    severity="low",
    description=(
        "A shell pipeline reports the status of its last command only: in `curl -fsSL URL | "
        "tar -xz` a failed download still leaves the step green, and the image is built "
        "without the tool. `set -o pipefail` makes any failing stage fail the RUN."
    ),
    remediation=(
        "Make the shell fail on any broken pipe, once for all RUNs:\n"
        '`SHELL ["/bin/bash", "-o", "pipefail", "-c"]`\n'
        "or per step: `RUN set -o pipefail && curl -fsSL https://example.com/x.tgz | tar -xz`"
    ),
    references=(
        "https://docs.docker.com/build/building/best-practices/#using-pipes",
        "https://docs.docker.com/reference/dockerfile/#shell",
    ),
)
def pipe_without_pipefail(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins, commands in shared.runs():
        value = ins.value
        if "|" not in value or "pipefail" in value or ins.json_args is not None:
            continue
        pipe = _hiding_pipe(commands)
        if pipe is None and "$(" in value:  # `arch="$(dpkg --print-architecture | awk ...)"`
            for script in substitutions(shared.text_of(ins)):
                if "|" in script:
                    pipe = _hiding_pipe(parse_shell(ins, script, depth=1))
                    if pipe is not None:
                        break
        if pipe is None:
            continue
        posix, pipefail = _posix_shell(df, ins)
        if posix and not pipefail:
            producer, consumer = pipe
            shown = shorten(f"{producer.text} | {consumer.text}", 60)
            yield Hit(f"`{shown}` hides a failure of {producer.name}", line=ins.line)


def _hiding_pipe(commands: list[Command]) -> tuple[Command, Command] | None:
    """The first `producer | consumer` where a failing producer would go unnoticed."""
    for pos, command in enumerate(commands[:-1]):
        if (
            command.piped
            and command.name not in _SAFE_PRODUCERS
            and not _verifies(commands[pos + 1])
        ):
            return command, commands[pos + 1]
    return None


_SYSTEM_SHELLS = frozenset({"/bin/sh", "/usr/bin/sh"})


@rule(
    id="DF-SHELL-003",
    artifact_type="dockerfile",
    title="Default shell replaced by a symlink",
    severity="low",
    description=(
        "`ln -sf /bin/bash /bin/sh` swaps the system's /bin/sh for every program in the "
        "image, not just for the Dockerfile: distribution scripts written for a POSIX sh "
        "then run under another shell, and package upgrades may quietly restore the link. "
        "The SHELL instruction changes the shell of the following RUNs and nothing else."
    ),
    remediation=(
        'Set the build\'s shell explicitly: `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`, '
        "and leave /bin/sh to the distribution."
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#shell",
        "https://wiki.debian.org/Shell",
    ),
)
def sh_symlinked(df: Dockerfile) -> Iterator[Hit]:
    for command in facts(df).named("ln"):
        operands = [arg for arg in command.args if not arg.startswith("-")]
        if len(operands) >= 2 and operands[-1] in _SYSTEM_SHELLS:
            yield Hit(f"ln makes {operands[-1]} point to {operands[0]}", line=command.ins.line)
