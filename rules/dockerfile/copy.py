"""Rules about COPY and ADD: operands, destinations and ownership."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import effective, facts, split_words, stage_chain
from rules.dockerfile.user import is_root

_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:|\\)")
_OWNER_WRITE = re.compile(r"^[0-7]*?([0-7])[0-7]{2}$")


def operands(ins: Instruction) -> list[str]:
    """The sources and the destination of a COPY or ADD ([] when it writes heredocs)."""
    if ins.heredocs:
        return []
    if ins.json_args is not None:
        return list(ins.json_args)
    return split_words(ins.args.split("\n", 1)[0])


def _is_directory(dest: str) -> bool:
    return dest.endswith(("/", "\\")) or dest in (".", "..") or "$" in dest


@rule(
    id="DF-COPY-001",
    artifact_type="dockerfile",
    title="Several sources copied to a path without a trailing slash",
    severity="low",
    description=(
        "When COPY or ADD is given more than one source, the destination must be a "
        "directory written with a trailing slash. `COPY package.json yarn.lock app` fails "
        "the build; and where a builder accepts it, it is unclear whether `app` is a file or "
        "a folder."
    ),
    remediation="End the destination with a slash: `COPY package.json yarn.lock /app/`",
    references=("https://docs.docker.com/reference/dockerfile/#destination",),
)
def several_sources_without_slash(df: Dockerfile) -> Iterator[Hit]:
    for ins in facts(df).find("COPY", "ADD"):
        words = operands(ins)
        if len(words) > 2 and not _is_directory(words[-1]):
            yield Hit(
                f"{ins.cmd} of {len(words) - 1} sources into {words[-1]!r}, which does not end "
                "with /",
                line=ins.line,
            )


def _relative(path: str) -> bool:
    return not (path.startswith(("/", "$", "~")) or _WINDOWS_PATH.match(path))


@rule(
    id="DF-COPY-002",
    artifact_type="dockerfile",
    title="Relative COPY destination without a WORKDIR",
    severity="low",
    description=(
        "A relative destination (`COPY . .`, `COPY app.py src/`) is resolved against the "
        "working directory the base image happens to set. Without a WORKDIR of your own, a "
        "new base image version that sets another one (or none) quietly moves the "
        "application's files, and the CMD no longer finds them."
    ),
    remediation=(
        "Set the directory first, then copy relative to it: `WORKDIR /app` and `COPY . .` "
        "(or give an absolute destination: `COPY . /app/`)."
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#copy",
        "https://docs.docker.com/reference/dockerfile/#workdir",
    ),
)
def relative_destination_without_workdir(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    copies = shared.find("COPY", "ADD")
    if not copies:
        return
    workdirs = shared.find("WORKDIR")
    for ins in copies:
        words = operands(ins)
        if len(words) < 2 or not _relative(words[-1]):
            continue
        chain = {st.index for st in stage_chain(df, df.stages[ins.stage])}
        if any(w.stage in chain and (w.stage != ins.stage or w.line < ins.line) for w in workdirs):
            continue
        yield Hit(
            f"{ins.cmd} to {words[-1]!r} depends on the base image's working directory",
            line=ins.line,
        )


def _owner_can_write(mode: str | None) -> bool:
    if not mode:
        return True
    match = _OWNER_WRITE.match(mode)
    if match is None:
        return "u-w" not in mode and "a-w" not in mode
    return bool(int(match.group(1)) & 2)


@rule(
    id="DF-COPY-003",
    artifact_type="dockerfile",
    title="Files copied writable by the user the container runs as",
    severity="low",
    description=(
        "`COPY --chown=app` gives the copied files to the same user the container runs as "
        "(`USER app`). The application can then rewrite its own code and configuration, so a "
        "compromise of the process can persist and tamper with the program instead of being "
        "contained by read-only files. Files the process only reads should belong to root."
    ),
    remediation=(
        "Leave code owned by root (readable by everyone) and give the runtime user only the "
        "folders it writes: `COPY app/ /app/` and `RUN install -d -o app /app/data`, then "
        "`USER app`."
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#copy---chown---chmod",
        "https://docs.docker.com/build/building/best-practices/#user",
    ),
)
def copied_writable_by_runtime_user(df: Dockerfile) -> Iterator[Hit]:
    owned = [ins for ins in effective(df, "COPY", "ADD") if ins.flags.get("chown")]
    if not owned:
        return
    users = effective(df, "USER")
    if not users or is_root(users[-1].args):
        return
    runtime = users[-1].args.strip().strip("'\"").split(":", 1)[0]
    for ins in owned:
        owner = ins.flags["chown"].strip("'\"").split(":", 1)[0]
        if owner == runtime and _owner_can_write(ins.flags.get("chmod")):
            yield Hit(
                f"{ins.cmd} --chown={ins.flags['chown']} hands the files to the runtime user "
                f"{runtime}",
                line=ins.line,
            )
