"""Rules about build stages: their names and how COPY --from refers to them."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import facts

# names BuildKit keeps for itself: `scratch` is the empty image, `context` the build context
_RESERVED = frozenset({"scratch", "context"})


@rule(
    id="DF-STAGE-001",
    artifact_type="dockerfile",
    title="Stage name used twice or reserved",
    severity="low",
    description=(
        "Stage names are how `COPY --from`, `FROM <stage>` and `docker build --target` pick "
        "a stage. When two stages share a name (names are case-insensitive), BuildKit refuses "
        "the file and older builders silently take one of them, so files come from a stage "
        "nobody meant; `scratch` and `context` are reserved and cannot name a stage."
    ),
    remediation=(
        "Give every stage its own name that says what it does: `FROM golang:1.22.5 AS "
        "build-api` and `FROM node:20.16.0 AS build-ui`."
    ),
    references=(
        "https://docs.docker.com/reference/build-checks/duplicate-stage-name/",
        "https://docs.docker.com/reference/build-checks/reserved-stage-name/",
    ),
)
def stage_name_clash(df: Dockerfile) -> Iterator[Hit]:
    named = [(stage.alias, stage.line) for stage in df.stages if stage.alias]
    if not named:
        return
    lines: dict[str, list[int]] = {}
    for alias, line in named:
        lines.setdefault(alias.lower(), []).append(line)
    for alias, line in named:
        name = alias.lower()
        if name in _RESERVED:
            yield Hit(f"stage name {alias!r} is reserved", line=line)
        elif len(lines[name]) > 1:
            others = ", ".join(str(other) for other in lines[name] if other != line)
            yield Hit(f"stage name {alias!r} is also used on line {others}", line=line)


def _copies_from_stages(df: Dockerfile) -> Iterator[tuple[Instruction, str]]:
    """Each `COPY --from=<value>` (the value unquoted), in file order."""
    for ins in facts(df).find("COPY"):
        source = ins.flags.get("from")
        if source:
            yield ins, source.strip("'\"")


@rule(
    id="DF-STAGE-002",
    artifact_type="dockerfile",
    title="COPY --from names its own stage or a later one",
    severity="low",
    description=(
        "`COPY --from` can only take files from a stage that is complete. Naming the stage "
        "the instruction is in is a cycle the build rejects; naming a stage defined further "
        "down works with BuildKit only, while the classic builder looks for a registry image "
        "of that name and copies from whatever it finds there."
    ),
    remediation=(
        "Define the stage you copy from before the one that copies, and name it:\n"
        "`FROM golang:1.22.5 AS build` ... `FROM gcr.io/distroless/static-debian12` "
        "`COPY --from=build /out/app /app`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#copy---from",
        "https://docs.docker.com/build/building/multi-stage/#name-your-build-stages",
    ),
)
def copy_from_own_or_later_stage(df: Dockerfile) -> Iterator[Hit]:
    positions = {stage.alias.lower(): stage.index for stage in df.stages if stage.alias}
    for ins, source in _copies_from_stages(df):
        target = int(source) if source.isdigit() else positions.get(source.lower())
        if target is None:
            continue
        if target == ins.stage:
            yield Hit(f"COPY --from={source} names the stage it is in", line=ins.line)
        elif target > ins.stage and target < len(df.stages):
            where = df.stages[target].line
            yield Hit(
                f"COPY --from={source} names the stage defined on line {where}", line=ins.line
            )


@rule(
    id="DF-STAGE-003",
    artifact_type="dockerfile",
    title="COPY --from refers to a stage by its number",
    severity="low",
    description=(
        "`COPY --from=0` picks a stage by its position in the file. Adding, removing or "
        "reordering a stage later silently changes which stage the files come from, and the "
        "number says nothing about what the stage built."
    ),
    remediation=(
        "Name the stage and refer to it by name: `FROM golang:1.22.5 AS build` ... "
        "`COPY --from=build /out/app /usr/local/bin/app`"
    ),
    references=("https://docs.docker.com/build/building/multi-stage/#name-your-build-stages",),
)
def copy_from_stage_number(df: Dockerfile) -> Iterator[Hit]:
    for ins, source in _copies_from_stages(df):
        if source.isdigit():
            yield Hit(f"COPY --from={source} refers to a stage by number", line=ins.line)
