"""Rules about instructions that are deprecated or depend on hidden context."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import PREDEFINED_ARGS, facts, key_values, referenced, stage_chain

_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:|\\\\)")


@rule(
    id="DF-META-001",
    artifact_type="dockerfile",
    title="Deprecated MAINTAINER instruction",
    severity="info",
    description=(
        "MAINTAINER is deprecated: it only sets an image field that tools no longer show. "
        "Ownership information belongs in labels, where registries, scanners and "
        "`docker inspect` find it under standard keys."
    ),
    remediation=(
        'Replace it with an OCI label: `LABEL org.opencontainers.image.authors="team@example.com"`.'
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#maintainer-deprecated",
        "https://github.com/opencontainers/image-spec/blob/main/annotations.md",
    ),
)
def maintainer_deprecated(df: Dockerfile) -> Iterator[Hit]:
    for ins in facts(df).find("MAINTAINER"):
        yield Hit(
            "MAINTAINER is deprecated; use an org.opencontainers.image.authors label", line=ins.line
        )


@rule(
    id="DF-META-002",
    artifact_type="dockerfile",
    title="Relative WORKDIR without an absolute one before it",
    severity="low",
    description=(
        "A relative WORKDIR is resolved against whatever working directory the base image "
        "happens to set. When the base image changes it, files are copied and commands run "
        "somewhere else, silently; an absolute path says where the application lives."
    ),
    remediation="Use an absolute path: `WORKDIR /app` instead of `WORKDIR app`.",
    references=("https://docs.docker.com/reference/dockerfile/#workdir",),
)
def relative_workdir(df: Dockerfile) -> Iterator[Hit]:
    workdirs = facts(df).find("WORKDIR")
    if not workdirs:
        return
    absolute_in: set[int] = set()  # stages that set an absolute WORKDIR
    anchored: dict[int, bool] = {}  # per stage: is its working directory one we chose?
    for ins in workdirs:  # in file order, so the stages a stage builds on come first
        stage = df.stages[ins.stage]
        if stage.index not in anchored:
            anchored[stage.index] = stage.from_stage is not None and any(
                earlier.index in absolute_in for earlier in stage_chain(df, stage)[:-1]
            )
        path = ins.args.strip().strip("'\"")
        if _absolute(path):
            anchored[stage.index] = True
            absolute_in.add(stage.index)
        elif not anchored[stage.index] and path and not path.startswith("$"):
            yield Hit(f"WORKDIR {path} is relative to the base image's directory", line=ins.line)


def _absolute(path: str) -> bool:
    path = path.strip().strip("'\"")
    return path.startswith("/") or bool(_WINDOWS_ABSOLUTE.match(path))


_SHELL_SETS = re.compile(
    r"(?:^|[\s;&|(])(?:export\s++|local\s++|for\s++|read\s++(?:-\w++\s++)*+)?+$"
)


def _declared_in_chain(df: Dockerfile, ins: Instruction, name: str) -> bool:
    """Whether an ARG or ENV of the stage chain declares `name` before `ins`."""
    stage = df.stages[ins.stage]
    for st in stage_chain(df, stage):
        for other in st.find("ARG", "ENV"):
            if st.index == stage.index and other.line >= ins.line:
                break
            if name in other.value and any(key == name for key, _ in key_values(other)):
                return True
    return False


@rule(
    id="DF-META-003",
    artifact_type="dockerfile",
    title="ARG from before FROM used in a stage without ARG",
    severity="low",
    description=(
        "An ARG declared before the first FROM is only in scope for the FROM lines. Inside a "
        "stage `$VERSION` is empty until the stage says `ARG VERSION` again, so a download "
        "URL, a package pin or a label silently loses its version and the build fetches "
        "something else, or fails far from the cause."
    ),
    remediation=(
        "Re-declare the argument (without a value, to inherit the default) in each stage "
        "that uses it:\n`ARG VERSION=1.4.2`\n`FROM alpine:3.20`\n`ARG VERSION`\n"
        "`RUN wget -q https://example.com/tool-$VERSION.tgz`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#understand-how-arg-and-from-interact",
        "https://docs.docker.com/reference/build-checks/undefined-var/",
    ),
)
def global_arg_out_of_scope(df: Dockerfile) -> Iterator[Hit]:
    if not df.global_args:
        return
    names = {name for ins in df.global_args for name, _ in key_values(ins)}
    shared = facts(df)
    for ins in df.instructions:
        if ins.stage < 0 or ins.cmd in ("FROM", "ARG") or "$" not in ins.value:
            continue
        text = shared.text_of(ins) if ins.cmd == "RUN" else ins.value
        for name, offset in referenced(text):
            if name not in names or name in PREDEFINED_ARGS:
                continue
            if ins.cmd == "RUN" and _set_by_the_shell(text, name, offset):
                continue
            if not _declared_in_chain(df, ins, name):
                yield Hit(
                    f"${name} is an ARG of the FROM lines only: add `ARG {name}` to this stage",
                    line=ins.line,
                )
                break


def _set_by_the_shell(text: str, name: str, offset: int) -> bool:
    """Whether the RUN's script assigns `name` itself before `offset`."""
    before = text[:offset]
    at = before.find(name)
    while at >= 0:
        after = before[at + len(name) : at + len(name) + 1]
        if after == "=" or (after in (" ", "\t", ";") and _SHELL_SETS.search(before[:at])):
            return True
        at = before.find(name, at + 1)
    return False


