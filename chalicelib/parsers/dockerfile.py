"""A small, dependency-free Dockerfile parser.

Handles parser directives (`# escape=`, `# syntax=`), line continuations, comments, heredocs
(`RUN <<EOF ... EOF`, kept inside the instruction's value), exec (JSON) versus shell form,
instruction flags (`--from=`, `--chown=`, `--platform=`, `--mount=` ...) and multi-stage builds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from chalicelib.parsers import ParseError

__all__ = ["Dockerfile", "Heredoc", "Instruction", "Stage", "parse"]

KNOWN_INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(\S*)\s*$")
_HEREDOC = re.compile(r"(?<![<\w])<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_.-]*)\2(?!<)")
# quoted strings, except a quoted heredoc delimiter (`<<"EOF"`), cannot open a heredoc
_QUOTED = re.compile(r"""(?<!<<)(?<!<<-)('[^']*'|"(?:\\.|[^"\\])*")""")
_FLAG = re.compile(r"--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?")
_WORD = re.compile(r"(\S*)(\s*)(.*)", re.DOTALL)
_AS = re.compile(r"^(\S+)\s+[Aa][Ss]\s+(\S+)\s*$")


@dataclass
class Heredoc:
    """A heredoc attached to an instruction (`<<EOF` ... `EOF`)."""

    name: str
    body: str
    strip_tabs: bool = False


@dataclass
class Instruction:
    """One instruction; `line`/`end_line` are 1-based physical lines (heredocs included)."""

    cmd: str
    value: str
    line: int
    end_line: int
    flags: dict[str, str] = field(default_factory=dict)
    stage: int = -1
    json_args: list[str] | None = None
    heredocs: list[Heredoc] = field(default_factory=list)
    original: str = ""

    @property
    def args(self) -> str:
        """The value without its leading flags (shell form text, or the raw JSON array)."""
        return _split_flags(self.value)[1]

    @property
    def is_exec_form(self) -> bool:
        return self.json_args is not None


@dataclass
class Stage:
    """A build stage started by `FROM`; `from_stage` is the index when it builds on a stage."""

    index: int
    base_image: str
    alias: str | None
    line: int
    platform: str | None = None
    from_stage: int | None = None
    instructions: list[Instruction] = field(default_factory=list)

    def find(self, *cmds: str) -> list[Instruction]:
        """The stage's instructions whose command is one of `cmds` (upper case)."""
        return [ins for ins in self.instructions if ins.cmd in cmds]


@dataclass
class Dockerfile:
    """A parsed Dockerfile: every instruction in order, and the stages they belong to."""

    instructions: list[Instruction]
    stages: list[Stage]
    directives: dict[str, str] = field(default_factory=dict)
    escape: str = "\\"

    @property
    def final_stage(self) -> Stage:
        return self.stages[-1]

    @property
    def global_args(self) -> list[Instruction]:
        """`ARG` instructions before the first `FROM`."""
        return [ins for ins in self.instructions if ins.stage == -1]

    def find(self, *cmds: str) -> list[Instruction]:
        return [ins for ins in self.instructions if ins.cmd in cmds]


def parse(text: str) -> Dockerfile:
    """Parse Dockerfile text; anything unreadable raises `ParseError` (never another error)."""
    try:
        return _Parser(text).run()
    except ParseError:
        raise
    except RecursionError as exc:  # pragma: no cover - defensive, the parser is iterative
        raise ParseError("the Dockerfile is too deeply nested to read") from exc
    except Exception as exc:  # pragma: no cover - defensive
        raise ParseError(f"the Dockerfile could not be read: {exc}") from exc


