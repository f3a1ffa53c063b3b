"""Rules about the user the container runs as, and about privilege escalation."""

from __future__ import annotations

import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import (
    cis,
    effective,
    facts,
    group_by_instruction,
    parse_args,
    shorten,
)
from rules.dockerfile._packages import package_calls

_ROOT_USERS = frozenset({"root", "0", "containeradministrator"})
_SYMBOLIC_SETUID = re.compile(r"^([ugoa]*+)[+=]([rwxXst]*+)$")
_SUDO_PACKAGE = re.compile(r"^sudo(?:[=~<>].*+)?$")
# a sudoers rule that lets its user (or group) run commands without a password
_NOPASSWD_RULE = re.compile(
    r"(?<![\w%$-])(%?+[\w.$-]++)\s++[\w.,-]++\s*+=\s*+(?:\([^)\n]*+\)\s*+)?+"
    r"(?:[A-Z_]++:\s*+)*?NOPASSWD\s*+:\s*+([^\n'\"]*+)"
)


def is_root(user: str) -> bool:
    """`root`, `0`, `root:staff`, `0:0` and Windows' ContainerAdministrator are root."""
    name = user.strip().strip("'\"").split(":", 1)[0]
    return name.lower() in _ROOT_USERS


@rule(
    id="DF-USER-001",
    controls=("cis-docker-1.6 4.1", "nist-800-53-r5 AC-6"),
    artifact_type="dockerfile",
    title="Container runs as root",
    severity="high",
    description=(
        "Without a USER instruction in the final stage (or with USER root), the container's "
        "process runs as root. Any flaw in the application then gives an attacker root inside "
        "the container, which makes escaping to the host and tampering with mounted volumes "
        "much easier. In a multi-stage build only the final stage counts: a USER set in a "
        "builder stage does not carry over."
    ),
    remediation=(
        "Create an unprivileged user and switch to it at the end of the final stage:\n"
        "`RUN useradd --system --uid 10001 app`\n`USER 10001`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#user",
        "https://docs.docker.com/build/building/best-practices/#user",
        cis("4.1"),
    ),
)
def runs_as_root(df: Dockerfile) -> Iterator[Hit]:
    users = effective(df, "USER")
    final = df.final_stage
    if not users:
        if "nonroot" in final.base_image.lower() or "rootless" in final.base_image.lower():
            return  # e.g. gcr.io/distroless/static:nonroot sets an unprivileged user
        yield Hit(
            f"the final stage (FROM {final.base_image}) never sets USER, so it runs as root",
            line=final.line,
        )
        return
    last = users[-1]
    if is_root(last.args):
        yield Hit(f"the final stage switches to USER {last.args.strip()}", line=last.line)


