"""Rules about ADD."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import cis, split_words

_REMOTE = re.compile(r"^(?:https?://|git@|ssh://|git://)", re.IGNORECASE)
_ARCHIVE = re.compile(r"\.(?:tar|tgz|tbz2?|txz|tzst|tar\.(?:gz|bz2|xz|zst|lz|lzma|z))$", re.I)


def add_sources(ins: Instruction) -> list[str]:
    """The source operands of an ADD (everything but the destination)."""
    words = ins.json_args if ins.json_args is not None else split_words(ins.args.split("\n")[0])
    return [word for word in words[:-1] if not word.startswith("<<")]


@rule(
    id="DF-ADD-001",
    controls=("cis-docker-1.6 4.9",),
    artifact_type="dockerfile",
    title="ADD used where COPY is enough",
    severity="low",
    description=(
        "ADD does more than copy: it unpacks local archives and downloads URLs. Using it for "
        "plain files hides those side effects from reviewers and may unpack content nobody "
        "meant to extract. COPY does exactly what it says."
    ),
    remediation="Use COPY for local files and folders: `COPY app/ /opt/app/`.",
    references=(
        "https://docs.docker.com/reference/dockerfile/#add",
        "https://docs.docker.com/build/building/best-practices/#add-or-copy",
        cis("4.9"),
    ),
)
def add_instead_of_copy(df: Dockerfile) -> Iterator[Hit]:
    for ins in df.find("ADD"):
        if ins.heredocs:
            continue
        sources = add_sources(ins)
        if not sources or any(_REMOTE.match(src) or _ARCHIVE.search(src) for src in sources):
            continue
        yield Hit(f"ADD {' '.join(sources)} copies local files: use COPY", line=ins.line)


@rule(
    id="DF-ADD-002",
    controls=("cis-docker-1.6 4.9", "nist-800-53-r5 SI-7"),
    artifact_type="dockerfile",
    title="Remote file added without checksum",
    severity="medium",
    description=(
        "ADD with a URL downloads whatever the server returns at build time. Without an "
        "integrity check, a compromised or changed download lands in the image unnoticed."
    ),
    remediation=(
        "Pin the download with its checksum: `ADD --checksum=sha256:<hash> https://example.com/"
        "tool.tar.gz /tmp/`, or download in a RUN step and verify it "
        '(`curl -fsSLo tool.tgz URL && echo "<hash>  tool.tgz" | sha256sum -c -`).'
    ),
    references=("https://docs.docker.com/reference/dockerfile/#add---checksum", cis("4.9")),
)
def remote_add_without_checksum(df: Dockerfile) -> Iterator[Hit]:
    for ins in df.find("ADD"):
        if "checksum" in ins.flags:
            continue
        for src in add_sources(ins):
            if _REMOTE.match(src):
                yield Hit(f"ADD downloads {src} without --checksum", line=ins.line)
                break