class _Parser:
    def __init__(self, text: str) -> None:
        if text.startswith("\ufeff"):
            text = text[1:]
        self.lines = text.splitlines()
        self.directives: dict[str, str] = {}
        self.escape = "\\"

    def run(self) -> Dockerfile:
        start = self._read_directives()
        instructions = list(self._instructions(start))
        stages = _assign_stages(instructions)
        return Dockerfile(instructions, stages, self.directives, self.escape)

    def _read_directives(self) -> int:
        """Consume the parser directives at the top of the file; return the next line index."""
        for idx, raw in enumerate(self.lines):
            match = _DIRECTIVE.match(raw.strip())
            if not match:
                return idx
            name, value = match.group(1).lower(), match.group(2)
            if name in self.directives:
                # a repeated directive is not a directive any more: it is a comment
                return idx
            self.directives[name] = value
            if name == "escape":
                if value not in ("\\", "`"):
                    raise ParseError(
                        f"line {idx + 1}: invalid escape directive {value!r}: "
                        "it must be a backslash or a backtick"
                    )
                self.escape = value
        return len(self.lines)

    def _instructions(self, idx: int) -> Iterator[Instruction]:
        lines, esc = self.lines, self.escape
        n = len(lines)
        while idx < n:
            raw = lines[idx]
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                idx += 1
                continue
            start = idx
            parts: list[str] = []
            while True:
                body = lines[idx].rstrip()
                if body.endswith(esc):
                    parts.append(body[: -len(esc)])
                    idx += 1
                    # skip comment and blank lines inside a continuation
                    while idx < n and _is_blank_or_comment(lines[idx]):
                        idx += 1
                    if idx >= n:
                        break
                    continue
                parts.append(body)
                idx += 1
                break
            logical = "".join(parts).strip()
            word, _, rest = _WORD.match(logical).groups()
            cmd = word.upper()
            if cmd not in KNOWN_INSTRUCTIONS:
                shown = word if len(word) <= 40 else word[:40] + "..."
                raise ParseError(f"line {start + 1}: unknown instruction {shown!r}")
            value = rest.strip()
            heredocs: list[Heredoc] = []
            original_lines = lines[start:idx]
            if _heredoc_candidate(cmd, value):
                idx, heredocs, extra = self._read_heredocs(value, idx, start)
                original_lines = lines[start:idx]
                if extra:
                    value = value + "\n" + extra
            yield _build(cmd, value, start + 1, idx, heredocs, "\n".join(original_lines))

    def _read_heredocs(self, value: str, idx: int, start: int) -> tuple[int, list[Heredoc], str]:
        docs: list[Heredoc] = []
        taken: list[str] = []
        for match in _HEREDOC.finditer(_heredoc_scope(value)):
            strip, name = match.group(1) == "-", match.group(3)
            body: list[str] = []
            while True:
                if idx >= len(self.lines):
                    raise ParseError(
                        f"line {start + 1}: heredoc <<{name} is never closed "
                        f"(no line '{name}' follows)"
                    )
                line = self.lines[idx]
                idx += 1
                taken.append(line)
                check = line.lstrip("\t") if strip else line
                if check.rstrip("\r") == name:
                    break
                body.append(line.lstrip("\t") if strip else line)
            docs.append(Heredoc(name=name, body="\n".join(body), strip_tabs=strip))
        return idx, docs, "\n".join(taken)


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _heredoc_candidate(cmd: str, value: str) -> bool:
    return cmd in _HEREDOC_INSTRUCTIONS and "<<" in value


def _heredoc_scope(value: str) -> str:
    """The part of a value where heredoc markers count: not inside an exec-form JSON array."""
    args = _split_flags(value)[1]
    return "" if args.startswith("[") else _QUOTED.sub(" ", args)


def _split_flags(value: str) -> tuple[dict[str, str], str]:
    """Split leading `--flag[=value]` tokens from the rest of the value."""
    flags: dict[str, str] = {}
    rest = value
    while rest.startswith("--"):
        match = _FLAG.match(rest)
        if not match or (match.end() < len(rest) and not rest[match.end()].isspace()):
            break
        flags[match.group(1).lower()] = match.group(2) if match.group(2) is not None else "true"
        rest = rest[match.end() :].lstrip()
    return flags, rest


def _json_args(args: str) -> list[str] | None:
    if not args.startswith("["):
        return None
    try:
        parsed = json.loads(args)
    except ValueError:
        return None
    if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
        return parsed
    return None


def _build(
    cmd: str, value: str, line: int, end_line: int, heredocs: list[Heredoc], original: str
) -> Instruction:
    flags: dict[str, str] = {}
    json_args = None
    if cmd not in ("ENV", "LABEL", "ARG", "MAINTAINER"):
        flags, args = _split_flags(value)
        first_line = args.split("\n", 1)[0]
        json_args = _json_args(first_line.strip()) if not heredocs else None
    return Instruction(
        cmd=cmd,
        value=value,
        line=line,
        end_line=end_line,
        flags=flags,
        json_args=json_args,
        heredocs=heredocs,
        original=original,
    )


def _assign_stages(instructions: list[Instruction]) -> list[Stage]:
    stages: list[Stage] = []
    aliases: dict[str, int] = {}
    current = -1
    for ins in instructions:
        if ins.cmd == "FROM":
            args = _split_flags(ins.value)[1]
            if not args:
                raise ParseError(f"line {ins.line}: FROM needs an image name")
            match = _AS.match(args)
            image, alias = (match.group(1), match.group(2)) if match else (args.split()[0], None)
            if not match and len(args.split()) > 1:
                raise ParseError(
                    f"line {ins.line}: FROM takes an image and an optional 'AS name', not {args!r}"
                )
            current = len(stages)
            stage = Stage(
                index=current,
                base_image=image,
                alias=alias,
                line=ins.line,
                platform=ins.flags.get("platform"),
                from_stage=aliases.get(image.lower()),
            )
            stages.append(stage)
            if alias:
                aliases[alias.lower()] = current
        elif current == -1 and ins.cmd != "ARG":
            raise ParseError(
                f"line {ins.line}: {ins.cmd} comes before the first FROM "
                "(only ARG may precede FROM)"
            )
        ins.stage = current
        if current >= 0:
            stages[current].instructions.append(ins)
    if not stages:
        raise ParseError("no FROM instruction: this is not a Dockerfile")
    return stages