@rule(
    id="DF-USER-002",
    artifact_type="dockerfile",
    title="sudo used in a RUN instruction",
    severity="medium",
    description=(
        "Build steps already run as whatever USER is set; `sudo` in a RUN only works if the "
        "image ships sudo with a password-less rule for that user, which hands root to any "
        "process that later runs as it. When the step runs as root anyway, sudo is dead "
        "weight with a history of privilege-escalation flaws of its own."
    ),
    remediation=(
        "Run the privileged steps before switching user, then drop privileges:\n"
        "`RUN apt-get update && apt-get install -y --no-install-recommends curl`\n"
        "`USER 10001`\n(use `gosu`/`su-exec` in an entrypoint if a step must change user at "
        "run time)."
    ),
    references=(
        "https://docs.docker.com/build/building/best-practices/#user",
        "https://docs.docker.com/reference/dockerfile/#user",
    ),
)
def sudo_in_run(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if not shared.mentions("sudo"):
        return
    for ins, commands in shared.runs():
        if "sudo" not in ins.value:
            continue
        used = [command.name or "a command" for command in commands if command.sudo]
        if used:
            yield Hit(f"RUN calls sudo ({used[0]})", line=ins.line)


@rule(
    id="DF-USER-003",
    controls=("cis-docker-1.6 4.3", "nist-800-53-r5 CM-7", "pci-dss-4.0 2.2.4"),
    artifact_type="dockerfile",
    title="sudo installed in the final image",
    severity="medium",
    description=(
        "An image that ships sudo gives any process running as a sudoer a way back to root, "
        "which undoes the point of running as an unprivileged USER. Containers do not need "
        "sudo: privileged set-up belongs in the build, before USER."
    ),
    remediation=(
        "Do not install sudo; install and configure as root, then switch user:\n"
        "`RUN apt-get update && apt-get install -y --no-install-recommends nginx "
        "&& rm -rf /var/lib/apt/lists/*`\n`USER nginx`"
    ),
    references=("https://docs.docker.com/build/building/best-practices/#user", cis("4.3")),
)
def sudo_installed(df: Dockerfile) -> Iterator[Hit]:
    if not facts(df).mentions("sudo"):
        return
    for ins, calls in package_calls(
        df, "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "tdnf", final_only=True
    ):
        for call in calls:
            if call.installs and any(_SUDO_PACKAGE.match(pkg) for pkg in call.packages):
                yield Hit(f"{call.manager} {call.action} installs sudo", line=ins.line)
                break


def sets_setuid(mode: str) -> bool:
    """Whether a chmod mode adds the setuid or setgid bit (`4755`, `u+s`, `+s`, `g=s`)."""
    if mode.isdecimal():
        return len(mode) >= 4 and mode[-4] in "234567"
    for clause in mode.split(","):
        match = _SYMBOLIC_SETUID.match(clause)
        if match and "s" in match.group(2) and match.group(1) != "o":
            return True
    return False


@rule(
    id="DF-USER-004",
    controls=("cis-docker-1.6 4.8", "nist-800-53-r5 AC-6"),
    artifact_type="dockerfile",
    title="setuid or setgid bit set on a file",
    severity="medium",
    description=(
        "A setuid (or setgid) executable runs with its owner's (or group's) rights whatever "
        "user starts it: in an image, that is usually root. Every such binary is a way for a "
        "compromised unprivileged process to escalate, so images should carry as few as "
        "possible."
    ),
    remediation=(
        "Do not add the bit; give the capability or ownership the program really needs. To "
        "strip the bits a base image ships: `RUN find / -xdev -perm /6000 -type f "
        "-exec chmod a-s {} + || true`"
    ),
    references=("https://docs.docker.com/engine/security/#linux-kernel-capabilities", cis("4.8")),
)
def setuid_bit(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    hits: list[Hit] = []
    for ins in shared.find("COPY", "ADD"):
        mode = ins.flags.get("chmod")
        if mode and sets_setuid(mode):
            hits.append(Hit(f"{ins.cmd} --chmod={mode} sets the setuid/setgid bit", line=ins.line))
    for ins, commands in group_by_instruction(shared.named("chmod")):
        for command in commands:
            mode = next((arg for arg in command.args if not arg.startswith("-")), "")
            if sets_setuid(mode):
                hits.append(Hit(f"chmod {mode} sets the setuid/setgid bit", line=ins.line))
                break
    hits.sort(key=lambda hit: hit.line or 0)
    yield from hits


_SSH_SERVERS = re.compile(r"^(?:openssh-server|openssh-server-pam|dropbear)(?:[=~<>-][0-9].*+)?$")
_APK_SSH_SERVERS = re.compile(r"^openssh(?:[=~<>][0-9].*+)?$")  # Alpine's openssh includes sshd
_OS_MANAGERS = ("apt-get", "apt", "apk", "yum", "dnf", "microdnf", "tdnf", "zypper")


@rule(
    id="DF-USER-005",
    controls=("cis-docker-1.6 4.3", "nist-800-53-r5 CM-7", "pci-dss-4.0 2.2.4"),
    artifact_type="dockerfile",
    title="SSH server installed in the final image",
    severity="medium",
    description=(
        "An SSH daemon in an application image is a second way in, with its own "
        "credentials, host keys and vulnerabilities, that bypasses the platform's access "
        "control and audit (`docker exec`, `kubectl exec`). It usually also means a process "
        "supervisor and a second long-running service in one container."
    ),
    remediation=(
        "Do not install an SSH server; open a shell with `docker exec -it <container> sh` "
        "or `kubectl exec -it pod/app -- sh`, and copy files with `docker cp`."
    ),
    references=(
        "https://docs.docker.com/engine/containers/multi-service_container/",
        cis("4.3"),
    ),
)
def ssh_server_installed(df: Dockerfile) -> Iterator[Hit]:
    if not facts(df).mentions("openssh", "dropbear"):
        return
    for ins, calls in package_calls(df, *_OS_MANAGERS, final_only=True):
        for call in calls:
            server = next(
                (
                    p
                    for p in call.packages
                    if _SSH_SERVERS.match(p)
                    or (call.manager == "apk" and _APK_SSH_SERVERS.match(p))
                ),
                None,
            )
            if call.installs and server:
                yield Hit(f"{call.manager} {call.action} installs {server}", line=ins.line)
                break


_UID_OPTIONS = frozenset({"-u", "--uid"})
_USERADD_VALUES = _UID_OPTIONS | frozenset(
    {"-g", "--gid", "-G", "--groups", "-d", "--home-dir", "-s", "--shell", "-c", "--comment"}
    | {"-k", "--skel", "-e", "--expiredate", "-f", "--inactive", "-K", "--key", "-p"}
    | {"--password", "-b", "--base-dir", "-R", "--root", "-P", "--prefix", "-Z"}
)
_LARGE_UID = 65535


@rule(
    id="DF-USER-006",
    artifact_type="dockerfile",
    title="useradd with a large UID and without -l",
    severity="low",
    description=(
        "useradd records every user in /var/log/lastlog and /var/log/faillog, files indexed "
        "by UID. With a large UID (`-u 1000000`) they become huge sparse files, and image "
        "layers do not keep them sparse: the image grows by gigabytes and the build may run "
        "out of disk."
    ),
    remediation=(
        "Skip the login records with `-l` (`--no-log-init`): `RUN useradd --no-log-init -r "
        "-u 1000000 app`"
    ),
    references=(
        "https://docs.docker.com/build/building/best-practices/#user",
        "https://manpages.debian.org/bookworm/passwd/useradd.8.en.html",
    ),
)
def useradd_large_uid(df: Dockerfile) -> Iterator[Hit]:
    for command in facts(df).named("useradd"):
        if "-u" not in command.text and "--uid" not in command.text:
            continue
        parsed = parse_args(command.args, _USERADD_VALUES, "ugGdscekfKbRPZp")
        if parsed.has("-l", "--no-log-init"):
            continue
        uids = [uid for uid in parsed.values(*_UID_OPTIONS) if uid.isdigit()]
        if uids and int(uids[0]) > _LARGE_UID:
            yield Hit(
                f"useradd -u {uids[0]} without -l fills the lastlog file", line=command.ins.line
            )


def _sudoers_grant(text: str) -> tuple[str, str] | None:
    """(user, commands) of a password-less sudoers rule written by `text`, if any."""
    if "sudoers" not in text and "visudo" not in text:
        return None
    match = _NOPASSWD_RULE.search(text)
    if match is None:
        return None
    commands = match.group(2).split("&&")[0].split(">")[0].strip().rstrip("\\").strip()
    return match.group(1), commands or "ALL"


@rule(
    id="DF-USER-007",
    artifact_type="dockerfile",
    title="Password-less sudo granted in the image",
    severity="medium",
    description=(
        "A sudoers rule with `NOPASSWD` (`app ALL=(ALL) NOPASSWD:ALL`) lets that user become "
        "root, or run the listed commands as root, without any secret. Whoever gets code "
        "running as the container's user (a flaw in the application, a malicious "
        "dependency) is root a moment later: the unprivileged USER protects nothing."
    ),
    remediation=(
        "Do the privileged set-up in the build, before USER, and grant no sudo at all; if a "
        "process really needs one privileged operation, give the binary that capability "
        "(`setcap cap_net_bind_service=+ep /usr/local/bin/app`) or run it in a separate, "
        "privileged init step of the platform."
    ),
    references=(
        "https://www.sudo.ws/docs/man/sudoers.man/#Tag_Spec",
        "https://docs.docker.com/build/building/best-practices/#user",
    ),
)
def passwordless_sudo(df: Dockerfile) -> Iterator[Hit]:
    shared = facts(df)
    if "NOPASSWD" not in shared.run_blob.upper() and not any(
        "NOPASSWD" in ins.value for ins in shared.find("COPY") if ins.heredocs
    ):
        return
    for ins in shared.find("RUN", "COPY"):
        if "NOPASSWD" not in ins.value or not shared.in_final_image(ins):
            continue
        if ins.cmd == "COPY" and not ins.heredocs:
            continue  # a file from the context: its content is not in the Dockerfile
        grant = _sudoers_grant(ins.value)
        if grant:
            user, commands = grant
            yield Hit(
                f"{ins.cmd} lets {user} run {shorten(commands, 40)} as root without a password",
                line=ins.line,
            )
