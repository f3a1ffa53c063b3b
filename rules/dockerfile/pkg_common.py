"""Rules shared by the operating system package managers (apt, apk, yum/dnf)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import cis, facts
from rules.dockerfile._packages import APT, RPM, PackageCall, package_call, package_calls

_OS_MANAGERS = APT | RPM | {"apk", "zypper"}
_HARMLESS = frozenset({"", "set", "true", "echo", ":"})
_APT_UPGRADES = frozenset({"upgrade", "dist-upgrade", "full-upgrade"})
_RPM_UPGRADES = frozenset(
    {"update", "upgrade", "distro-sync", "update-minimal", "upgrade-minimal", "dsync"}
)
_APT_UNVERIFIED_OPTIONS = (
    "--allow-unauthenticated",
    "--force-yes",
    "--allow-insecure-repositories",
)
_APT_UNVERIFIED_CONFIG = re.compile(
    r"^(?:APT::Get::AllowUnauthenticated|Acquire::AllowInsecureRepositories)=(?:1|true|yes)$",
    re.IGNORECASE,
)
# a RUN text without any of these cannot disable signature checks (cheap pre-check)
_UNVERIFIED_HINTS = (
    "unauthenticated",
    "force-yes",
    "insecure",
    "allow-untrusted",
    "gpgcheck",
    "nosignature",
    "nodigest",
    "trusted=",
    "gpg-check",
)
_ZYPPER_UPGRADES = frozenset({"dist-upgrade", "dup", "update", "up", "patch"})
_RPM_NO_CHECK = frozenset({"--nosignature", "--nodigest"})
_RPM_NOGPG = re.compile(r"(?:^|\.)gpgcheck=(?:0|false|no)$", re.IGNORECASE)
# `deb [trusted=yes] https://...` (a local `file:` repository is fine) or `gpgcheck=0` written
# into a repository file
_TEXT_UNVERIFIED = re.compile(
    r"\[(?:[^\]\nt]++|t(?!rusted=yes))*+trusted=yes[^\]\n]*+\]\s*+(?!file:|copy:)"
    r"|(?<!repo_)(?<!localpkg_)gpgcheck\s*+=\s*+(?:0|false|no)\b",
    re.IGNORECASE,
)


def _index_update(call: PackageCall) -> bool:
    if call.manager in APT or call.manager == "apk":
        return call.action == "update"
    if call.manager == "zypper":
        return call.action in ("refresh", "ref")
    return call.action == "makecache"


@rule(
    id="DF-PKG-015",
    controls=("cis-docker-1.6 4.7",),
    artifact_type="dockerfile",
    title="Package index updated in a RUN of its own",
    severity="low",
    description=(
        "`RUN apt-get update` alone creates a layer that the build cache reuses forever: a "
        "later `RUN apt-get install` then works from an index that may be weeks old, "
        "installing outdated (vulnerable) versions or failing on packages the mirror no "
        "longer has."
    ),
    remediation=(
        "Update and install in the same RUN, so a change to the package list refreshes the "
        "index too:\n`RUN apt-get update && apt-get install -y --no-install-recommends curl "
        "&& rm -rf /var/lib/apt/lists/*`"
    ),
    references=("https://docs.docker.com/build/building/best-practices/#apt-get", cis("4.7")),
)
def index_update_alone(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not shared.mentions("update", "makecache", "ref"):
        return
    for ins, calls in package_calls(df, *_OS_MANAGERS):
        if not any(_index_update(call) for call in calls):
            continue
        updates: list[PackageCall] = []
        alone = True
        for command in shared.commands_of(ins):
            if command.name in _HARMLESS:
                continue
            call = package_call(command) if command.name in _OS_MANAGERS else None
            if call is not None and _index_update(call):
                updates.append(call)
            else:
                alone = False
                break
        if alone and updates:
            call = updates[0]
            yield Hit(f"RUN only runs {call.manager} {call.action}", line=ins.line)


def _upgrade(call: PackageCall) -> bool:
    if call.manager in APT:
        return call.action in _APT_UPGRADES
    if call.manager == "apk":
        return call.action == "upgrade" and not call.packages
    if call.manager == "zypper":
        return call.action in _ZYPPER_UPGRADES and not call.packages
    return call.action in _RPM_UPGRADES and not call.packages


@rule(
    id="DF-PKG-016",
    artifact_type="dockerfile",
    title="Whole system upgraded during the build",
    severity="info",
    description=(
        "`apt-get upgrade`, `apk upgrade`, `yum update` or `zypper dup` without package names "
        "upgrades "
        "everything the base image ships, to whatever is current on build day. The image "
        "then no longer matches its base (two builds of one commit differ), and package "
        "upgrade scripts may expect services or privileges a build does not have. Patches "
        "are better taken by moving to a newer base image tag, so they are visible and tested."
    ),
    remediation=(
        "Rebuild on an updated base image (`FROM debian:12.7-slim` instead of 12.6) and "
        "upgrade only the packages a scanner flags, by name:\n"
        "`RUN apt-get update && apt-get install -y --only-upgrade openssl "
        "&& rm -rf /var/lib/apt/lists/*`"
    ),
    references=(
        "https://docs.docker.com/build/building/best-practices/#apt-get",
        "https://docs.docker.com/build/building/best-practices/#rebuild-your-images-often",
    ),
)
def system_upgrade(df: Dockerfile) -> Iterator[Hit]:
    if not facts(df).mentions("upgrade", "update", "distro-sync", "dsync"):
        return
    for ins, calls in package_calls(df, *_OS_MANAGERS):
        for call in calls:
            if _upgrade(call):
                yield Hit(f"{call.manager} {call.action} upgrades every package", line=ins.line)
                break


def _unverified(call: PackageCall) -> str | None:
    opts = call.options
    if call.manager in APT:
        for option in _APT_UNVERIFIED_OPTIONS:
            if opts.has(option):
                return f"{call.manager} {option}"
        if any(_APT_UNVERIFIED_CONFIG.match(v) for v in opts.values("-o", "--option")):
            return f"{call.manager} -o ...Unauthenticated/Insecure=true"
    elif call.manager == "apk":
        if opts.has("--allow-untrusted"):
            return "apk --allow-untrusted"
    elif call.manager == "zypper":
        if opts.has("--no-gpg-checks", "--allow-unsigned-rpm"):
            return "zypper --no-gpg-checks"
    else:
        if opts.has("--nogpgcheck", "--no-gpgchecks"):
            return f"{call.manager} --nogpgcheck"
        if any(_RPM_NOGPG.search(v) for v in opts.values("--setopt")):
            return f"{call.manager} --setopt=gpgcheck=0"
    return None


@rule(
    id="DF-PKG-017",
    controls=("cis-docker-1.6 4.11", "nist-800-53-r5 SI-7"),
    artifact_type="dockerfile",
    title="Package signature verification disabled",
    severity="high",
    description=(
        "Package managers check each package's signature against the distribution's keys; "
        "that is what makes a mirror or proxy unable to slip in modified packages. "
        "`--allow-unauthenticated`, `[trusted=yes]`, `--allow-untrusted`, `--nogpgcheck`, "
        "`zypper --no-gpg-checks` or `gpgcheck=0` turn the check off, so whatever the "
        "network delivers is installed as root."
    ),
    remediation=(
        "Import the repository's signing key and keep verification on, e.g.\n"
        "`RUN curl -fsSLo /etc/apt/keyrings/vendor.asc https://example.com/key.asc && echo "
        '"deb [signed-by=/etc/apt/keyrings/vendor.asc] https://example.com/apt stable main" '
        "> /etc/apt/sources.list.d/vendor.list`"
    ),
    references=(
        "https://wiki.debian.org/SecureApt",
        "https://dnf.readthedocs.io/en/latest/command_ref.html#options",
        cis("4.11"),
    ),
)
def signature_check_disabled(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not shared.mentions(*_UNVERIFIED_HINTS):
        return
    for ins, commands in shared.runs():
        found = None
        for command in commands:
            if command.name == "rpm" and any(
                arg in ("--nosignature", "--nodigest") for arg in command.args
            ):
                found = "rpm --nosignature"
            elif command.name in _OS_MANAGERS:
                call = package_call(command)
                found = _unverified(call) if call is not None else None
            if found:
                break
        value = ins.value
        if found is None and ("trusted=" in value or "gpgcheck" in value):
            match = _TEXT_UNVERIFIED.search(shared.text_of(ins))
            found = f"`{match.group(0)}` in a repository definition" if match else None
        if found:
            yield Hit(f"RUN installs packages without checking signatures ({found})", line=ins.line)
