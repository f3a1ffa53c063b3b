"""Rules about apk (Alpine)."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import facts, is_variable, names_list
from rules.dockerfile._packages import has_cache_mount, is_local_file, package_calls, removes_path

_APK_CACHE = ("/var/cache/apk", "/etc/apk/cache")


@rule(
    id="DF-PKG-004",
    artifact_type="dockerfile",
    title="apk add without --no-cache",
    severity="low",
    description=(
        "Without `--no-cache`, `apk add` stores the package index under /var/cache/apk, and "
        "it stays in the layer of the final image: a few MB of stale data in every copy of "
        "an image chosen for being small."
    ),
    remediation="Let apk fetch the index without keeping it: `RUN apk add --no-cache curl`",
    references=("https://wiki.alpinelinux.org/wiki/Alpine_Package_Keeper#Local_Cache",),
)
def apk_without_no_cache(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins, calls in package_calls(df, "apk", final_only=True):
        adds = [
            call
            for call in calls
            if call.action == "add" and not call.options.has("--no-cache", "--no-network")
        ]
        if not adds:
            continue
        if removes_path(shared.commands_of(ins), *_APK_CACHE) or has_cache_mount(ins, *_APK_CACHE):
            continue
        yield Hit("apk add without --no-cache keeps the package index in the image", line=ins.line)


@rule(
    id="DF-PKG-005",
    artifact_type="dockerfile",
    title="apk packages installed without a pinned version",
    severity="info",
    description=(
        "`apk add curl` installs the repository's current version at build time, so the "
        "same Dockerfile yields different images over time. A pin (`curl=8.9.1-r1`) or at "
        "least a version constraint (`curl~8.9`) keeps builds repeatable; note that Alpine "
        "removes old package versions, so exact pins need regular updates."
    ),
    remediation=(
        "Pin or constrain the versions: `RUN apk add --no-cache curl=8.9.1-r1 "
        "ca-certificates~20240705`"
    ),
    references=(
        "https://wiki.alpinelinux.org/wiki/Alpine_Package_Keeper#Holding_a_specific_package_back",
    ),
)
def apk_unpinned(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "apk"):
        unpinned = [
            pkg
            for call in calls
            if call.action == "add"
            for pkg in call.packages
            if not any(op in pkg for op in "=~<>")
            and not is_variable(pkg)
            and not is_local_file(pkg)
        ]
        if unpinned:
            yield Hit(f"apk adds {names_list(unpinned)} without a version", line=ins.line)
