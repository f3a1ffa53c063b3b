"""Helpers shared by the image rules: parameters, the clock, and the build history seen as a
Dockerfile.

An image's history records the instruction behind each layer (`created_by`): the classic
builder writes `/bin/sh -c apt-get ...` and `/bin/sh -c #(nop)  CMD ["sh"]`, BuildKit
`RUN /bin/sh -c apt-get ... # buildkit` and `COPY . /app # buildkit`, both `|2 A=1 B=2
/bin/sh -c ...` for a RUN that saw build arguments (their values included). `history_of`
turns those entries back into a Dockerfile (`FROM scratch` and one instruction per entry), so
that the Dockerfile rules' own detectors judge them; each hit is mapped back to the entry's
line in the JSON. Entries of other tools (`ko`, `jib`, free text) are skipped.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.engine.registry import Hit
from chalicelib.parsers import ParseError
from chalicelib.parsers.dockerfile import KNOWN_INSTRUCTIONS, Dockerfile
from chalicelib.parsers.dockerfile import parse as parse_dockerfile
from chalicelib.parsers.image import Image, Step

OCI_CONFIG = "https://github.com/opencontainers/image-spec/blob/main/config.md"
OCI_ANNOTATIONS = "https://github.com/opencontainers/image-spec/blob/main/annotations.md"
DOCKER_INSPECT = "https://docs.docker.com/reference/cli/docker/image/inspect/"

_BUILDKIT_SUFFIX = re.compile(r"\s*+# buildkit$")
_NOP = re.compile(r"^(?:/bin/sh -c|cmd /S /C) #\(nop\)\s*+")
_SHELL_PREFIX = re.compile(r"^(?:/bin/(?:ba)?+sh -c|cmd /S /C|powershell -Command) ")
_BUILD_ARGS = re.compile(r"^\|(\d{1,4}) ")
_HEREDOC_END = "PIPEGUARD_HISTORY_EOF"
# what the history detectors look at; other entries (HEALTHCHECK &{...}, CMD) are left out
_KEPT = frozenset({"RUN", "ADD", "COPY", "ENV", "USER", "WORKDIR"})


def now() -> datetime:
    """The current time (rules about age read it here, so tests can set it)."""
    return datetime.now(UTC)


def number_param(params: Mapping[str, Any], name: str, default: float) -> float:
    """A numeric rule parameter; a missing or unusable override falls back to `default`."""
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value) if value == value else default  # NaN is not a threshold


def strings_param(params: Mapping[str, Any], name: str, default: Iterable[str]) -> list[str]:
    """A list-of-strings parameter; anything else falls back to `default`."""
    value = params.get(name)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return list(default)


def shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def where(image: Image) -> str:
    """`the image app:1.2` or `the image`, for messages."""
    return f"the image {image.name}" if image.name else "the image"


def instruction_of(created_by: str) -> str | None:
    """The Dockerfile instruction a history entry records, or None when it is not one."""
    text = _BUILDKIT_SUFFIX.sub("", created_by.strip())
    if not text:
        return None
    nop = _NOP.match(text)
    if nop:
        text = text[nop.end() :].strip()
        word = text.split(None, 1)[0].upper() if text else ""
        return text if word in KNOWN_INSTRUCTIONS else None
    word = text.split(None, 1)[0]
    if word.upper() == "RUN":
        return "RUN " + _run_body(text[len(word) :].lstrip())
    if word.upper() in KNOWN_INSTRUCTIONS and word.isupper():
        return text
    if _BUILD_ARGS.match(text) or _SHELL_PREFIX.match(text):
        return "RUN " + _run_body(text)
    return None


def _run_body(text: str) -> str:
    """`|2 A=1 B=2 /bin/sh -c cmd` -> `A=1 B=2 cmd`: build arguments become assignments."""
    assignments = ""
    match = _BUILD_ARGS.match(text)
    if match:
        rest = text[match.end() :]
        words = rest.split(" ", int(match.group(1)))
        count = int(match.group(1))
        assignments = " ".join(words[:count]) + " "
        text = words[count] if len(words) > count else ""
    shell = _SHELL_PREFIX.match(text)
    if shell:
        text = text[shell.end() :]
    return assignments + text if assignments.strip() else text


@dataclass(frozen=True)
class History:
    """The history as a Dockerfile, and the entry behind each of its lines."""

    dockerfile: Dockerfile
    starts: list[int]
    steps: list[Step]

    def step_at(self, line: int | None) -> Step | None:
        if line is None:
            return None
        pos = bisect.bisect_right(self.starts, line) - 1
        return self.steps[pos] if pos >= 0 else None


_cache_lock = threading.Lock()
_cached: tuple[Image, History | None] | None = None


def history_of(image: Image) -> History | None:
    """The image's history as a Dockerfile (computed once per image), or None if it has none."""
    global _cached
    cached = _cached
    if cached is not None and cached[0] is image:
        return cached[1]
    found = _history(image)
    with _cache_lock:
        _cached = (image, found)
    return found


def _history(image: Image) -> History | None:
    lines = ["FROM scratch"]
    starts: list[int] = []
    steps: list[Step] = []
    for step in image.history:
        instruction = instruction_of(step.created_by)
        if instruction is None or instruction.split(None, 1)[0].upper() not in _KEPT:
            continue
        starts.append(len(lines) + 1)
        steps.append(step)
        lines.extend(_as_lines(instruction))
    if not steps:
        return None
    try:
        dockerfile = parse_dockerfile("\n".join(lines) + "\n")
    except ParseError:
        return None
    return History(dockerfile, starts, steps)


def _as_lines(instruction: str) -> list[str]:
    """One instruction as Dockerfile lines: a multi-line RUN becomes a heredoc."""
    instruction = instruction.rstrip("\\ \t")
    if "\n" not in instruction:
        return [instruction]
    cmd, _, body = instruction.partition(" ")
    if cmd != "RUN":
        return [" ".join(instruction.split())]
    return [f"RUN <<{_HEREDOC_END}", *body.split("\n"), _HEREDOC_END]


def history_hits(
    image: Image, check: Callable[[Dockerfile], Iterable[Hit]]
) -> Iterator[tuple[Step, Hit]]:
    """A Dockerfile rule's hits on the image's history, each with the entry it comes from."""
    history = history_of(image)
    if history is None:
        return
    for hit in check(history.dockerfile):
        step = history.step_at(hit.line)
        if step is not None:
            yield step, hit


def step_label(step: Step) -> str:
    return f"history entry {step.index + 1} (`{shorten(step.created_by, 60)}`)"
