"""Rules about instructions that are deprecated or depend on hidden context."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import facts, stage_chain

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
