"""Rules about RUN commands."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import (
    SHELLS,
    Command,
    cis,
    facts,
    group_by_instruction,
    key_values,
    parse_args,
    shorten,
)
from rules.dockerfile._packages import package_calls

_INTERPRETER = re.compile(r"^(?:python[0-9.]*+|perl|ruby|node|nodejs|php|fish)$")
_SHELL_NAMES = (
    r"(?:/usr/bin/|/bin/|/usr/local/bin/)?+(?:ba|z|k|da|a|fi)?+sh|python[23]?+|perl|ruby|node"
)
_SUBST_TO_SHELL = re.compile(
    rf"(?<![\w/.-])(?:{_SHELL_NAMES})\s++(?:-\w++\s++)*+(?:<\(|[\"']?+\$\()\s*+(?:curl|wget)\b"
)
# the part of _SUBST_TO_SHELL every match contains: a cheap scan that rules most RUNs out
_SUBST_DOWNLOAD = re.compile(r"[<$]\(\s*+(?:curl|wget)\b")
_YES = re.compile(r"^APT::Get::Assume-Yes=(?:1|true)$", re.IGNORECASE)
_NO_RECOMMENDS = re.compile(r"^APT::Install-Recommends=(?:0|false)$", re.IGNORECASE)
_SYMBOLIC = re.compile(r"^([ugoa]*+)([-+=])([rwxXst]*+)$")
# curl's short options that take a value: `-sSLo out` means -s -S -L -o out
_CURL_SHORT_VALUES = "AbcCdDeEFHKmoPQrtTuUwxXyYz"
# wgetrc / yum and dnf repository files written from a RUN
_RC_INSECURE = re.compile(
    r"check_certificate\s*+=\s*+off|sslverify\s*+=\s*+(?:0|false|no)\b", re.IGNORECASE
)
_INSECURE_ENV = {
    "GIT_SSL_NO_VERIFY": None,  # any value disables verification
    "NODE_TLS_REJECT_UNAUTHORIZED": frozenset({"0"}),
    "PYTHONHTTPSVERIFY": frozenset({"0"}),
    "NPM_CONFIG_STRICT_SSL": frozenset({"false", "0"}),
}
_FALSE = frozenset({"false", "0", "no", "off"})
# (tool, text a RUN must contain for that tool to turn verification off)
_TLS_HINTS = (
    ("wget", "no-check-certificate"),
    ("git", "sslverify"),
    ("npm", "strict-ssl"),
    ("yarn", "strict-ssl"),
    ("pnpm", "strict-ssl"),
)


def _runs_interpreter(command: Command) -> bool:
    return command.name in SHELLS or bool(_INTERPRETER.match(command.name))


def _pipe_to_shell(commands: list[Command]) -> str | None:
    for pos, command in enumerate(commands):
        if command.name not in ("curl", "wget") or not command.piped:
            continue
        for later in commands[pos + 1 :]:
            if _runs_interpreter(later):
                return f"{command.text} | {later.text}"
            if not later.piped:
                break
    return None
    return None


@rule(
    id="DF-RUN-001",
    controls=("nist-800-53-r5 SI-7",),
    artifact_type="dockerfile",
    title="Remote script piped into a shell",
    severity="high",
    description=(
        "`curl ... | sh` (or `wget -O- ... | bash`, `bash <(curl ...)`) runs whatever the "
        "server sends, unseen and unverified, as the build user (often root). A compromised "
        "server, DNS or proxy turns the build into a supply-chain attack, and the build is not "
        "reproducible."
    ),
    remediation=(
        "Download the script or package to a file, verify it, then run it:\n"
        "`RUN curl -fsSLo install.sh https://example.com/install.sh "
        '&& echo "<sha256>  install.sh" | sha256sum -c - && sh install.sh`'
    ),
    references=("https://docs.docker.com/build/building/best-practices/#run",),
)
def pipe_to_shell(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not shared.mentions("curl", "wget"):
        return
    for ins, commands in shared.runs():
        value = ins.value
        if "curl" not in value and "wget" not in value:
            continue
        snippet = _pipe_to_shell(commands)
        if snippet is None and ("$(" in value or "<(" in value):
            text = shared.text_of(ins)
            match = _SUBST_TO_SHELL.search(text) if _SUBST_DOWNLOAD.search(text) else None
            snippet = match.group(0) if match else None
        if snippet is not None:
            yield Hit(f"`{shorten(snippet)}` runs a downloaded script unverified", line=ins.line)


@rule(
    id="DF-RUN-002",
    controls=("cis-docker-1.6 4.3", "nist-800-53-r5 CM-7", "pci-dss-4.0 2.2.4"),
    artifact_type="dockerfile",
    title="apt-get install without -y or --no-install-recommends",
    severity="low",
    description=(
        "Without `-y` apt-get waits for a confirmation that never comes in a build. Without "
        "`--no-install-recommends` it also installs recommended packages nobody asked for, "
        "which makes the image bigger and widens its attack surface."
    ),
    remediation=(
        "`RUN apt-get update && apt-get install -y --no-install-recommends curl "
        "&& rm -rf /var/lib/apt/lists/*`"
    ),
    references=("https://docs.docker.com/build/building/best-practices/#apt-get", cis("4.3")),
)
def apt_get_install_flags(df: Dockerfile) -> Iterator[Hit]:
    for ins, calls in package_calls(df, "apt-get"):
        missing: list[str] = []
        for call in calls:
            if not call.installs:
                continue
            opts = call.options
            config = opts.values("-o", "--option")
            yes = (
                "y" in opts.short_flags
                or opts.has("--yes", "--assume-yes")
                or any(_YES.match(value) for value in config)
            )
            if not yes and "-y" not in missing:
                missing.append("-y")
            recommends_off = opts.has("--no-install-recommends") or any(
                _NO_RECOMMENDS.match(value) for value in config
            )
            if not recommends_off and "--no-install-recommends" not in missing:
                missing.append("--no-install-recommends")
        if missing:
            yield Hit(f"apt-get install without {' and '.join(missing)}", line=ins.line)


def _world_writable(mode: str) -> bool:
    if mode.isdigit():
        try:
            bits = int(mode, 8)
        except ValueError:
            return False
        return bool(bits & 0o002) and not bits & 0o1000  # sticky dirs (1777 /tmp) are fine
    for clause in mode.split(","):
        match = _SYMBOLIC.match(clause)
        if match and match.group(2) in "+=" and "w" in match.group(3):
            who = match.group(1)
            if ("o" in who or "a" in who) and "t" not in match.group(3):
                return True
    return False


@rule(
    id="DF-RUN-003",
    artifact_type="dockerfile",
    title="World-writable permissions",
    severity="medium",
    description=(
        "`chmod 777` (or `o+w`) lets every user and process in the container modify those "
        "files: a compromised unprivileged process can then replace binaries or configuration "
        "that more privileged code trusts."
    ),
    remediation=(
        "Give ownership to the user that needs to write and keep others read-only:\n"
        "`COPY --chown=app:app data/ /srv/data/` and `RUN chmod 750 /srv/data`"
    ),
    references=("https://docs.docker.com/reference/dockerfile/#copy---chown---chmod",),
)
def world_writable(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    hits: list[Hit] = []
    for ins in shared.find("COPY", "ADD"):
        mode = ins.flags.get("chmod")
        if mode and _world_writable(mode):
            hits.append(Hit(f"{ins.cmd} --chmod={mode} makes files world-writable", line=ins.line))
    for ins, commands in group_by_instruction(shared.named("chmod")):
        for command in commands:
            mode = next((arg for arg in command.args if not arg.startswith("-")), "")
            if _world_writable(mode):
                hits.append(Hit(f"chmod {mode} makes files world-writable", line=ins.line))
                break
    hits.sort(key=lambda hit: hit.line or 0)
    yield from hits


def _insecure_command(command: Command) -> str | None:
    name, args = command.name, command.args
    if name == "curl":
        if not any(arg == "--insecure" or (arg[:1] == "-" and "k" in arg) for arg in args):
            pass
        elif parse_args(args, short_values=_CURL_SHORT_VALUES).has("--insecure", "-k"):
            return "curl --insecure"
    elif name == "wget":
        if "--no-check-certificate" in args:
            return "wget --no-check-certificate"
    elif name == "git":
        for pos, arg in enumerate(args):
            lower = arg.lower()
            if not lower.startswith("http.sslverify") and ".sslverify" not in lower:
                continue
            _, sep, value = lower.partition("=")
            if not sep and pos + 1 < len(args):
                value = args[pos + 1].lower()
            if value in _FALSE:
                return "git http.sslVerify=false"
    elif name in ("npm", "yarn", "pnpm"):
        for pos, arg in enumerate(args):
            lower = arg.lower().lstrip("-")
            if not lower.startswith("strict-ssl"):
                continue
            _, sep, value = lower.partition("=")
            if not sep:
                value = args[pos + 1].lower() if pos + 1 < len(args) else ""
            if value in _FALSE:
                return f"{name} strict-ssl false"
    for key, value in command.assignments:
        if _insecure_env(key, value):
            return f"{key}={value}"
    if name == "export":
        for arg in args:
            key, sep, value = arg.partition("=")
            if sep and _insecure_env(key, value):
                return f"{key}={value}"
    return None


def _insecure_env(name: str, value: str | None) -> bool:
    key = name.upper()
    if key not in _INSECURE_ENV or value is None:
        return False
    allowed = _INSECURE_ENV[key]
    if allowed is None:
        return value.strip() != ""
    return value.strip().lower() in allowed


@rule(
    id="DF-RUN-004",
    controls=("nist-800-53-r5 SC-8", "pci-dss-4.0 4.2.1"),
    artifact_type="dockerfile",
    title="TLS certificate verification turned off",
    severity="high",
    description=(
        "`curl -k`, `wget --no-check-certificate`, `git -c http.sslVerify=false`, "
        "`npm config set strict-ssl false` or variables such as "
        "`NODE_TLS_REJECT_UNAUTHORIZED=0` accept any certificate: whoever sits between the "
        "build and the server (a proxy, a hijacked DNS, a hostile network) can serve their own "
        "code and it lands in the image."
    ),
    remediation=(
        "Keep verification on and give the tools the CA they need instead:\n"
        "`COPY corp-ca.crt /usr/local/share/ca-certificates/ && update-ca-certificates`, then "
        "`RUN curl -fsSLo tool.tgz https://example.com/tool.tgz`"
    ),
    references=(
        "https://curl.se/docs/sslcerts.html",
        "https://docs.docker.com/build/building/best-practices/#run",
    ),
)
def tls_verification_disabled(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    found: dict[int, tuple[int, str]] = {}  # the first finding of each instruction
    for ins in shared.find("ENV", "ARG"):
        upper = ins.value.upper()
        if not any(name in upper for name in _INSECURE_ENV):
            continue
        for name, value in key_values(ins):
            if _insecure_env(name, value):
                found[id(ins)] = (ins.line, f"{ins.cmd} {name}={value} turns TLS verification off")
                break
    blob = shared.run_blob
    tools = ["curl"]  # `-k` hides in groups of short options: always look at curl
    tools += [tool for tool, hint in _TLS_HINTS if hint in blob]
    candidates = shared.named(*tools)
    if any(name.lower() in blob for name in _INSECURE_ENV):
        candidates = [*candidates, *shared.assigning]
    for command in candidates:
        if id(command.ins) in found:
            continue
        what = _insecure_command(command)
        if what:
            message = f"RUN turns TLS certificate verification off ({what})"
            found[id(command.ins)] = (command.ins.line, message)
    if "check_certificate" in blob or "sslverify" in blob:
        for ins in shared.find("RUN"):
            lower = shared.lower_value(ins)
            if id(ins) in found or ("check_certificate" not in lower and "sslverify" not in lower):
                continue
            match = _RC_INSECURE.search(shared.text_of(ins))
            if match:
                what = f"`{shorten(match.group(0), 40)}` in a configuration file"
                found[id(ins)] = (ins.line, f"RUN turns TLS certificate verification off ({what})")
    for line, message in sorted(found.values()):
        yield Hit(message, line=line)


_INTERACTIVE = frozenset({"vi", "vim", "nano", "emacs", "shutdown", "reboot", "halt", "poweroff"})
_INSPECTORS = frozenset({"ps", "free", "top", "ifconfig", "uptime", "who", "w", "htop"})
_HARMLESS = frozenset({"", "set", "true", ":", "echo"})
_STARTERS = frozenset({"start", "restart"})
_CANDIDATES = tuple(_INTERACTIVE | _INSPECTORS | {"top", "service", "systemctl"})


def _pointless(commands: list[Command]) -> str | None:
    """Why a RUN's commands cannot do anything useful in a build, if they cannot."""
    for command in commands:
        if command.name in _INTERACTIVE:
            return f"{command.name} needs a terminal or an init system the build does not have"
        if command.name == "top" and "-b" not in command.args:
            return "top without -b needs a terminal"
    real = [command for command in commands if command.name not in _HARMLESS]
    if real and all(command.name in _INSPECTORS for command in real):
        return f"{real[0].name} only shows the state of the throw-away build container"
    last = real[-1] if real else None
    if last is not None and _starts_service(last):
        return f"`{shorten(last.text, 40)}` starts a daemon that stops when the RUN ends"
    return None


