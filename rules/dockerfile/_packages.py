"""How package managers are called in RUN: which manager, which action, which packages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import (
    Command,
    Parsed,
    facts,
    is_variable,
    parse_args,
    subcommand,
)

APT = frozenset({"apt-get", "apt"})
RPM = frozenset({"yum", "dnf", "microdnf", "tdnf"})
_APT_VALUE_OPTS = frozenset(
    {"-o", "-c", "-t", "-a", "--option", "--config-file", "--target-release"}
    | {"--default-release", "--host-architecture"}
)
_APK_VALUE_OPTS = frozenset(
    {"-X", "--repository", "-t", "--virtual", "-p", "--root", "--arch", "--repositories-file"}
    | {"--keys-dir", "--cache-dir", "--cache-max-age"}
)
_RPM_VALUE_OPTS = frozenset(
    {"-c", "--config", "--installroot", "--enablerepo", "--disablerepo", "--setopt"}
    | {"--releasever", "-x", "--exclude", "--repo", "--repoid", "--forcearch", "-d", "-e"}
    | {"--debuglevel", "--errorlevel", "--downloaddir", "--destdir"}
)
_PIP_VALUE_OPTS = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url"}
    | {"--extra-index-url", "--trusted-host", "-f", "--find-links", "-t", "--target"}
    | {"--prefix", "--root", "--platform", "--python-version", "--implementation", "--abi"}
    | {"--src", "--upgrade-strategy", "--progress-bar", "--log", "--proxy", "--retries"}
    | {"--timeout", "--exists-action", "--cert", "--client-cert", "--cache-dir"}
    | {"--global-option", "--install-option", "--config-settings", "-C", "--no-binary"}
    | {"--only-binary", "--report", "--python", "--root-user-action", "--use-feature"}
)
_NPM_VALUE_OPTS = frozenset(
    {"--prefix", "--registry", "--cache", "--loglevel", "-w", "--workspace", "--omit"}
    | {"--include", "--tag", "--userconfig", "--globalconfig", "--only", "--location"}
    | {"--network-timeout", "--cache-folder", "--modules-folder", "--mutex", "--cwd"}
    | {"--global-folder", "--link-folder", "--network-concurrency", "--filter", "-F"}
)
_ZYPPER_VALUE_OPTS = frozenset(
    {"-R", "--root", "-D", "--reposd-dir", "-C", "--cache-dir", "-c", "--config", "-t"}
    | {"--type", "-r", "--repo", "--from", "--installroot", "--download"}
)
_GEM_VALUE_OPTS = frozenset(
    {"-v", "--version", "-i", "--install-dir", "-n", "--bindir", "-s", "--source", "-p"}
    | {"--http-proxy", "--platform", "-g", "--file", "--build-root", "--target-rbconfig"}
)
_GO_VALUE_OPTS = frozenset(
    {"-o", "-p", "-tags", "-ldflags", "-gcflags", "-asmflags", "-mod", "-modfile", "-pkgdir"}
    | {"-buildmode", "-compiler", "-gccgoflags", "-installsuffix", "-overlay", "-pgo"}
    | {"-toolexec", "-C"}
)
_CARGO_VALUE_OPTS = frozenset(
    {"--version", "--vers", "--git", "--branch", "--tag", "--rev", "--path", "--root"}
    | {"--index", "--registry", "--features", "-F", "-j", "--jobs", "--target", "--bin"}
    | {"--target-dir", "--profile", "--example", "--config", "-Z", "--color"}
)
_VALUE_OPTS = {
    "apt-get": _APT_VALUE_OPTS,
    "apt": _APT_VALUE_OPTS,
    "apk": _APK_VALUE_OPTS,
    "yum": _RPM_VALUE_OPTS,
    "dnf": _RPM_VALUE_OPTS,
    "microdnf": _RPM_VALUE_OPTS,
    "tdnf": _RPM_VALUE_OPTS,
    "pip": _PIP_VALUE_OPTS,
    "npm": _NPM_VALUE_OPTS,
    "yarn": _NPM_VALUE_OPTS,
    "pnpm": _NPM_VALUE_OPTS,
    "zypper": _ZYPPER_VALUE_OPTS,
    "gem": _GEM_VALUE_OPTS,
    "go": _GO_VALUE_OPTS,
    "cargo": _CARGO_VALUE_OPTS,
}
# short options that take a value inside a group of letters (`-yt bookworm`)
_SHORT_VALUES = {
    "apt-get": "ocat",
    "apt": "ocat",
    "apk": "Xtp",
    "yum": "cxde",
    "dnf": "cxde",
    "microdnf": "",
    "tdnf": "cxde",
    "pip": "rceiftC",
    "npm": "w",
    "yarn": "",
    "pnpm": "wC",
    "zypper": "RDCctr",
    "gem": "vinsp",
    "go": "",
    "cargo": "Fj",
}
# the subcommands that install packages, per manager
INSTALLS = {
    "apt-get": frozenset({"install"}),
    "apt": frozenset({"install"}),
    "apk": frozenset({"add"}),
    "yum": frozenset({"install", "groupinstall", "localinstall", "reinstall"}),
    "dnf": frozenset({"install", "reinstall", "in"}),
    "microdnf": frozenset({"install"}),
    "tdnf": frozenset({"install"}),
    "zypper": frozenset({"install", "in", "source-install", "si"}),
}
_SIMULATE = frozenset({"-s", "--simulate", "--dry-run", "--just-print", "--no-act", "--recon"})


@dataclass(slots=True)
class PackageCall:
    """A package manager invocation: `apt-get -y install curl` -> ("apt-get", "install", ...)."""

    manager: str
    action: str
    options: Parsed
    command: Command

    @property
    def ins(self) -> Instruction:
        return self.command.ins

    @property
    def packages(self) -> list[str]:
        return self.options.positionals

    @property
    def installs(self) -> bool:
        return self.action in INSTALLS.get(self.manager, ()) and not self.simulated

    @property
    def simulated(self) -> bool:
        return bool(_SIMULATE.intersection(self.options.options))


def package_call(command: Command) -> PackageCall | None:
    """The package manager call `command` makes, if it is one (computed once per command)."""
    memo = command.memo
    if memo is not None and "call" in memo:
        return memo["call"]
    call = _package_call(command)
    if memo is None:
        command.memo = {"call": call}
    else:
        memo["call"] = call
    return call


def _package_call(command: Command) -> PackageCall | None:
    value_opts = _VALUE_OPTS.get(command.name)
    if value_opts is None:
        return None
    args = command.args
    shorts = _SHORT_VALUES[command.name]
    action, idx = subcommand(args, value_opts)
    if idx < 0:
        return PackageCall(command.name, "", parse_args(args, value_opts, shorts), command)
    rest = args[:idx] + args[idx + 1 :]
    if command.name == "yarn" and action == "global" and rest:
        # `yarn global add pkg`: the action is `global add`
        sub, sub_idx = subcommand(rest, value_opts)
        if sub_idx >= 0:
            action = f"global {sub}"
            rest = rest[:sub_idx] + rest[sub_idx + 1 :]
    return PackageCall(command.name, action.lower(), parse_args(rest, value_opts, shorts), command)


def package_calls(
    df: Dockerfile, *managers: str, final_only: bool = False
) -> list[tuple[Instruction, list[PackageCall]]]:
    """Each RUN that calls one of `managers`, with those calls (in file order)."""
    shared = facts(df)
    commands = shared.named(*managers)
    if not commands:
        return []
    if final_only:
        chain = shared.final_chain
        commands = [c for c in commands if c.ins.stage in chain]
    groups: list[tuple[Instruction, list[PackageCall]]] = []
    for command in commands:
        call = package_call(command)
        if call is None:
            continue
        if groups and groups[-1][0] is command.ins:
            groups[-1][1].append(call)
        else:
            groups.append((command.ins, [call]))
    return groups


def removes_path(commands: list[Command], *prefixes: str) -> bool:
    """Whether one of `commands` is an `rm` of a path under one of `prefixes`."""
    for command in commands:
        if command.name != "rm":
            continue
        for arg in command.args:
            path = arg.rstrip("/*")
            if path.startswith("~/"):
                path = "/root/" + path[2:]
            if any(path == p.rstrip("/") or path.startswith(p) for p in prefixes):
                return True
    return False


def has_cache_mount(ins: Instruction, *prefixes: str) -> bool:
    """Whether the RUN mounts a build cache on one of the `prefixes` (or a folder above)."""
    from rules.dockerfile._helpers import cache_mount_targets

    for target in cache_mount_targets(ins):
        target = target.rstrip("/")
        if any(p.rstrip("/") == target or p.startswith(target + "/") for p in prefixes):
            return True
        if any(target.startswith(p.rstrip("/") + "/") for p in prefixes):
            return True
    return False


def is_local_file(package: str) -> bool:
    """A package given as a file, folder or URL rather than a name."""
    return (
        package.startswith((".", "/", "~"))
        or "://" in package
        or package.endswith((".deb", ".rpm", ".apk", ".whl", ".tar.gz", ".tgz", ".zip"))
    )


def unpinned_installs(
    df: Dockerfile,
    managers: tuple[str, ...],
    actions: frozenset[str],
    pinned: Callable[[PackageCall, str], bool],
) -> Iterator[tuple[Instruction, list[str]]]:
    """Each RUN whose `actions` of `managers` name packages that `pinned` rejects.

    Variables (`$PKG`) and local files or URLs are never reported: their version is decided
    elsewhere.
    """
    for ins, calls in package_calls(df, *managers):
        names = [
            pkg
            for call in calls
            if call.action in actions and not call.simulated
            for pkg in call.packages
            if not is_variable(pkg) and not is_local_file(pkg) and not pinned(call, pkg)
        ]
        if names:
            yield ins, names