@rule(
    id="DF-META-004",
    artifact_type="dockerfile",
    title="ENV uses a variable it sets itself",
    severity="low",
    description=(
        "All the pairs of one ENV instruction are expanded before any of them is set: in "
        "`ENV APP_HOME=/opt/app PATH=$APP_HOME/bin:$PATH` the new APP_HOME is not yet known, "
        "so PATH gets `/bin` from an empty variable, and the image runs the wrong binaries "
        "or none."
    ),
    remediation=(
        "Set the variable in an ENV of its own first:\n`ENV APP_HOME=/opt/app`\n"
        "`ENV PATH=$APP_HOME/bin:$PATH`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#environment-replacement",
        "https://docs.docker.com/reference/dockerfile/#env",
    ),
)
def env_self_reference(df: Dockerfile) -> Iterator[Hit]:
    for ins in facts(df).find("ENV"):
        if "$" not in ins.value or ins.value.count("=") < 2:
            continue  # no variable, or a single pair (`ENV PATH /x:$PATH`)
        pairs = key_values(ins)
        for pos, (_, value) in enumerate(pairs[1:], start=1):
            earlier = {name for name, _ in pairs[:pos]}
            used = [name for name, _ in referenced(value or "") if name in earlier]
            fresh = [name for name in used if not _declared_in_chain(df, ins, name)]
            if fresh:
                yield Hit(f"ENV expands ${fresh[0]} before this instruction sets it", line=ins.line)
                break


_NOT_TRIGGERS = frozenset({"FROM", "MAINTAINER", "ONBUILD"})


@rule(
    id="DF-META-005",
    artifact_type="dockerfile",
    title="ONBUILD with an instruction it cannot trigger",
    severity="low",
    description=(
        "ONBUILD stores an instruction that runs when another image builds FROM this one. "
        "FROM, MAINTAINER and ONBUILD itself cannot be stored that way: the builder rejects "
        "the Dockerfile, or the downstream build fails when the trigger fires."
    ),
    remediation=(
        "Keep only instructions a child build can run, such as `ONBUILD COPY . /app/src` or "
        "`ONBUILD RUN make -C /app/src`; put the base image choice in the child's own FROM."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#onbuild",),
)
def onbuild_invalid_trigger(df: Dockerfile) -> Iterator[Hit]:
    for ins in facts(df).find("ONBUILD"):
        trigger = ins.value.split(None, 1)[0].upper() if ins.value.strip() else ""
        if trigger in _NOT_TRIGGERS:
            yield Hit(f"ONBUILD {trigger} is not allowed", line=ins.line)


@rule(
    id="DF-META-006",
    artifact_type="dockerfile",
    title="DEBIAN_FRONTEND set with ENV",
    severity="info",
    description=(
        "`ENV DEBIAN_FRONTEND=noninteractive` silences debconf prompts during the build, "
        "but ENV also stays in the image: every container then runs with it, and someone "
        "who later runs `apt-get install` or `dpkg-reconfigure` inside gets defaults chosen "
        "silently instead of the questions."
    ),
    remediation=(
        "Scope it to the build: `ARG DEBIAN_FRONTEND=noninteractive`, or per command: "
        "`RUN DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#env",
        "https://manpages.debian.org/bookworm/debconf-doc/debconf.7.en.html#Frontends",
    ),
)
def debian_frontend_env(df: Dockerfile) -> Iterator[Hit]:
    for ins in facts(df).effective("ENV"):
        if "DEBIAN_FRONTEND" not in ins.value:
            continue
        for name, value in key_values(ins):
            if name == "DEBIAN_FRONTEND" and value:
                yield Hit(f"ENV DEBIAN_FRONTEND={value} stays in the image", line=ins.line)


def _unsafe_path_entry(value: str) -> str | None:
    """The first PATH entry that makes lookups depend on the current directory, if any."""
    if ";" in value or "\\" in value or _WINDOWS_ABSOLUTE.match(value):
        return None  # a Windows PATH: other separators, other rules
    for entry in value.split(":"):
        if entry == "":
            return "an empty entry"
        if entry[0] not in "/$~":
            return f"'{entry}'"
    return None


@rule(
    id="DF-META-007",
    artifact_type="dockerfile",
    title="PATH searches the current directory",
    severity="low",
    description=(
        "A PATH with `.`, a relative folder (`node_modules/.bin`) or an empty entry (`::`, a "
        "leading or trailing `:`) makes the shell look for programs in whatever directory a "
        "process happens to be in. A file named `ls` or `python` in an uploaded, extracted "
        "or mounted folder then runs instead of the real program, with the privileges of "
        "whoever runs it there."
    ),
    remediation=(
        "List absolute folders only, and add them to the existing PATH: "
        "`ENV PATH=/app/node_modules/.bin:$PATH`."
    ),
    references=(
        "https://pubs.opengroup.org/onlinepubs/9799919799/basedefs/V1_chap08.html#tag_08_03",
        "https://docs.docker.com/reference/dockerfile/#env",
    ),
)
def relative_path_entry(df: Dockerfile) -> Iterator[Hit]:
    for ins in facts(df).find("ENV"):
        if "PATH" not in ins.value:
            continue
        for name, value in key_values(ins):
            what = _unsafe_path_entry(value) if name == "PATH" and value else None
            if what:
                yield Hit(
                    f"ENV PATH has {what}, so commands are looked up in the current directory",
                    line=ins.line,
                )
                break
