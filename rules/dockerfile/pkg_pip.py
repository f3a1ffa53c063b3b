"""Rules about pip."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile, Instruction
from rules.dockerfile._helpers import (
    Command,
    cis,
    env_before,
    facts,
    is_variable,
    key_values,
    names_list,
)
from rules.dockerfile._packages import (
    PackageCall,
    has_cache_mount,
    is_local_file,
    package_call,
    package_calls,
    removes_path,
)

_PIP_CACHE = ("/root/.cache/pip", "/root/.cache")
_PINNED = re.compile(r"===?|~=|@")
_INDEX_OPTIONS = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links")
_LOCAL_HOSTS = ("localhost", "127.", "[::1]", "host.docker.internal")
_INSECURE_ENV = frozenset({"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"})
_PIP_CONF_TRUSTED = re.compile(r"(?<!-)trusted-host\s*+=")


@rule(
    id="DF-PKG-009",
    artifact_type="dockerfile",
    title="pip install without --no-cache-dir",
    severity="low",
    description=(
        "pip keeps every downloaded wheel under ~/.cache/pip. In an image that cache is "
        "never used again but stays in the layer: often tens to hundreds of MB (more with "
        "compiled packages such as numpy or torch) added to every pull."
    ),
    remediation=(
        "`RUN pip install --no-cache-dir -r requirements.txt` (or `ENV PIP_NO_CACHE_DIR=1` "
        "once, or a build cache mount: `RUN --mount=type=cache,target=/root/.cache/pip "
        "pip install -r requirements.txt`)."
    ),
    references=(
        "https://pip.pypa.io/en/stable/topics/caching/",
        "https://docs.docker.com/build/cache/optimize/#use-cache-mounts",
    ),
)
def pip_cache_kept(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    for ins, calls in package_calls(df, "pip", final_only=True):
        installs = [
            c for c in calls if c.action == "install" and not c.options.has("--no-cache-dir")
        ]
        if not installs:
            continue
        if any(name == "PIP_NO_CACHE_DIR" for c in installs for name, _ in c.command.assignments):
            continue
        commands = shared.commands_of(ins)
        if removes_path(commands, *_PIP_CACHE) or has_cache_mount(ins, *_PIP_CACHE):
            continue
        if any(
            c.name == "export" and any(a.startswith("PIP_NO_CACHE_DIR=") for a in c.args)
            for c in commands
        ):
            continue
        if env_before(df, ins, "PIP_NO_CACHE_DIR") is not None:
            continue
        yield Hit("pip install keeps its download cache in the image", line=ins.line)


def _unpinned(call: PackageCall) -> list[str]:
    if call.action != "install" or call.options.has("-c", "--constraint"):
        return []
    return [
        pkg
        for pkg in call.packages
        if not _PINNED.search(pkg)
        and not is_variable(pkg)
        and not is_local_file(pkg)
        and "/" not in pkg
    ]


@rule(
    id="DF-PKG-010",
    artifact_type="dockerfile",
    title="pip packages installed without a pinned version",
    severity="low",
    description=(
        "`pip install requests` resolves to the newest release on PyPI at build time, with "
        "whatever dependencies it pulls in. A malicious or broken release (typosquatting "
        "and account takeovers do happen) then enters the image without review, and builds "
        "cannot be reproduced."
    ),
    remediation=(
        "Pin exact versions, ideally in a lock file with hashes:\n"
        "`RUN pip install --no-cache-dir --require-hashes -r requirements.txt` or "
        "`RUN pip install --no-cache-dir requests==2.32.3`"
    ),
    references=(
        "https://pip.pypa.io/en/stable/topics/repeatable-installs/",
        "https://pip.pypa.io/en/stable/topics/secure-installs/",
    ),
)
def pip_unpinned(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "pip"):
        unpinned = [pkg for call in calls for pkg in _unpinned(call)]
        if unpinned:
            yield Hit(
                f"pip installs {names_list(unpinned)} without an exact ==version", line=ins.line
            )


def _plain_http(url: str) -> bool:
    url = url.strip().strip("'\"").lower()
    if not url.startswith("http://"):
        return False
    host = url[len("http://") :].split("@")[-1]
    return not host.startswith(_LOCAL_HOSTS)


def _insecure_pip(command: Command, call: PackageCall | None) -> str | None:
    for name, value in command.assignments:
        if name == "PIP_TRUSTED_HOST" and value:
            return "PIP_TRUSTED_HOST"
        if name in _INSECURE_ENV and _plain_http(value):
            return f"{name}=http://..."
    if call is None:
        return None
    opts = call.options
    if opts.has("--trusted-host"):
        return "--trusted-host"
    for option in _INDEX_OPTIONS:
        if any(_plain_http(value) for value in opts.values(option)):
            return f"{option} http://..."
    if call.action == "config" and len(call.packages) >= 2 and call.packages[0] == "set":
        key = call.packages[1].split("=", 1)[0]
        value = (
            call.packages[1].split("=", 1)[1]
            if "=" in call.packages[1]
            else (call.packages[2] if len(call.packages) > 2 else "")
        )
        if key.endswith(".trusted-host"):
            return f"pip config set {key}"
        if key.endswith(("index-url", "find-links")) and _plain_http(value):
            return f"pip config set {key} http://..."
    return None


@rule(
    id="DF-PKG-011",
    controls=("cis-docker-1.6 4.11", "nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="dockerfile",
    title="pip trusts a package index without TLS",
    severity="high",
    description=(
        "`--trusted-host` tells pip to accept a host without a valid HTTPS certificate, and an "
        "`http://` index is not encrypted at all: anyone on the path between the build and "
        "the index can swap a package for their own code, which then runs at install time "
        "and ships in the image."
    ),
    remediation=(
        "Serve the index over HTTPS with a trusted certificate (add a private CA with "
        "`--cert /etc/ssl/certs/corp-ca.pem` or `PIP_CERT`), and drop --trusted-host:\n"
        "`RUN pip install --no-cache-dir --index-url https://pypi.example.com/simple "
        "-r requirements.txt`"
    ),
    references=(
        "https://pip.pypa.io/en/stable/cli/pip_install/#cmdoption-trusted-host",
        "https://pip.pypa.io/en/stable/topics/https-certificates/",
        cis("4.11"),
    ),
)
def pip_insecure_index(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    found: dict[int, tuple[int, str]] = {}  # the first finding of each instruction
    for ins in shared.find("ENV", "ARG"):
        if "PIP_" in ins.value:
            what = _insecure_env(ins)
            if what:
                found[id(ins)] = (ins.line, f"{ins.cmd} {what} makes pip skip TLS")
    blob = shared.run_blob
    candidates = shared.named("pip")
    if "pip_" in blob:
        candidates = sorted((*candidates, *shared.assigning), key=lambda c: c.seq)
    for command in candidates:
        if id(command.ins) in found:
            continue
        call = package_call(command) if command.name == "pip" else None
        what = _insecure_pip(command, call)
        if what:
            found[id(command.ins)] = (command.ins.line, f"RUN makes pip skip TLS ({what})")
    if "trusted-host" in blob:
        for ins in shared.find("RUN"):
            if (
                id(ins) not in found
                and "trusted-host" in ins.value
                and _PIP_CONF_TRUSTED.search(shared.text_of(ins))
            ):
                found[id(ins)] = (ins.line, "RUN makes pip skip TLS (trusted-host in pip.conf)")
    for line, message in sorted(found.values()):
        yield Hit(message, line=line)


def _insecure_env(ins: Instruction) -> str | None:
    for name, value in key_values(ins):
        if name == "PIP_TRUSTED_HOST" and value:
            return name
        if name in _INSECURE_ENV and value and _plain_http(value):
            return f"{name}=http://..."
    return None


_EXTRA_INDEX_ENV = "PIP_EXTRA_INDEX_URL"


def _extra_index(command: Command, call: PackageCall | None) -> str | None:
    """How `command` gives pip a second index, unless hashes pin every download."""
    for name, value in command.assignments:
        if name == _EXTRA_INDEX_ENV and value:
            return _EXTRA_INDEX_ENV
    if command.name == "export" and any(
        arg.startswith(_EXTRA_INDEX_ENV + "=") for arg in command.args
    ):
        return _EXTRA_INDEX_ENV
    if call is None:
        return None
    if call.action == "install" and call.options.has("--extra-index-url"):
        return None if call.options.has("--require-hashes") else "--extra-index-url"
    key = call.packages[1].split("=", 1)[0] if len(call.packages) >= 2 else ""
    if call.action == "config" and call.packages[0] == "set" and key.endswith(".extra-index-url"):
        return f"pip config set {key}"
    return None


@rule(
    id="DF-PKG-028",
    artifact_type="dockerfile",
    title="pip given an extra package index",
    severity="medium",
    description=(
        "With `--extra-index-url` (or `PIP_EXTRA_INDEX_URL`) pip looks a package up in "
        "every index and takes the highest version it finds, wherever it comes from. Anyone "
        "who publishes a package with the name of an internal one on PyPI, at a higher "
        "version, gets their code installed instead (dependency confusion: the PyTorch "
        "nightly `torchtriton` compromise worked this way)."
    ),
    remediation=(
        "Use one index that mirrors PyPI and serves the internal packages (a devpi, "
        "Artifactory or Nexus proxy) with `--index-url`, or make every download checkable "
        "with hashes: `RUN pip install --no-cache-dir --require-hashes -r requirements.txt`."
    ),
    references=(
        "https://pip.pypa.io/en/stable/cli/pip_install/#cmdoption-extra-index-url",
        "https://pytorch.org/blog/compromised-nightly-dependency/",
    ),
)
def pip_extra_index(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not shared.mentions("extra-index", "extra_index") and not any(
        _EXTRA_INDEX_ENV in ins.value for cmd in ("ENV", "ARG") for ins in shared.find(cmd)
    ):
        return
    found: dict[int, tuple[int, str]] = {}
    for ins in shared.find("ENV", "ARG"):
        if any(name == _EXTRA_INDEX_ENV and value for name, value in key_values(ins)):
            found[id(ins)] = (ins.line, f"{ins.cmd} {_EXTRA_INDEX_ENV} adds a second index")
    candidates = sorted((*shared.named("pip", "export"), *shared.assigning), key=lambda c: c.seq)
    for command in candidates:
        if id(command.ins) in found:
            continue
        call = package_call(command) if command.name == "pip" else None
        what = _extra_index(command, call)
        if what:
            message = f"RUN gives pip a second index ({what}): dependency confusion"
            found[id(command.ins)] = (command.ins.line, message)
    for line, message in sorted(found.values()):
        yield Hit(message, line=line)
