"""Rules about language package managers that install tools: gem, go, cargo."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import facts, names_list
from rules.dockerfile._packages import PackageCall, package_calls, unpinned_installs

_GO_VERSION = re.compile(r"^v[0-9]|^[0-9a-f]{7,40}$")
_INSTALL = frozenset({"install", "i"})


def _gem_pinned(call: PackageCall, gem: str) -> bool:
    if gem.endswith(".gem") or call.options.has("-g", "--file"):
        return True  # a local gem file, or the versions of a Gemfile
    _, sep, version = gem.partition(":")
    if sep and version:
        return True
    # gem refuses --version with several gems: only `name:version` pins each of them
    return call.options.has("-v", "--version") and len(call.packages) == 1


@rule(
    id="DF-PKG-018",
    artifact_type="dockerfile",
    title="gem installed without a version",
    severity="low",
    description=(
        "`gem install bundler` installs the newest release on rubygems.org at build time, and "
        "its native extensions compile and run as the build user. Two builds of the same "
        "commit then ship different code, and a compromised or broken release enters the "
        "image without anyone reviewing the change."
    ),
    remediation=(
        "Name the version: `RUN gem install bundler:2.5.16` (or `gem install bundler -v "
        "2.5.16`), and install application gems from a Gemfile.lock with `bundle install`."
    ),
    references=(
        "https://guides.rubygems.org/command-reference/#gem-install",
        "https://bundler.io/guides/rationale.html#checking-your-code-into-version-control",
    ),
)
def gem_unpinned(df: Dockerfile) -> Iterator[Hit]:
    for ins, gems in unpinned_installs(df, ("gem",), _INSTALL, _gem_pinned):
        yield Hit(f"gem installs {names_list(gems)} without a version", line=ins.line)


def _go_remote(path: str) -> bool:
    """A module path on a server (`golang.org/x/tools/...`), not a local or standard package."""
    first = path.split("/", 1)[0]
    return "." in first and not path.startswith((".", "/"))


def _go_unpinned(call: PackageCall) -> list[str]:
    found = []
    for path in call.packages:
        if not _go_remote(path):
            continue
        _, sep, version = path.partition("@")
        if sep and _GO_VERSION.match(version):
            continue
        if not sep and call.action == "install":
            continue  # the version go.mod requires (outside a module go refuses it)
        found.append(path)
    return found


@rule(
    id="DF-PKG-019",
    artifact_type="dockerfile",
    title="go install or go get without a version",
    severity="low",
    description=(
        "`go install example.com/tool@latest` (or `@master`, or `go get` of a module without "
        "a version) builds whatever the module's newest commit or release is on build day. "
        "The tool in the image then changes without a change to the Dockerfile, and a "
        "hijacked module or a breaking release goes straight in."
    ),
    remediation=(
        "Pin a release or commit: `RUN go install golang.org/x/tools/gopls@v0.16.1` "
        "(Go checks the module against the checksum database, so a pinned version cannot "
        "silently change)."
    ),
    references=(
        "https://go.dev/ref/mod#go-install",
        "https://go.dev/ref/mod#version-queries",
    ),
)
def go_unpinned(df: Dockerfile) -> Iterator[Hit]:
    groups = package_calls(df, "go")
    if not groups:
        return
    # `go get example.com/x` then `git checkout v1.2` in its folder pins it after all
    checkouts = [
        git
        for git in facts(df).named("git")
        if git.args and git.args[0] in ("checkout", "reset", "switch")
    ]
    for ins, calls in groups:
        paths = [
            path
            for call in calls
            if call.action in ("install", "get")
            and not any(
                git.ins.stage == ins.stage and git.seq > call.command.seq for git in checkouts
            )
            for path in _go_unpinned(call)
        ]
        if paths:
            yield Hit(f"go fetches {names_list(paths)} without a fixed version", line=ins.line)


def _cargo_problem(call: PackageCall) -> str | None:
    opts = call.options
    if opts.has("--path"):
        return None  # a local crate, with its own lock file
    if opts.has("--git"):
        if opts.has("--rev", "--tag"):
            return None if opts.has("--locked") else "without --locked"
        return "from a git branch without --rev or --tag"
    crates = call.packages
    if not crates:
        return None
    unpinned = [c for c in crates if "@" not in c and not opts.has("--version", "--vers")]
    if unpinned:
        return f"{names_list(unpinned)} without a version"
    return None if opts.has("--locked") else "without --locked"


@rule(
    id="DF-PKG-020",
    artifact_type="dockerfile",
    title="cargo install without a version or --locked",
    severity="low",
    description=(
        "`cargo install ripgrep` builds the newest release on crates.io, and even with a "
        "version it ignores the crate's Cargo.lock unless `--locked` is given: every "
        "dependency is resolved anew to its newest compatible release. The binary in the "
        "image then changes from build to build, and a malicious dependency release is "
        "compiled in unnoticed."
    ),
    remediation=(
        "Pin the crate and use its lock file: `RUN cargo install --locked ripgrep@14.1.0` "
        "(for a git source: `--git URL --rev <commit> --locked`)."
    ),
    references=(
        "https://doc.rust-lang.org/cargo/commands/cargo-install.html",
        "https://doc.rust-lang.org/cargo/commands/cargo-install.html#dealing-with-the-lockfile",
    ),
)
def cargo_unpinned(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "cargo"):
        for call in calls:
            if call.action != "install":
                continue
            problem = _cargo_problem(call)
            if problem:
                yield Hit(f"cargo install {problem}", line=ins.line)
                break
