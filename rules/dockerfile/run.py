"""Rules about RUN commands."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import shell_text, split_words

_SHELLS = r"(?:/usr/bin/|/bin/|/usr/local/bin/)?(?:ba|z|k|da|a|fi)?sh|python[23]?|perl|ruby|node"
_PIPE_TO_SHELL = re.compile(
    r"\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+(?:\S+=\S*\s+)*)?"
    rf"(?:{_SHELLS})(?![\w.-])"
)
_SUBST_TO_SHELL = re.compile(rf"(?:{_SHELLS})\s+(?:-\w+\s+)*(?:<\(|[\"']?\$\()\s*(?:curl|wget)\b")
_SEGMENT_SPLIT = re.compile(r"&&|\|\||[;|\n]")
_APT_INSTALL = re.compile(r"\bapt-get\b(?:\s+-\S+)*\s+install\b")
_YES = re.compile(r"^-[a-z]*y[a-z]*$|^--yes$|^--assume-yes$|^-o\s*APT::Get::Assume-Yes=(?:1|true)$")
_NO_RECOMMENDS = re.compile(r"--no-install-recommends|APT::Install-Recommends=(?:0|false)", re.I)
_SIMULATE = frozenset({"-s", "--simulate", "--dry-run", "--just-print", "--no-act", "--recon"})
_CHMOD = re.compile(r"\bchmod\s+(?:-[A-Za-z]+\s+|--\S+\s+)*(\S+)")
_SYMBOLIC = re.compile(r"^([ugoa]*)([-+=])([rwxXst]*)$")


@rule(
    id="DF-RUN-001",
    artifact_type="dockerfile",
    title="Remote script piped into a shell",
    severity="high",
    description=(
        "`curl ... | sh` runs whatever the server sends, unseen and unverified, as the build "
        "user (often root). A compromised server, DNS or proxy turns the build into a "
        "supply-chain attack, and the build is not reproducible."
    ),
    remediation=(
        "Download the script or package to a file, verify it, then run it:\n"
        "`RUN curl -fsSLo install.sh https://example.com/install.sh "
        '&& echo "<sha256>  install.sh" | sha256sum -c - && sh install.sh`'
    ),
    references=("https://docs.docker.com/build/building/best-practices/#run",),
)
def pipe_to_shell(df: Dockerfile) -> Iterator[Hit]:
    for ins in df.find("RUN"):
        text = shell_text(ins)
        if "curl" not in text and "wget" not in text:
            continue
        match = _PIPE_TO_SHELL.search(text) or _SUBST_TO_SHELL.search(text)
        if match:
            snippet = " ".join(match.group(0).split())
            if len(snippet) > 80:
                snippet = snippet[:77] + "..."
            yield Hit(f"`{snippet}` runs a downloaded script unverified", line=ins.line)


@rule(
    id="DF-RUN-002",
    artifact_type="dockerfile",
    title="apt-get install without -y or --no-install-recommends",
    severity="low",
    description=(
        "Without `-y` apt-get waits for a confirmation that never comes in a build. Without "
        "`--no-install-recommends` it also installs recommended packages nobody asked for, "
        "which makes the image bigger and widens its attack surface."
    ),
    remediation=(
        "`RUN apt-get update && apt-get install -y --no-install-recommends curl "
        "&& rm -rf /var/lib/apt/lists/*`"
    ),
    references=("https://docs.docker.com/build/building/best-practices/#apt-get",),
)
def apt_get_install_flags(df: Dockerfile) -> Iterator[Hit]:
    for ins in df.find("RUN"):
        text = shell_text(ins)
        if "apt-get" not in text:
            continue
        missing: list[str] = []
        for segment in _SEGMENT_SPLIT.split(text):
            if not _APT_INSTALL.search(segment):
                continue
            words = split_words(segment)
            if _SIMULATE.intersection(words):
                continue  # a dry run installs nothing
            if "-y" not in missing and not any(_YES.match(word) for word in words):
                missing.append("-y")
            if "--no-install-recommends" not in missing and not _NO_RECOMMENDS.search(segment):
                missing.append("--no-install-recommends")
        if missing:
            yield Hit(f"apt-get install without {' and '.join(missing)}", line=ins.line)


def _world_writable(mode: str) -> bool:
    if mode.isdigit():
        try:
            bits = int(mode, 8)
        except ValueError:
            return False
        return bool(bits & 0o002) and not bits & 0o1000  # sticky dirs (1777 /tmp) are fine
    for clause in mode.split(","):
        match = _SYMBOLIC.match(clause)
        if match and match.group(2) in "+=" and "w" in match.group(3):
            who = match.group(1)
            if ("o" in who or "a" in who) and "t" not in match.group(3):
                return True
    return False


@rule(
    id="DF-RUN-003",
    artifact_type="dockerfile",
    title="World-writable permissions",
    severity="medium",
    description=(
        "`chmod 777` (or `o+w`) lets every user and process in the container modify those "
        "files: a compromised unprivileged process can then replace binaries or configuration "
        "that more privileged code trusts."
    ),
    remediation=(
        "Give ownership to the user that needs to write and keep others read-only:\n"
        "`COPY --chown=app:app data/ /srv/data/` and `RUN chmod 750 /srv/data`"
    ),
    references=("https://docs.docker.com/reference/dockerfile/#copy---chown---chmod",),
)
def world_writable(df: Dockerfile) -> Iterator[Hit]:
    for ins in df.find("RUN", "COPY", "ADD"):
        if ins.cmd != "RUN":
            mode = ins.flags.get("chmod")
            if mode and _world_writable(mode):
                yield Hit(f"{ins.cmd} --chmod={mode} makes files world-writable", line=ins.line)
            continue
        text = shell_text(ins)
        if "chmod" not in text:
            continue
        for match in _CHMOD.finditer(text):
            if _world_writable(match.group(1)):
                yield Hit(f"chmod {match.group(1)} makes files world-writable", line=ins.line)
                break