def _starts_service(command: Command) -> bool:
    args = command.args
    if command.name == "service":
        return len(args) >= 2 and args[1] in _STARTERS
    if command.name == "systemctl":
        return bool(args) and args[0] in _STARTERS
    return command.name.startswith("/etc/init.d/") or (
        "/etc/init.d/" in command.text and bool(args) and args[-1] in _STARTERS
    )


@rule(
    id="DF-RUN-006",
    artifact_type="dockerfile",
    title="RUN command that does nothing in a build",
    severity="low",
    description=(
        "Each RUN executes in a throw-away container with no terminal and no init system, "
        "and only its file changes are kept. Editors (`vim`), `top`, `shutdown` wait for a "
        "terminal or an init that is not there; `ps` or `free` alone only describe the "
        "build container; and `service nginx start` as the last step starts a daemon that "
        "is gone when the step ends, so the image does not run it."
    ),
    remediation=(
        "Remove debugging leftovers, and start services from the container's main process: "
        '`CMD ["nginx", "-g", "daemon off;"]` instead of `RUN service nginx start`.'
    ),
    references=(
        "https://docs.docker.com/build/building/best-practices/#run",
        "https://docs.docker.com/engine/containers/multi-service_container/",
    ),
)
def pointless_run(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    candidates = {id(c.ins): c.ins for c in shared.named(*_CANDIDATES)}
    if shared.mentions("init.d"):
        candidates.update((id(ins), ins) for ins in shared.find("RUN") if "init.d" in ins.value)
    for ins in sorted(candidates.values(), key=lambda ins: ins.line):
        reason = _pointless(shared.commands_of(ins))
        if reason:
            yield Hit(f"RUN: {reason}", line=ins.line)


_ENTITLEMENTS = {"security": "insecure", "network": "host"}


@rule(
    id="DF-RUN-008",
    controls=("nist-800-53-r5 AC-6",),
    artifact_type="dockerfile",
    title="RUN asks for builder privileges",
    severity="medium",
    description=(
        "`RUN --security=insecure` runs the step without the build sandbox, as a privileged "
        "container with the builder host's devices and kernel interfaces; "
        "`RUN --network=host` gives it the host's network, including services bound to "
        "localhost and the cloud metadata endpoint of the CI runner. Whatever that step "
        "downloads or runs can reach far beyond the image."
    ),
    remediation=(
        "Drop the flag and do the work inside the sandbox (a cache or secret mount usually "
        "removes the need): `RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`."
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#run---security",
        "https://docs.docker.com/reference/dockerfile/#run---network",
    ),
)
def run_entitlements(df: Dockerfile) -> Iterator[Hit]:
    for ins in facts(df).find("RUN"):
        for flag, value in _ENTITLEMENTS.items():
            if ins.flags.get(flag, "").strip("'\"").lower() == value:
                yield Hit(f"RUN --{flag}={value} leaves the build sandbox", line=ins.line)
                break
