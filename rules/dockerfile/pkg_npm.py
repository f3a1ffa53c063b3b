"""Rules about npm (and yarn/pnpm where they share the problem)."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import env_before, facts, is_variable, key_values, names_list
from rules.dockerfile._packages import PackageCall, has_cache_mount, package_calls, removes_path

_NPM_INSTALL = frozenset({"install", "i", "isntall", "add", "in", "ins", "inst", "insta"})
_TRUE = frozenset({"", "true", "1", "yes"})


def _global(call: PackageCall) -> bool:
    opts = call.options
    return opts.has("-g", "--global") or "global" in opts.values("--location")


def _version_pinned(spec: str) -> bool:
    body = spec[1:] if spec.startswith("@") else spec
    _, sep, version = body.partition("@")
    if not sep or not version:
        return False
    return (
        version[0].isdigit()
        or version[0] in "=^~"
        or (version[0] == "v" and version[1:2].isdigit())
    )


def _is_named_package(spec: str) -> bool:
    if is_variable(spec) or ":" in spec or spec.endswith((".tgz", ".tar.gz")):
        return False
    if spec.startswith(("-", ".", "/", "~")):
        return False
    return spec.startswith("@") or "/" not in spec


@rule(
    id="DF-PKG-012",
    artifact_type="dockerfile",
    title="npm install used instead of npm ci",
    severity="low",
    description=(
        "`npm install` resolves the dependency ranges of package.json again and may install "
        "newer versions than the lock file records (and rewrite it). `npm ci` installs "
        "exactly what package-lock.json says, fails when the two disagree, and starts from a "
        "clean node_modules: the image gets the dependencies that were reviewed and tested."
    ),
    remediation=(
        "Copy the lock file and use npm ci:\n"
        "`COPY package.json package-lock.json ./`\n`RUN npm ci --omit=dev`"
    ),
    references=("https://docs.npmjs.com/cli/commands/npm-ci",),
)
def npm_install_not_ci(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "npm"):
        for call in calls:
            if call.action in _NPM_INSTALL and not call.packages and not _global(call):
                yield Hit(
                    f"npm {call.action} installs without the lock file's guarantee", line=ins.line
                )
                break


@rule(
    id="DF-PKG-013",
    artifact_type="dockerfile",
    title="Global npm package installed without a version",
    severity="low",
    description=(
        "`npm install -g some-cli` (or `yarn global add`) fetches the newest release, and its "
        "install scripts run as the build user - usually root. A compromised or broken "
        "release lands in the image without review, and the build cannot be reproduced."
    ),
    remediation=(
        "Name the exact version: `RUN npm install -g typescript@5.6.2` (or install tools as "
        "project devDependencies pinned by the lock file and run them with `npx`)."
    ),
    references=(
        "https://docs.npmjs.com/cli/commands/npm-install",
        "https://docs.npmjs.com/cli/using-npm/scripts#npm-install",
    ),
)
def npm_global_unpinned(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "npm", "yarn", "pnpm"):
        unpinned = [
            pkg
            for call in calls
            if (call.action in _NPM_INSTALL and _global(call)) or call.action == "global add"
            for pkg in call.packages
            if _is_named_package(pkg) and not _version_pinned(pkg)
        ]
        if unpinned:
            yield Hit(f"global install of {names_list(unpinned)} without a version", line=ins.line)


def _unsafe_perm(name: str, value: str | None) -> bool:
    return name.lower() == "npm_config_unsafe_perm" and (value or "").lower() in _TRUE - {""}


@rule(
    id="DF-PKG-014",
    controls=("nist-800-53-r5 AC-6",),
    artifact_type="dockerfile",
    title="npm scripts allowed to run as root with --unsafe-perm",
    severity="medium",
    description=(
        "When npm 6 and older run as root they drop to an unprivileged user for package "
        "install scripts; `--unsafe-perm` (or `unsafe-perm=true`) turns that protection off, "
        "so every dependency's postinstall runs as root. The flag is usually a sign that the "
        "whole install runs as root; npm 7 and later run scripts as the owner of the project "
        "folder, so a root-owned install runs them as root with or without the flag."
    ),
    remediation=(
        "Install as an unprivileged user instead of lifting the guard:\n"
        "`USER node`\n`WORKDIR /home/node/app`\n`COPY --chown=node:node package*.json ./`\n"
        "`RUN npm ci --omit=dev`"
    ),
    references=(
        "https://docs.npmjs.com/cli/v6/using-npm/config#unsafe-perm",
        "https://docs.npmjs.com/cli/using-npm/scripts#user",
    ),
)
def npm_unsafe_perm(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins in df.find("RUN", "ENV", "ARG"):
        if "unsafe" not in ins.value.lower():
            continue
        if ins.cmd != "RUN":
            if any(_unsafe_perm(name, value) for name, value in key_values(ins)):
                yield Hit(f"{ins.cmd} sets npm_config_unsafe_perm", line=ins.line)
            continue
        for command in shared.commands_of(ins):
            args = command.args
            flagged = any(_unsafe_perm(name, value) for name, value in command.assignments)
            if command.name in ("npm", "yarn", "pnpm"):
                flagged = flagged or any(
                    arg.partition("=")[0] == "--unsafe-perm"
                    and arg.partition("=")[2].lower() in _TRUE
                    for arg in args
                )
                if args[:2] == ["config", "set"] and len(args) >= 3:
                    key, _, value = args[2].partition("=")
                    value = value or (args[3] if len(args) > 3 else "")
                    flagged = flagged or (key == "unsafe-perm" and value.lower() in _TRUE - {""})
            if flagged:
                yield Hit("RUN lets npm package scripts run as root (unsafe-perm)", line=ins.line)
                break


@rule(
    id="DF-PKG-021",
    artifact_type="dockerfile",
    title="npm package added by name without a version",
    severity="low",
    description=(
        "`npm install sax` (or `yarn add`, `pnpm add`) in a Dockerfile adds a dependency that "
        "no package.json or lock file of the project records, at whatever version the "
        "registry serves that day, with its install scripts running during the build. The "
        "image then differs from what was tested, and a compromised release goes in "
        "unreviewed."
    ),
    remediation=(
        "Declare the dependency in package.json, commit the lock file and install with "
        "`RUN npm ci`; if it must be named here, pin it exactly: `RUN npm install sax@1.4.1`."
    ),
    references=(
        "https://docs.npmjs.com/cli/commands/npm-install",
        "https://docs.npmjs.com/cli/configuring-npm/package-lock-json",
    ),
)
def npm_local_unpinned(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "npm", "yarn", "pnpm"):
        unpinned = [
            pkg
            for call in calls
            if call.action in _NPM_INSTALL and not _global(call)
            for pkg in call.packages
            if _is_named_package(pkg) and not _version_pinned(pkg)
        ]
        if unpinned:
            yield Hit(f"{names_list(unpinned)} added without a version", line=ins.line)


_YARN_CACHES = ("/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/root/.yarn/berry/cache")
_YARN_INSTALLS = frozenset({"", "install", "add", "global add"})


def _yarn_installs(call: PackageCall) -> bool:
    if call.action == "":  # a bare `yarn` installs, `yarn --version` does not
        return not call.options.has("--version", "-v", "--help", "-h")
    return call.action in _YARN_INSTALLS


@rule(
    id="DF-PKG-022",
    artifact_type="dockerfile",
    title="yarn cache left in the image",
    severity="low",
    description=(
        "yarn keeps a copy of every package it downloads in its global cache "
        "(/usr/local/share/.cache/yarn for root). In an image that cache is never read again "
        "but stays in the layer, often doubling the size of node_modules in every pull."
    ),
    remediation=(
        "Clean the cache in the same RUN: `RUN yarn install --frozen-lockfile && yarn cache "
        "clean`, or keep it out of the image with a cache mount: `RUN "
        "--mount=type=cache,target=/usr/local/share/.cache/yarn yarn install --frozen-lockfile`."
    ),
    references=(
        "https://classic.yarnpkg.com/en/docs/cli/cache",
        "https://docs.docker.com/build/cache/optimize/#use-cache-mounts",
    ),
)
def yarn_cache_left(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins, calls in package_calls(df, "yarn", final_only=True):
        if not any(_yarn_installs(call) for call in calls):
            continue
        if any(call.action == "cache" and call.packages[:1] == ["clean"] for call in calls):
            continue
        if any(call.options.has("--cache-folder") for call in calls):
            continue  # a cache folder of its own choosing, usually removed or mounted
        commands = shared.commands_of(ins)
        if removes_path(commands, *_YARN_CACHES) or has_cache_mount(ins, *_YARN_CACHES):
            continue
        if any(c.name == "rm" and any("yarn cache dir" in a for a in c.args) for c in commands):
            continue  # rm -rf "$(yarn cache dir)"
        if env_before(df, ins, "YARN_CACHE_FOLDER") is not None:
            continue
        yield Hit("yarn install without `yarn cache clean` in the same RUN", line=ins.line)
