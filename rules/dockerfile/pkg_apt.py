"""Rules about apt and apt-get (Debian, Ubuntu)."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import facts, is_variable, names_list
from rules.dockerfile._packages import (
    APT,
    has_cache_mount,
    is_local_file,
    package_calls,
    removes_path,
)

_APT_LISTS = "/var/lib/apt/lists"


@rule(
    id="DF-PKG-001",
    artifact_type="dockerfile",
    title="apt packages installed without a pinned version",
    severity="info",
    description=(
        "`apt-get install curl` installs whatever version the mirror has on the day of the "
        "build, so two builds of the same commit can differ and a regression or a vulnerable "
        "version slips in unnoticed. Pinning (`curl=7.88.1-10+deb12u7`) makes the build "
        "repeatable and every upgrade a reviewed change. The cost is maintenance: Debian "
        "drops superseded versions, so pins need a bot to keep them current."
    ),
    remediation=(
        "Pin the versions and let Renovate or Dependabot bump them:\n"
        "`RUN apt-get update && apt-get install -y --no-install-recommends "
        "curl=7.88.1-10+deb12u7 ca-certificates=20230311 && rm -rf /var/lib/apt/lists/*`"
    ),
    references=("https://docs.docker.com/build/building/best-practices/#apt-get",),
)
def apt_unpinned(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, *APT):
        unpinned = [
            pkg
            for call in calls
            if call.installs
            for pkg in call.packages
            if "=" not in pkg and not is_variable(pkg) and not is_local_file(pkg)
        ]
        if unpinned:
            yield Hit(f"apt installs {names_list(unpinned)} without a version", line=ins.line)


@rule(
    id="DF-PKG-002",
    artifact_type="dockerfile",
    title="apt package lists left in the image",
    severity="low",
    description=(
        "`apt-get update` downloads the package indexes to /var/lib/apt/lists (tens of MB). "
        "Unless the same RUN deletes them, they stay in that layer of the final image for "
        "good - deleting them in a later RUN does not shrink the image - and they go stale "
        "immediately."
    ),
    remediation=(
        "Update, install and clean up in one RUN:\n"
        "`RUN apt-get update && apt-get install -y --no-install-recommends curl "
        "&& rm -rf /var/lib/apt/lists/*`\n(or use a cache mount: "
        "`RUN --mount=type=cache,target=/var/lib/apt/lists ...`)."
    ),
    references=("https://docs.docker.com/build/building/best-practices/#apt-get",),
)
def apt_lists_left(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins, calls in package_calls(df, *APT, final_only=True):
        if not any(call.action == "update" for call in calls):
            continue
        if any(call.action in ("dist-clean", "distclean") for call in calls):
            continue
        if removes_path(shared.commands_of(ins), _APT_LISTS) or has_cache_mount(ins, _APT_LISTS):
            continue
        manager = next(call.manager for call in calls if call.action == "update")
        yield Hit(f"{manager} update without removing {_APT_LISTS} in the same RUN", line=ins.line)


@rule(
    id="DF-PKG-003",
    artifact_type="dockerfile",
    title="apt used in a build instead of apt-get",
    severity="low",
    description=(
        "`apt` is the interactive front end: its output and options may change between "
        "releases (it warns that it has no stable command-line interface) and it shows "
        "progress bars meant for a terminal. Scripts and Dockerfiles should use `apt-get` "
        "and `apt-cache`, whose behaviour is kept stable."
    ),
    remediation=(
        "Replace `apt` with `apt-get`: `RUN apt-get update && apt-get install -y "
        "--no-install-recommends git && rm -rf /var/lib/apt/lists/*`"
    ),
    references=(
        "https://manpages.debian.org/bookworm/apt/apt.8.en.html",
        "https://docs.docker.com/build/building/best-practices/#apt-get",
    ),
)
def apt_instead_of_apt_get(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "apt"):
        actions = [call.action for call in calls if call.action]
        if actions:
            yield Hit(f"RUN calls apt {actions[0]}; use apt-get", line=ins.line)


@rule(
    id="DF-PKG-027",
    artifact_type="dockerfile",
    title="Repository key added with apt-key",
    severity="low",
    description=(
        "`apt-key add` puts a vendor's key in the global keyring, where apt trusts it for "
        "every repository: a leaked or compromised third-party key can then sign packages "
        "that replace Debian's own. apt-key is deprecated and is gone from current Debian "
        "and Ubuntu releases, so the build also breaks on newer bases."
    ),
    remediation=(
        "Keep the key in its own file and bind it to its repository:\n"
        "`RUN curl -fsSLo /etc/apt/keyrings/vendor.asc https://example.com/key.asc && echo "
        '"deb [signed-by=/etc/apt/keyrings/vendor.asc] https://example.com/apt stable main" '
        "> /etc/apt/sources.list.d/vendor.list`"
    ),
    references=(
        "https://manpages.debian.org/bookworm/apt/apt-key.8.en.html",
        "https://wiki.debian.org/DebianRepository/UseThirdParty",
    ),
)
def apt_key_used(df: Dockerfile) -> Iterator[Hit]:
    for command in facts(df).named("apt-key"):
        if "--keyring" in command.args:
            continue  # a keyring of its own, which a `signed-by` source can name
        action = next((arg for arg in command.args if not arg.startswith("-")), "")
        if action in ("add", "adv"):
            yield Hit(
                f"apt-key {action} trusts the key for every repository", line=command.ins.line
            )
