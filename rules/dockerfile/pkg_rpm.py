"""Rules about yum, dnf and microdnf (Fedora, RHEL, CentOS, Amazon Linux, UBI)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import facts, is_variable, names_list
from rules.dockerfile._packages import (
    RPM,
    has_cache_mount,
    is_local_file,
    package_calls,
    removes_path,
)

_CHANGES = frozenset(
    {"install", "in", "groupinstall", "localinstall", "reinstall", "update", "upgrade"}
    | {"remove", "erase", "rm", "downgrade", "autoremove", "distro-sync", "groupupdate"}
    | {"groupremove", "update-minimal", "upgrade-minimal", "swap"}
)
_DOWNLOADS = frozenset(
    {"install", "in", "groupinstall", "localinstall", "reinstall", "update", "upgrade"}
    | {"downgrade", "distro-sync", "groupupdate", "update-minimal", "upgrade-minimal"}
    | {"makecache", "swap"}
)
_RPM_CACHES = ("/var/cache/yum", "/var/cache/dnf", "/var/cache/tdnf")
_VERSIONED = re.compile(r"-[0-9]")


@rule(
    id="DF-PKG-006",
    artifact_type="dockerfile",
    title="yum or dnf run without -y",
    severity="low",
    description=(
        "yum and dnf ask for confirmation before changing packages. A build has no one to "
        "answer, so the step aborts (or, with some wrappers, hangs until a timeout) and the "
        "image cannot be built."
    ),
    remediation=(
        "Answer yes up front: `RUN dnf install -y --setopt=install_weak_deps=False "
        "python3.12 && dnf clean all`"
    ),
    references=("https://dnf.readthedocs.io/en/latest/command_ref.html#options",),
)
def rpm_without_yes(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "yum", "dnf", "tdnf"):
        for call in calls:
            if call.action not in _CHANGES:
                continue
            opts = call.options
            if "y" in opts.short_flags or opts.has("--assumeyes", "--yes"):
                continue
            yield Hit(f"{call.manager} {call.action} without -y", line=ins.line)
            break


@rule(
    id="DF-PKG-007",
    artifact_type="dockerfile",
    title="yum or dnf cache left in the image",
    severity="low",
    description=(
        "yum and dnf keep repository metadata (and sometimes packages) under /var/cache. "
        "Unless the same RUN cleans it, it stays in the final image's layer: often 100 MB or "
        "more of data that is stale the moment the image is built."
    ),
    remediation=(
        "Clean in the same RUN: `RUN dnf install -y nginx && dnf clean all && "
        "rm -rf /var/cache/dnf` (`yum clean all` / `microdnf clean all` likewise)."
    ),
    references=("https://dnf.readthedocs.io/en/latest/command_ref.html#clean-command",),
)
def rpm_cache_left(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins, calls in package_calls(df, *RPM, final_only=True):
        fetching = next((call for call in calls if call.action in _DOWNLOADS), None)
        if fetching is None:
            continue
        if any(call.action == "clean" and "all" in call.packages for call in calls):
            continue
        if removes_path(shared.commands_of(ins), *_RPM_CACHES) or has_cache_mount(
            ins, *_RPM_CACHES
        ):
            continue
        yield Hit(
            f"{fetching.manager} {fetching.action} without `{fetching.manager} clean all` "
            "in the same RUN",
            line=ins.line,
        )


def _rpm_pinned(pkg: str) -> bool:
    return bool(_VERSIONED.search(pkg)) or any(op in pkg for op in "=<>")


@rule(
    id="DF-PKG-008",
    artifact_type="dockerfile",
    title="yum or dnf packages installed without a pinned version",
    severity="info",
    description=(
        "`dnf install nginx` takes whatever version the repositories offer that day, so "
        "rebuilding the same Dockerfile later yields a different image. Naming the version "
        "(`nginx-1.24.0`) keeps builds repeatable and turns upgrades into reviewed changes."
    ),
    remediation=("Pin versions: `RUN dnf install -y nginx-1.24.0 openssl-3.0.7 && dnf clean all`"),
    references=("https://dnf.readthedocs.io/en/latest/command_ref.html#specifying-packages",),
)
def rpm_unpinned(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, *RPM):
        unpinned = [
            pkg
            for call in calls
            if call.action in ("install", "in")
            for pkg in call.packages
            if not _rpm_pinned(pkg)
            and not is_variable(pkg)
            and not is_local_file(pkg)
            and not pkg.startswith("@")
            and not any(char in pkg for char in "():*/ ")
        ]
        if unpinned:
            yield Hit(f"{names_list(unpinned)} installed without a version", line=ins.line)
