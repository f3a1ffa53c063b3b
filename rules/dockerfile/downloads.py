"""Rules about downloads made in RUN: the tools and the protocol."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import Command, facts, shorten

_DOWNLOADERS = ("curl", "wget")
_LOCAL_HOSTS = ("localhost", "127.", "[::1]", "0.0.0.0", "host.docker.internal")
_CHECKSUMS = frozenset({"sha1sum", "sha256sum", "sha384sum", "sha512sum", "shasum", "md5sum"})
_SIGNATURES = frozenset({"gpg", "gpgv", "gpg2", "cosign", "minisign", "signify"})


@rule(
    id="DF-RUN-005",
    artifact_type="dockerfile",
    title="Both wget and curl used in one stage",
    severity="low",
    description=(
        "A stage that downloads with curl in one place and wget in another needs both tools "
        "installed: two programs with their own TLS settings, proxies and flaws to patch, "
        "where one is enough. Mixing them is also how a `-f` or `--no-check-certificate` "
        "habit of one tool gets lost in the other."
    ),
    remediation=(
        "Pick one tool for the stage, e.g. curl everywhere: `RUN curl -fsSLo /tmp/tool.tgz "
        "https://example.com/tool.tgz` (and do not install wget)."
    ),
    references=("https://docs.docker.com/build/building/best-practices/#add-or-copy",),
)
def wget_and_curl(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not (shared.named("curl") and shared.named("wget")):
        return
    first: dict[int, str] = {}  # stage -> the tool it used first
    flagged: set[int] = set()
    for command in shared.named(*_DOWNLOADERS):
        ins = command.ins
        tool = first.setdefault(ins.stage, command.name)
        if command.name != tool and id(ins) not in flagged:
            flagged.add(id(ins))
            yield Hit(f"RUN uses {command.name} where the stage already uses {tool}", line=ins.line)


def _plain_url(word: str) -> str | None:
    lower = word.strip("'\"").lower()
    for scheme in ("http://", "git://", "ftp://"):
        if lower.startswith(scheme):
            host = lower[len(scheme) :].split("@")[-1]
            return None if host.startswith(_LOCAL_HOSTS) else word.strip("'\"")
    return None


def _plain_download(command: Command) -> str | None:
    if command.name in _DOWNLOADERS:
        candidates = command.args
    elif command.name == "git" and command.args[:1] in (["clone"], ["fetch"], ["pull"]):
        candidates = command.args[1:]
    else:
        return None
    return next((url for word in candidates if (url := _plain_url(word))), None)


def _verified(commands: list[Command]) -> bool:
    """Whether the RUN checks what it downloaded: a checksum or a signature."""
    for command in commands:
        if command.name in _CHECKSUMS and any(
            arg in ("-c", "--check") or (arg[:1] == "-" and arg[1:2] != "-" and "c" in arg)
            for arg in command.args
        ):
            return True
        if command.name in _SIGNATURES and any("verify" in arg for arg in command.args):
            return True
    return False


@rule(
    id="DF-RUN-007",
    artifact_type="dockerfile",
    title="Download over plain HTTP without verification",
    severity="medium",
    description=(
        "`curl http://...`, `wget http://...` or `git clone git://...` fetch code without "
        "encryption or server authentication: anyone on the network path (a proxy, a "
        "hijacked DNS, a hostile Wi-Fi at the CI runner) can hand the build something else, "
        "and nothing in the step would notice."
    ),
    remediation=(
        "Download over HTTPS, and check what arrives when the publisher gives a checksum or "
        "a signature: `RUN curl -fsSLo tool.tgz https://example.com/tool.tgz && echo "
        '"<sha256>  tool.tgz" | sha256sum -c -`'
    ),
    references=(
        "https://docs.docker.com/build/building/best-practices/#add-or-copy",
        "https://curl.se/docs/manpage.html#-f",
    ),
)
def plain_http_download(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not shared.mentions("http://", "git://", "ftp://"):
        return
    for ins, commands in shared.runs():
        if "://" not in ins.value:
            continue
        url = next((url for command in commands if (url := _plain_download(command))), None)
        if url and not _verified(commands):
            yield Hit(
                f"RUN downloads {shorten(url, 70)} over an unencrypted protocol", line=ins.line
            )
