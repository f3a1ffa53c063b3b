"""Rules about the volumes an image declares."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image
from rules.dockerfile._helpers import cis, facts
from rules.image._helpers import history_of, shorten

_VOLUME = "https://docs.docker.com/reference/dockerfile/#volume"
SYSTEM_PATHS = frozenset(
    {"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root", "/run"}
    | {"/sbin", "/sys", "/usr", "/usr/bin", "/usr/lib", "/usr/local", "/var/lib/docker"}
    | {"/var/run"}
)
_SOCKETS = ("docker.sock", "containerd.sock", "crio.sock", "podman.sock", "buildkitd.sock")
_NUMERIC = re.compile(r"^[0-7]{1,4}$")
_SYMBOLIC = re.compile(r"^([ugoa]*)([-+=])([rwxXst]*)$")


def _normal(path: str) -> str:
    path = path.strip()
    return posixpath.normpath(path) if path.startswith("/") else path


def world_writable(mode: str) -> bool:
    """`777`, `o+w`, `a+rwx` give everyone write access; the sticky bit (`1777`, `+t`) is the
    shared-temp-folder convention and does not count."""
    if _NUMERIC.match(mode):
        bits = int(mode, 8)
        return bool(bits & 0o002) and not bits & 0o1000
    clauses = [_SYMBOLIC.match(clause) for clause in mode.split(",")]
    if not clauses or any(match is None for match in clauses):
        return False
    if any("t" in match.group(3) for match in clauses if match):
        return False
    return any(
        match.group(2) in "+=" and "w" in match.group(3) and re.search("[oa]", match.group(1))
        for match in clauses
        if match
    )


@rule(
    id="IMG-VOL-001",
    artifact_type="image",
    title="Image declares a volume over a system path or engine socket",
    severity="medium",
    description=(
        "A `VOLUME` on a system directory (`/`, `/etc`, `/usr`, `/root`, `/var/lib/docker` "
        "...) copies the image's files there into a volume on first start and keeps that "
        "copy: a rebuilt image with security fixes never replaces them, and whatever the "
        "container writes there outlives it. A volume at a container engine's socket "
        "(`/var/run/docker.sock`) tells operators to mount the engine into the container, "
        "which gives it control of the host."
    ),
    remediation=(
        "Declare volumes only for the application's data (`VOLUME /var/lib/app`); drop "
        "socket volumes and talk to the engine through an authenticated API or a "
        "purpose-built proxy with the few calls needed."
    ),
    references=(_VOLUME, cis("5.31")),
)
def system_volume(image: Image) -> Iterator[Hit]:
    for path, line in image.volumes:
        normal = _normal(path)
        if normal.endswith(_SOCKETS):
            yield Hit(
                f"volume {path} is a container engine socket: mounting it gives the host away",
                line=line,
                resource=path,
            )
        elif normal in SYSTEM_PATHS:
            yield Hit(f"volume {path} is a system directory", line=line, resource=path)


@rule(
    id="IMG-VOL-002",
    artifact_type="image",
    title="Image declares a world-writable volume",
    severity="medium",
    description=(
        "The build history makes a declared volume writable by every user (`chmod 777 "
        "/data`, `chmod -R o+w /srv`, `mkdir -m 777`). The volume's mode is copied into each "
        "new volume, so any process in the container, and any other container that mounts "
        "the volume, can replace the files the application reads and trusts."
    ),
    remediation=(
        "Give the volume to the user that writes it and keep others out: "
        "`RUN install -d -o 10001 -g 10001 -m 750 /data` before `VOLUME /data`."
    ),
    references=(_VOLUME, "https://docs.docker.com/reference/dockerfile/#copy---chown---chmod"),
)
def world_writable_volume(image: Image) -> Iterator[Hit]:
    volumes = [(path, _normal(path), line) for path, line in image.volumes]
    history = history_of(image) if volumes else None
    if history is None:
        return
    shared = facts(history.dockerfile)
    reported: set[str] = set()
    for command in shared.named("chmod", "mkdir", "install"):
        targets = _world_writable_targets(command.name, command.args)
        if not targets:
            continue
        step = history.step_at(command.ins.line)
        for path, normal, line in volumes:
            if path in reported or step is None:
                continue
            if any(_covers(target, recursive, normal) for target, recursive in targets):
                reported.add(path)
                yield Hit(
                    f"volume {path} is made world-writable by history entry {step.index + 1} "
                    f"(`{shorten(command.text, 60)}`)",
                    line=line,
                    resource=path,
                )


def _world_writable_targets(name: str, args: list[str]) -> list[tuple[str, bool]]:
    """The paths a chmod/mkdir -m/install -m makes world-writable, each with whether the mode
    applies below it too (`chmod -R`)."""
    if name == "chmod":
        recursive = any(arg in ("-R", "--recursive") for arg in args)
        operands = [arg for arg in args if not arg.startswith("-") or _NUMERIC.match(arg[1:])]
        if len(operands) < 2 or not world_writable(operands[0]):
            return []
        return [(_normal(path), recursive) for path in operands[1:]]
    mode, paths, pos = None, [], 0
    while pos < len(args):
        arg = args[pos]
        if arg in ("-m", "--mode") and pos + 1 < len(args):
            mode, pos = args[pos + 1], pos + 2
            continue
        if arg.startswith("--mode="):
            mode = arg.split("=", 1)[1]
        elif not arg.startswith("-"):
            paths.append(arg)
        pos += 1
    if mode is None or not world_writable(mode):
        return []
    return [(_normal(path), False) for path in paths]


def _covers(target: str, recursive: bool, volume: str) -> bool:
    if target == volume:
        return True
    return recursive and volume.startswith(target.rstrip("/") + "/")
