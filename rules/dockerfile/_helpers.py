"""Helpers shared by the Dockerfile rules."""

from __future__ import annotations

import re
import shlex

from chalicelib.parsers.dockerfile import Dockerfile, Instruction, Stage

_VAR = re.compile(
    r"\$\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)


def split_words(text: str) -> list[str]:
    """Shell-like split that never fails (unbalanced quotes fall back to whitespace)."""
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def stage_chain(df: Dockerfile, stage: Stage) -> list[Stage]:
    """`stage` and the stages it builds on (`FROM builder`), oldest first."""
    chain: list[Stage] = []
    seen: set[int] = set()
    current: Stage | None = stage
    while current is not None and current.index not in seen:
        seen.add(current.index)
        chain.append(current)
        current = df.stages[current.from_stage] if current.from_stage is not None else None
    return list(reversed(chain))


def effective(df: Dockerfile, *cmds: str, stage: Stage | None = None) -> list[Instruction]:
    """Instructions of `cmds` that shape the image of `stage` (the final one by default)."""
    target = stage if stage is not None else df.final_stage
    return [ins for st in stage_chain(df, target) for ins in st.find(*cmds)]


def global_arg_defaults(df: Dockerfile) -> dict[str, str]:
    """Defaults of the ARGs declared before the first FROM."""
    defaults: dict[str, str] = {}
    for ins in df.global_args:
        for name, value in key_values(ins):
            if value is not None:
                defaults[name] = value
    return defaults


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}` with known values."""

    def repl(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        op, word = match.group("op") or "", match.group("word") or ""
        value = values.get(name)
        is_set = value is not None and (value != "" or not op.startswith(":"))
        if op.endswith("+"):
            return word if is_set else ""
        if is_set:
            return value or ""
        return word if op.endswith("-") else match.group(0)

    return _VAR.sub(repl, text)


def key_values(ins: Instruction) -> list[tuple[str, str | None]]:
    """`ENV`/`ARG`/`LABEL` pairs: `K=V K2="v 2"`, legacy `ENV K value`, or a bare `ARG K`."""
    value = ins.value.strip()
    if not value:
        return []
    words = split_words(value)
    if not words:
        return []
    if "=" not in words[0]:
        if ins.cmd == "ARG":
            return [
                (word.split("=", 1)[0], word.split("=", 1)[1] if "=" in word else None)
                for word in words
            ]
        name, _, rest = value.partition(" ")
        if not rest:
            name, _, rest = value.partition("\t")
        rest_words = split_words(rest)
        return [(name, " ".join(rest_words) if rest_words else rest.strip())]
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, sep, val = word.partition("=")
        pairs.append((name, val if sep else None))
    return pairs


def shell_text(ins: Instruction) -> str:
    """The command a RUN/CMD/ENTRYPOINT executes, continuations joined, heredocs included."""
    if ins.json_args is not None:
        return " ".join(ins.json_args)
    text = ins.args
    if ins.heredocs:
        text = text.split("\n", 1)[0] + "\n" + "\n".join(doc.body for doc in ins.heredocs)
    return text
