"""Helpers shared by the Dockerfile rules: words, variables, stages and the shell inside RUN.

The shell model is deliberately small: a RUN's text is cut into simple commands at `&&`, `||`,
`;`, `|`, `&`, newlines and parentheses (never inside quotes, `$(...)`, backticks or escapes),
each command is split into words, and wrappers (`sudo`, `env`, `VAR=value`, `if`/`then`/`do`,
`xargs`, `sh -c "..."`) are peeled off so that rules see the program that really runs. It is
computed once per Dockerfile (`facts`) and shared by every rule. All patterns are linear: their
repetitions are possessive, so no input makes them backtrack.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.parsers.dockerfile import Dockerfile, Instruction, Stage

_VAR = re.compile(
    r"\$\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)

# --- words ---------------------------------------------------------------------------------

_SUBST = r"\$\((?:[^()]++|\([^()]*+\))*+\)"  # $( ... ), one level of nested parentheses
_PROC_SUBST = r"[<>]\((?:[^()]++|\([^()]*+\))*+\)"  # <( ... ) and >( ... )
_SQ = r"'[^']*+'"
_DQ = r'"(?:[^"\\]++|\\.)*+"'
_BQ = r"`[^`]*+`"
_WORD = re.compile(
    rf"""(?:[^\s'"\\`$<>]++|{_SQ}|{_DQ}|{_BQ}|{_SUBST}|{_PROC_SUBST}|\\.|[<>]++|['"`\\$])++""",
    re.DOTALL,
)
_UNQUOTE = re.compile(r"""'([^']*+)'|"((?:[^"\\]++|\\.)*+)"|\\(.)""", re.DOTALL)
_DQ_ESCAPE = re.compile(r"""\\([\\"$`])""")


def _unquote_match(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1)
    if match.group(2) is not None:
        return _DQ_ESCAPE.sub(r"\1", match.group(2))
    return match.group(3)


def unquote(word: str) -> str:
    """Remove shell quoting from one word: `"a b"` -> `a b`, `'x'` -> `x`, `\\;` -> `;`."""
    if "'" not in word and '"' not in word and "\\" not in word:
        return word
    return _unquote_quoted(word)


def _unquote_quoted(word: str) -> str:
    first = word[0]
    if (
        (first == "'" or first == '"')
        and word[-1] == first
        and len(word) > 1
        and word.count(first) == 2
        and (first == "'" or "\\" not in word)
    ):
        return word[1:-1]  # the common case: one quoted word, nothing to unescape
    return _UNQUOTE.sub(_unquote_match, word)


def split_words(text: str) -> list[str]:
    """Shell-like split that never fails: quotes group words and are removed, `$(...)` stays
    one word; an unbalanced quote is kept as a plain character."""
    if (
        "'" not in text
        and '"' not in text
        and "\\" not in text
        and "`" not in text
        and "(" not in text
    ):
        return text.split()
    words = _WORD.findall(text)
    for pos, word in enumerate(words):
        if "'" in word or '"' in word or "\\" in word:
            words[pos] = _unquote_quoted(word)
    return words


# --- stages and variables --------------------------------------------------------------------


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
    if stage is None:
        return facts(df).effective(*cmds)
    target = stage
    return [ins for st in stage_chain(df, target) for ins in st.find(*cmds)]


def overridden(df: Dockerfile, cmd: str) -> Iterator[tuple[Instruction, Instruction]]:
    """(earlier, last) for each `cmd` instruction a later one in the same stage replaces."""
    for stage in df.stages:
        found = stage.find(cmd)
        for earlier in found[:-1]:
            yield earlier, found[-1]


# build arguments every builder defines without an ARG (they still need `ARG NAME` in a stage)
PREDEFINED_ARGS = frozenset(
    {"BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT", "TARGETPLATFORM", "TARGETOS"}
    | {"TARGETARCH", "TARGETVARIANT", "TARGETSTAGE", "BUILDKIT_SYNTAX"}
    | {"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"}
    | {"http_proxy", "https_proxy", "ftp_proxy", "no_proxy", "all_proxy"}
)
_DOCKER_VAR = re.compile(r"\$\{([A-Za-z_]\w*+)|\$([A-Za-z_]\w*+)")


def referenced(text: str) -> Iterator[tuple[str, int]]:
    """The variables `$NAME` / `${NAME}` used in `text`, with their offsets."""
    if "$" not in text:
        return
    for match in _DOCKER_VAR.finditer(text):
        yield match.group(1) or match.group(2), match.start()


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
    if "$" not in text:
        return text

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


def split_image(ref: str) -> tuple[str, str | None, str | None]:
    """`registry:5000/name:tag@sha256:..` -> (name with registry, tag, digest)."""
    name, _, digest = ref.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag or None, digest or None


CIS_DOCKER_BENCHMARK = "https://www.cisecurity.org/benchmark/docker"


def cis(control: str) -> str:
    """A reference to a CIS Docker Benchmark control (the rules reference labels it
    "CIS Docker Benchmark <control>"); references must be links, hence the fragment."""
    return f"{CIS_DOCKER_BENCHMARK}#{control}"


def shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def names_list(names: list[str], limit: int = 3) -> str:
    """`a, b, c and 2 more` (duplicates dropped)."""
    names = list(dict.fromkeys(names))
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


# --- the shell inside RUN --------------------------------------------------------------------

# A simple command: everything up to an unquoted separator (; & | newline ( )), where `2>&1`,
# `&>`, `$(...)`, `<(...)`, quotes, backticks and escapes belong to the command.
_COMMAND = re.compile(
    rf"""(?:[^;&|\n()'"`\\$<>]++|{_SQ}|{_DQ}|{_BQ}|{_SUBST}|{_PROC_SUBST}|\\.
         |[<>]++&?+[0-9-]*+|&>++|['"`\\$<>])++""",
    re.DOTALL | re.VERBOSE,
)
# A simple command and the separators that end it (`&&`, `|`, `;;`, `)`, newlines ...).
_COMMAND_AND_SEPARATOR = re.compile(
    rf"({_COMMAND.pattern})((?:[;|\n()\s]|&(?!>))*+)", re.DOTALL | re.VERBOSE
)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*+=")
_HEREDOC_MARK = re.compile(r"<<-?+['\"]?+([A-Za-z_][A-Za-z0-9_.-]*+)")
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"})
_KEYWORDS = frozenset(
    {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time", "exec"}
    | {"nohup", "command", "builtin", "fi", "done", "esac", "nice", "stdbuf"}
)
_SUDO_VALUE_OPTS = frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"})
_XARGS_VALUE_OPTS = frozenset({"-n", "-I", "-i", "-P", "-L", "-l", "-s", "-d", "-E", "-a"})
_REDIRECT = re.compile(r"^[0-9]*+(?:&>>?+|[<>]{1,3}+&?+)(?!\()(.*+)$", re.DOTALL)
_PIP_NAME = re.compile(r"^pip[0-9.]*+$")
_PYTHON_NAME = re.compile(r"^python[0-9.]*+$")
_MAX_NESTING = 2
_PREFIXES = _KEYWORDS | {"sudo", "env", "xargs"}


@dataclass(slots=True, eq=False)
class Command:
    """One simple command of a RUN, wrappers removed.

    `name` is the program's lower-case base name (`pip3`, `python -m pip` -> `pip`), or "" when
    the command only assigns variables; `args` are its arguments, unquoted; `piped` is true when
    its output feeds the next command (`a | b`); `sudo` when it runs under sudo.
    """

    ins: Instruction
    name: str
    args: list[str]
    text: str
    assignments: list[tuple[str, str]] = field(default_factory=list)
    sudo: bool = False
    piped: bool = False
    seq: int = 0
    memo: dict[str, Any] | None = None  # per-command results shared by rules (package calls)


@dataclass(slots=True, eq=False)
class Facts:
    """What the rules need to know about a Dockerfile, computed once and shared by the rules.

    Lookups are indexed (instructions by command, shell commands by program name) so that a
    rule about `apk` costs nothing on a Dockerfile that never calls apk.
    """

    df: Dockerfile
    commands: list[Command]
    by_ins: dict[int, list[Command]]
    by_name: dict[str, list[Command]]
    by_cmd: dict[str, list[Instruction]]
    final_chain: frozenset[int]
    assigning: list[Command]  # commands with `VAR=value` prefixes (or `export`)
    run_blob: str  # every RUN's text, lower case: `"sudo" in facts.run_blob` is a cheap pre-check
    memo: dict[Any, Any] = field(default_factory=dict)

    def mentions(self, *words: str) -> bool:
        """Whether any RUN contains one of `words` (lower case) anywhere in its text."""
        blob = self.run_blob
        return any(word in blob for word in words)

    def find(self, *cmds: str) -> list[Instruction]:
        """Instructions of `cmds`, in file order."""
        if len(cmds) == 1:
            return self.by_cmd.get(cmds[0], _EMPTY)
        lists = [found for cmd in cmds if (found := self.by_cmd.get(cmd))]
        if len(lists) <= 1:
            return lists[0] if lists else _EMPTY
        return sorted((ins for found in lists for ins in found), key=_line)

    def effective(self, *cmds: str) -> list[Instruction]:
        """Instructions of `cmds` that shape the final image, in file order."""
        chain = self.final_chain
        return [ins for ins in self.find(*cmds) if ins.stage in chain]

    def named(self, *names: str) -> list[Command]:
        """The commands running one of the programs `names`, in file order."""
        if len(names) == 1:
            return self.by_name.get(names[0], _EMPTY)
        lists = [found for name in names if (found := self.by_name.get(name))]
        if len(lists) <= 1:
            return lists[0] if lists else _EMPTY
        return sorted((c for found in lists for c in found), key=_seq)

    def commands_of(self, ins: Instruction) -> list[Command]:
        return self.by_ins.get(id(ins), _EMPTY)

    def in_final_image(self, ins: Instruction) -> bool:
        """Whether `ins` belongs to a stage whose layers end up in the final image."""
        return ins.stage in self.final_chain

    def runs(self, final_only: bool = False) -> Iterator[tuple[Instruction, list[Command]]]:
        """Each RUN with its commands (only those shaping the final image if `final_only`)."""
        by_ins, chain = self.by_ins, self.final_chain
        for ins in self.by_cmd.get("RUN", _EMPTY):
            if not final_only or ins.stage in chain:
                yield ins, by_ins.get(id(ins), _EMPTY)

    def text_of(self, ins: Instruction) -> str:
        """The shell text of a RUN (as `shell_text`), computed once."""
        key = ("text", id(ins))
        text = self.memo.get(key)
        if text is None:
            text = self.memo[key] = shell_text(ins)
        return text

    def lower_value(self, ins: Instruction) -> str:
        """`ins.value` in lower case, computed once (for cheap keyword pre-checks)."""
        key = ("lower", id(ins))
        text = self.memo.get(key)
        if text is None:
            text = self.memo[key] = ins.value.lower()
        return text


_EMPTY: list[Any] = []


def _line(ins: Instruction) -> int:
    return ins.line


def _seq(command: Command) -> int:
    return command.seq


def group_by_instruction(commands: Iterable[Command]) -> list[tuple[Instruction, list[Command]]]:
    """`commands` (in file order) grouped by the RUN they belong to."""
    groups: list[tuple[Instruction, list[Command]]] = []
    for command in commands:
        if groups and groups[-1][0] is command.ins:
            groups[-1][1].append(command)
        else:
            groups.append((command.ins, [command]))
    return groups


_cache_lock = threading.Lock()
_cached: tuple[Dockerfile, Facts] | None = None


def facts(df: Dockerfile) -> Facts:
    """The shared analysis of `df` (the last one is kept, since rules run one file at a time)."""
    global _cached
    cached = _cached
    if cached is not None and cached[0] is df:
        return cached[1]
    result = _analyse(df)
    with _cache_lock:
        _cached = (df, result)
    return result


def _analyse(df: Dockerfile) -> Facts:
    commands: list[Command] = []
    by_ins: dict[int, list[Command]] = {}
    by_cmd: dict[str, list[Instruction]] = {}
    for ins in df.instructions:
        found_ins = by_cmd.get(ins.cmd)
        if found_ins is None:
            by_cmd[ins.cmd] = [ins]
        else:
            found_ins.append(ins)
        if ins.cmd == "RUN":
            found = run_commands(ins)
            by_ins[id(ins)] = found
            commands.extend(found)
    by_name: dict[str, list[Command]] = {}
    assigning: list[Command] = []
    for seq, command in enumerate(commands):
        command.seq = seq
        if command.assignments or command.name == "export":
            assigning.append(command)
        same = by_name.get(command.name)
        if same is None:
            by_name[command.name] = [command]
        else:
            same.append(command)
    chain = frozenset(stage.index for stage in stage_chain(df, df.final_stage))
    return Facts(
        df=df,
        commands=commands,
        by_ins=by_ins,
        by_name=by_name,
        by_cmd=by_cmd,
        final_chain=chain,
        assigning=assigning,
        run_blob="\n".join(ins.value for ins in by_cmd.get("RUN", _EMPTY)).lower(),
    )


def run_commands(ins: Instruction) -> list[Command]:
    """The simple commands a RUN executes (heredoc bodies included when a shell reads them)."""
    if ins.json_args is not None:
        args = ins.json_args
        if not args:
            return []
        script = _shell_script(args)
        if script is not None:
            return parse_shell(ins, script)
        return _commands_from_words(ins, list(args), " ".join(args), 0)
    text = ins.args
    if not ins.heredocs:
        return parse_shell(ins, text)
    first_line = text.split("\n", 1)[0]
    found = parse_shell(ins, first_line)
    shell_docs = _heredocs_read_by_a_shell(first_line)
    for doc in ins.heredocs:
        if doc.name in shell_docs and _is_shell_body(doc.body):
            body = "\n".join(
                line for line in doc.body.split("\n") if not line.lstrip().startswith("#")
            )
            found.extend(parse_shell(ins, body))
    return found


def _heredocs_read_by_a_shell(first_line: str) -> set[str]:
    """Names of the heredocs on `first_line` whose reader is a shell (or the RUN itself)."""
    names: set[str] = set()
    for match in _COMMAND.finditer(first_line):
        segment = match.group(0)
        if "<<" not in segment:
            continue
        words = [w for w in segment.split() if "<" not in w and ">" not in w]
        program = _base(words[0]) if words else ""
        if not words or program in SHELLS:
            names.update(m.group(1) for m in _HEREDOC_MARK.finditer(segment))
    return names


def _is_shell_body(body: str) -> bool:
    first = body.lstrip("\n").split("\n", 1)[0]
    if not first.startswith("#!"):
        return True
    return any(shell in first for shell in ("sh", "bash"))


def _shell_script(args: list[str]) -> str | None:
    """The script of `sh -c "script"` (exec form or nested), else None."""
    if len(args) < 3 or _base(args[0]) not in SHELLS:
        return None
    for idx in range(1, len(args) - 1):
        arg = args[idx]
        if not arg.startswith("-"):
            return None
        if "c" in arg[1:] and not arg.startswith("--"):
            return args[idx + 1]
    return None


def _base(program: str) -> str:
    if "/" in program:
        program = program.rsplit("/", 1)[-1]
    return program.lower()


_NORMAL, _PATTERN, _BODY = 0, 1, 2


def parse_shell(ins: Instruction, text: str, depth: int = 0) -> list[Command]:
    """Cut shell `text` into simple commands.

    `case` statements are followed so that their patterns (`amd64 | arm64)`) are neither
    commands nor pipes.
    """
    found: list[Command] = []
    states = [_NORMAL]  # one entry per open `case`
    for raw, separator in _COMMAND_AND_SEPARATOR.findall(text):
        segment = raw.strip()
        if not segment:
            continue
        state = states[-1]
        if state != _NORMAL or "case" in segment or segment.startswith("esac"):
            first = _first_program_word(segment)
            if first == "esac" and len(states) > 1:
                states.pop()
                continue
            if state == _PATTERN:
                if ")" in separator:
                    states[-1] = _BODY
                continue
            if first == "case":
                states.append(_BODY if ")" in separator else _PATTERN)
                continue
        commands = _commands_from_words(ins, split_words(segment), segment, depth)
        if commands:
            if "|" in separator:
                stripped = separator.lstrip()
                commands[-1].piped = stripped.startswith("|") and not stripped.startswith("||")
            found.extend(commands)
        if state == _BODY and ";;" in separator:
            states[-1] = _PATTERN
    return found


_CASE_LEADERS = frozenset({"do", "then", "else", "{", "!"})


def _first_program_word(segment: str) -> str:
    """The first word of a segment after `do`, `then`, `else`, `{`: `do case x in` -> `case`."""
    words = segment.split()
    pos = 0
    while pos < len(words) - 1 and words[pos] in _CASE_LEADERS:
        pos += 1
    return words[pos]


_SUBSTITUTION = re.compile(_SUBST, re.DOTALL)


def substitutions(text: str) -> list[str]:
    """The scripts of the command substitutions in `text`: `a=$(b | c)` -> [`b | c`]."""
    if "$(" not in text:
        return []
    return [match.group(0)[2:-1] for match in _SUBSTITUTION.finditer(text)]


def _without_redirections(words: list[str]) -> list[str]:
    """Drop `> file`, `2>&1`, `<<EOF`, `<<< word` ...: they are not arguments."""
    kept: list[str] = []
    skip_next = False
    for word in words:
        if skip_next:
            skip_next = False
            continue
        match = _REDIRECT.match(word)
        if match is None:
            kept.append(word)
        elif not match.group(1):
            skip_next = True
    return kept


def _commands_from_words(
    ins: Instruction, words: list[str], text: str, depth: int
) -> list[Command]:
    if "<" in text or ">" in text:
        words = _without_redirections(words)
    if not words:
        return []
    assignments: list[tuple[str, str]] = []
    sudo = False
    idx, n = 0, len(words)
    first = words[0]
    if first in _PREFIXES or "=" in first or first[0] == "#":
        idx, n, sudo = _peel(words, assignments)
    if idx >= n:
        if assignments:
            return [Command(ins=ins, name="", args=[], text=text, assignments=assignments)]
        return []
    name = _base(words[idx])
    args = words[idx + 1 : n]
    if (
        name.startswith("python")
        and len(args) >= 2
        and args[0] == "-m"
        and _PYTHON_NAME.match(name)
    ):
        name, args = args[1].lower(), args[2:]
    if name.startswith("pip") and _PIP_NAME.match(name):
        name = "pip"
    if depth < _MAX_NESTING and name in SHELLS:
        script = _shell_script([name, *args])
        if script is not None:
            nested = parse_shell(ins, script, depth + 1)
            if nested:
                if sudo or assignments:
                    nested[0].sudo = nested[0].sudo or sudo
                    nested[0].assignments = assignments + nested[0].assignments
                return nested
    return [Command(ins=ins, name=name, args=args, text=text, assignments=assignments, sudo=sudo)]


def _peel(words: list[str], assignments: list[tuple[str, str]]) -> tuple[int, int, bool]:
    """Skip the wrappers before the program (keywords, `VAR=x`, sudo, env, xargs); returns
    (index of the program, end of the command, whether sudo was seen)."""
    sudo = False
    idx, n = 0, len(words)
    while idx < n:
        word = words[idx]
        if word.startswith("#"):
            n = idx  # a comment: the rest of the command is not run
            break
        if word in _KEYWORDS:
            idx += 1
        elif _ASSIGNMENT.match(word):
            name, _, value = word.partition("=")
            assignments.append((name, value))
            idx += 1
        elif word == "sudo":
            sudo = True
            idx = _skip_options(words, idx + 1, _SUDO_VALUE_OPTS)
        elif word == "env":
            idx = _skip_options(words, idx + 1, frozenset({"-u", "-C", "-S"}))
        elif word == "xargs":
            idx = _skip_options(words, idx + 1, _XARGS_VALUE_OPTS)
        else:
            break
    return idx, n, sudo


def _skip_options(words: list[str], idx: int, takes_value: frozenset[str]) -> int:
    while idx < len(words):
        word = words[idx]
        if word == "--":
            return idx + 1
        if not word.startswith("-") or word == "-":
            return idx
        idx += 2 if word in takes_value else 1
    return idx


@dataclass(slots=True)
class Parsed:
    """A command's arguments split into options (name -> values) and positional operands."""

    options: dict[str, list[str]]
    positionals: list[str]
    short_flags: str  # every single-letter flag given, e.g. "yq" for `-yq`

    def has(self, *names: str) -> bool:
        return any(name in self.options for name in names)

    def values(self, *names: str) -> list[str]:
        return [value for name in names for value in self.options.get(name, ())]


def parse_args(
    args: Iterable[str], takes_value: frozenset[str] = frozenset(), short_values: str = ""
) -> Parsed:
    """Split `args` into options and operands.

    `takes_value` names the options (`-o`, `--target`) whose value is the next word when not
    given with `=`; `short_values` lists the short letters that take a value inside a group
    (`-sSLo file`: the letters after `o` are its value).
    """
    options: dict[str, list[str]] = {}
    positionals: list[str] = []
    shorts: list[str] = []
    words = list(args)
    idx, n = 0, len(words)
    while idx < n:
        word = words[idx]
        idx += 1
        if word == "--":
            positionals.extend(words[idx:])
            break
        if word.startswith("--"):
            name, sep, value = word.partition("=")
            if not sep and name in takes_value and idx < n:
                value, sep = words[idx], "="
                idx += 1
            options.setdefault(name, []).append(value if sep else "")
        elif word.startswith("-") and len(word) > 1 and not word[1].isdigit():
            if word in takes_value:
                value = words[idx] if idx < n else ""
                idx += 1
                options.setdefault(word, []).append(value)
                shorts.append(word[1])
                continue
            for pos in range(1, len(word)):
                letter = word[pos]
                shorts.append(letter)
                if letter in short_values:
                    value = word[pos + 1 :]
                    if not value and idx < n:
                        value = words[idx]
                        idx += 1
                    options.setdefault("-" + letter, []).append(value)
                    break
                options.setdefault("-" + letter, []).append("")
        else:
            positionals.append(word)
    return Parsed(options=options, positionals=positionals, short_flags="".join(shorts))


def subcommand(args: list[str], takes_value: frozenset[str] = frozenset()) -> tuple[str, int]:
    """The first operand (`install` in `apt-get -y install x`) and its index, or ("", -1)."""
    idx, n = 0, len(args)
    while idx < n:
        word = args[idx]
        if word == "--":
            return (args[idx + 1], idx + 1) if idx + 1 < n else ("", -1)
        if word.startswith("-") and len(word) > 1:
            idx += 2 if (word in takes_value) else 1
            continue
        return word, idx
    return "", -1


def is_variable(word: str) -> bool:
    """A word whose value is only known at build time (`$PKG`, `${V}`, `$(cat list)`)."""
    return "$" in word or "`" in word


def env_before(df: Dockerfile, ins: Instruction, name: str) -> str | None:
    """The value ENV/ARG give `name` before `ins` in its stage chain (None if never set)."""
    if ins.stage < 0:
        return None
    stage = df.stages[ins.stage]
    found: str | None = None
    for st in stage_chain(df, stage):
        for other in st.find("ENV", "ARG"):
            if st.index == stage.index and other.line >= ins.line:
                break
            if name not in other.value:
                continue
            for key, value in key_values(other):
                if key == name and value is not None:
                    found = value
    return found


def cache_mount_targets(ins: Instruction) -> list[str]:
    """The targets of `RUN --mount=type=cache,target=...` (several mounts allowed)."""
    if "--mount" not in ins.value:
        return []
    targets: list[str] = []
    for word in ins.value.split():
        if not word.startswith("--"):
            break
        if word.startswith("--mount=") and "type=cache" in word:
            for part in word[len("--mount=") :].split(","):
                key, _, value = part.partition("=")
                if key in ("target", "dst", "destination"):
                    targets.append(value)
    return targets
