"""Rules about downloads made in RUN: the tools, the protocol, and what pins or verifies them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import Command, facts, names_list, parse_args, shorten

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
    controls=("nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
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


_RECEIVE = frozenset({"--recv-keys", "--recv-key", "--recv", "--receive-keys"})
_KEY_TOOLS = ("gpg", "gpg2", "apt-key")
_HEX = re.compile(r"^(?:0x)?+([0-9A-Fa-f]++)$")


def _short_key_ids(command: Command) -> list[str]:
    """The keys `gpg --recv-keys` (or `apt-key adv --recv-keys`) asks for by a short ID."""
    short: list[str] = []
    receiving = False
    for arg in command.args:
        if arg.startswith("-"):
            receiving = arg.split("=", 1)[0] in _RECEIVE
            if receiving and "=" in arg:
                arg = arg.split("=", 1)[1]
            else:
                continue
        if not receiving:
            continue
        match = _HEX.match(arg.replace(" ", ""))
        if match and len(match.group(1)) in (8, 16):
            short.append(arg)
    return short


@rule(
    id="DF-RUN-009",
    artifact_type="dockerfile",
    title="Signing key fetched by a short key ID",
    severity="medium",
    description=(
        "`gpg --recv-keys 7F438280` asks a key server for any key whose ID ends in those 8 "
        "(or 16) hex digits. Keys with a chosen short ID can be generated in seconds, and "
        "public key servers hold such copies of well-known keys: the build may import the "
        "attacker's key, and every signature check that follows then trusts the attacker's "
        "files."
    ),
    remediation=(
        "Ask for the full 40-digit fingerprint, which cannot be forged: "
        "`RUN gpg --batch --keyserver hkps://keys.openpgp.org --recv-keys "
        "B42F6819007F00F88E364FD4036A9C25BF357DD4`."
    ),
    references=(
        "https://www.gnupg.org/documentation/manuals/gnupg/GPG-Configuration-Options.html",
        "https://evil32.com/",
    ),
)
def short_key_id(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not shared.mentions("--rec"):
        return
    flagged: set[int] = set()
    for command in shared.named(*_KEY_TOOLS):
        ids = _short_key_ids(command)
        if ids and id(command.ins) not in flagged:
            flagged.add(id(command.ins))
            yield Hit(
                f"{command.name} fetches key {names_list(ids)} by a short ID, not a fingerprint",
                line=command.ins.line,
            )


_GIT_GLOBAL_VALUES = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace"})
_CLONE_VALUES = frozenset(
    {"-b", "--branch", "--depth", "-o", "--origin", "-u", "--upload-pack", "--reference"}
    | {"--shallow-since", "--shallow-exclude", "-j", "--jobs", "--filter", "--config", "-c"}
    | {"--template", "--separate-git-dir", "--revision", "--server-option", "--bundle-uri"}
)
_MOVING_BRANCHES = frozenset(
    {"master", "main", "develop", "development", "dev", "trunk", "head", "next", "nightly"}
)
_PINS = frozenset({"checkout", "reset", "switch"})


def _git_subcommand(command: Command) -> tuple[str, list[str]]:
    """`git -C dir -c k=v clone url` -> ("clone", ["url"])."""
    args = command.args
    idx = 0
    while idx < len(args) and args[idx].startswith("-"):
        idx += 2 if args[idx] in _GIT_GLOBAL_VALUES else 1
    if idx >= len(args):
        return "", []
    return args[idx], args[idx + 1 :]


def _moving_clone(rest: list[str]) -> str | None:
    """Why a `git clone` with these arguments gets whatever a branch points to today."""
    parsed = parse_args(rest, _CLONE_VALUES, "bojuc")
    if parsed.has("--revision"):
        return None
    branches = parsed.values("-b", "--branch")
    if not branches:
        return "the default branch"
    branch = branches[-1]
    if "$" in branch or "`" in branch:
        return None  # a version decided by a build argument
    if branch.lower() in _MOVING_BRANCHES or not any(ch.isdigit() for ch in branch):
        return f"branch {branch}"
    return None  # a tag or a release branch such as v1.2.3


@rule(
    id="DF-RUN-010",
    artifact_type="dockerfile",
    title="Source cloned from a moving branch",
    severity="low",
    description=(
        "`git clone https://github.com/org/tool` (or `--branch main`) builds whatever that "
        "branch holds on the day of the build. The image changes without any change to the "
        "Dockerfile, it cannot be rebuilt as it was, and a commit pushed by anyone with "
        "write access to that repository (or by whoever took over an account) goes straight "
        "into the image."
    ),
    remediation=(
        "Clone a release tag, or check out a reviewed commit right after cloning: "
        "`RUN git clone --depth 1 --branch v1.4.2 https://github.com/org/tool /src` or "
        "`RUN git clone https://github.com/org/tool /src && git -C /src checkout "
        "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39`."
    ),
    references=(
        "https://git-scm.com/docs/git-clone#Documentation/git-clone.txt-code--branchcodeemnameem",
        "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
    ),
)
def clone_moving_branch(df: Dockerfile) -> Iterator[Hit]:
    gits = facts(df).named("git")
    if not gits:
        return
    subs = [(git, *_git_subcommand(git)) for git in gits]
    flagged: set[int] = set()
    for git, sub, rest in subs:
        if sub != "clone" or id(git.ins) in flagged:
            continue
        why = _moving_clone(rest)
        if why is None:
            continue
        pinned_later = any(
            other.ins.stage == git.ins.stage and other.seq > git.seq and other_sub in _PINS
            for other, other_sub, _ in subs
        )
        if not pinned_later:
            flagged.add(id(git.ins))
            yield Hit(f"git clone builds {why}, not a fixed tag or commit", line=git.ins.line)
