"""Rules about zypper (openSUSE, SLES) and pacman (Arch Linux)."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import facts, names_list
from rules.dockerfile._packages import (
    PackageCall,
    has_cache_mount,
    package_calls,
    removes_path,
    unpinned_installs,
)

# zypper commands (and their short forms) that change packages and so ask for confirmation
_ZYPPER_CHANGES = frozenset(
    {"install", "in", "remove", "rm", "update", "up", "dist-upgrade", "dup", "patch"}
    | {"source-install", "si", "install-new-recommends", "inr", "verify", "ve"}
)
_ZYPPER_DOWNLOADS = frozenset(
    {"install", "in", "update", "up", "dist-upgrade", "dup", "patch", "refresh", "ref"}
    | {"source-install", "si", "install-new-recommends", "inr"}
)
_ZYPPER_CACHE = ("/var/cache/zypp",)
_ZYPPER_INSTALL = frozenset({"install", "in"})
_PACMAN_CHANGES = frozenset("SUR")  # sync, upgrade from a file, remove


@rule(
    id="DF-PKG-023",
    artifact_type="dockerfile",
    title="zypper run without --non-interactive",
    severity="low",
    description=(
        "zypper asks before it installs, removes or upgrades anything. A build has no one to "
        "answer: the prompt reads end-of-input, the step aborts and the image cannot be "
        "built (or, with license prompts, it waits until the build times out)."
    ),
    remediation=(
        "Answer up front: `RUN zypper --non-interactive install --no-recommends nginx && "
        "zypper clean --all` (`-n` for short, or `-y` after the command)."
    ),
    references=(
        "https://en.opensuse.org/SDB:Zypper_usage#Non-interactive_mode",
        "https://doc.opensuse.org/documentation/leap/reference/html/book-reference/cha-sw-cl.html",
    ),
)
def zypper_interactive(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "zypper"):
        for call in calls:
            opts = call.options
            if call.action not in _ZYPPER_CHANGES or call.simulated:
                continue
            if opts.has("-n", "--non-interactive", "-y", "--no-confirm"):
                continue
            yield Hit(f"zypper {call.action} without --non-interactive", line=ins.line)
            break


def _zypper_cleans(call: PackageCall) -> bool:
    return call.action in ("clean", "cc")


@rule(
    id="DF-PKG-024",
    artifact_type="dockerfile",
    title="zypper cache left in the image",
    severity="low",
    description=(
        "zypper keeps repository metadata and downloaded packages under /var/cache/zypp. "
        "Unless the same RUN cleans it, the cache stays in that layer of the final image: "
        "tens of MB of data that is stale the moment the build ends."
    ),
    remediation=(
        "Clean in the same RUN: `RUN zypper -n install --no-recommends nginx && zypper clean "
        "--all` (or mount the cache: `RUN --mount=type=cache,target=/var/cache/zypp ...`)."
    ),
    references=(
        "https://doc.opensuse.org/documentation/leap/reference/html/book-reference/cha-sw-cl.html",
        "https://docs.docker.com/build/cache/optimize/#use-cache-mounts",
    ),
)
def zypper_cache_left(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins, calls in package_calls(df, "zypper", final_only=True):
        fetching = next((c for c in calls if c.action in _ZYPPER_DOWNLOADS), None)
        if fetching is None or any(_zypper_cleans(call) for call in calls):
            continue
        if removes_path(shared.commands_of(ins), *_ZYPPER_CACHE) or has_cache_mount(
            ins, *_ZYPPER_CACHE
        ):
            continue
        yield Hit(f"zypper {fetching.action} without `zypper clean` in the same RUN", line=ins.line)


def _zypper_pinned(call: PackageCall, pkg: str) -> bool:
    # `nginx=1.21.5`, `nginx>=1.21`, or a pattern / patch / capability (`pattern:devel`)
    return any(char in pkg for char in "=<>:()*") or call.options.has("-t", "--type")


@rule(
    id="DF-PKG-025",
    artifact_type="dockerfile",
    title="zypper packages installed without a pinned version",
    severity="info",
    description=(
        "`zypper install nginx` installs whatever version the repositories offer on build "
        "day, so rebuilding the same Dockerfile later produces another image. A version "
        "(`nginx=1.21.5`) or a bound (`nginx>=1.21`) keeps builds repeatable; as with the "
        "other distribution package managers, exact pins need a bot to keep them current."
    ),
    remediation=(
        "Pin the versions: `RUN zypper -n install --no-recommends nginx=1.21.5 && zypper "
        "clean --all`"
    ),
    references=("https://en.opensuse.org/SDB:Zypper_usage#Installing_packages",),
)
def zypper_unpinned(df: Dockerfile) -> Iterator[Hit]:
    for ins, names in unpinned_installs(df, ("zypper",), _ZYPPER_INSTALL, _zypper_pinned):
        yield Hit(f"zypper installs {names_list(names)} without a version", line=ins.line)


def _pacman_operation(args: list[str]) -> str:
    """The operation letters of a pacman call: `-Syu` -> "Syu", `--sync` -> "S"."""
    letters = ""
    for arg in args:
        if arg in ("--sync", "--upgrade", "--remove"):
            letters += arg[2].upper()
        elif arg.startswith("-") and not arg.startswith("--"):
            letters += arg[1:]
    return letters


@rule(
    id="DF-PKG-026",
    artifact_type="dockerfile",
    title="pacman run without --noconfirm",
    severity="low",
    description=(
        "pacman asks for confirmation before it installs, upgrades or removes packages. A "
        "build cannot answer, so `pacman -S nginx` stops at the prompt and the step fails "
        "(or hangs until the build times out)."
    ),
    remediation=(
        "Answer up front: `RUN pacman -Syu --noconfirm --needed nginx && pacman -Scc --noconfirm`"
    ),
    references=("https://man.archlinux.org/man/pacman.8#OPTIONS",),
)
def pacman_without_noconfirm(df: Dockerfile) -> Iterator[Hit]:
    flagged: set[int] = set()
    for command in facts(df).named("pacman"):
        args = command.args
        if "--noconfirm" in args or id(command.ins) in flagged:
            continue
        operation = _pacman_operation(args)
        if _pacman_asks(operation, any(not arg.startswith("-") for arg in args)):
            flagged.add(id(command.ins))
            yield Hit(f"pacman -{operation} without --noconfirm", line=command.ins.line)


def _pacman_asks(operation: str, has_targets: bool) -> bool:
    """Whether a pacman operation prompts: installs, upgrades, removals and cache cleaning do;
    searches, queries and a bare index refresh (`-Sy`) do not."""
    if not operation or operation[0] not in _PACMAN_CHANGES:
        return False
    modifiers = operation[1:]
    if operation[0] != "S":
        return has_targets
    if any(letter in modifiers for letter in "siglp"):
        return False
    return "c" in modifiers or "u" in modifiers or has_targets
