"""Rules about the process an image starts."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image
from rules.image._helpers import OCI_CONFIG, shorten, where

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})
_WINDOWS_SHELLS = frozenset({"cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh"})


def shell_script(argv: list[str]) -> str | None:
    """The script when `argv` runs a shell on a command string (`sh -c "..."`), else None."""
    program = posixpath.basename(argv[0].replace("\\", "/")).lower()
    if program in _SHELLS:
        for pos, arg in enumerate(argv[1:], 1):
            if not arg.startswith("-") or arg.startswith("--"):
                return None
            if "c" in arg[1:]:
                return " ".join(argv[pos + 1 :])
        return None
    if program in _WINDOWS_SHELLS and len(argv) > 1:
        flags = {arg.lower() for arg in argv[1:3]}
        if flags & {"/c", "/s", "-command", "-c"}:
            return " ".join(arg for arg in argv[1:] if arg.lower() not in ("/s", "/c", "-command"))
    return None


@rule(
    id="IMG-EXEC-001",
    artifact_type="image",
    title="Image starts its process through a shell",
    severity="low",
    description=(
        "The image's `Entrypoint` (or, without one, its `Cmd`) is a shell running a command "
        "string: what `ENTRYPOINT app --serve` and `CMD app` in shell form build, "
        '`["/bin/sh", "-c", "app --serve"]`. The shell is then PID 1: it does not pass '
        "SIGTERM on, so `docker stop` and rolling deployments wait out their timeout and kill "
        "the application without a graceful shutdown, and arguments given to `docker run` are "
        "ignored. A script that ends in `exec` hands PID 1 over and is not reported."
    ),
    remediation=(
        'Use the exec form, `ENTRYPOINT ["/app/server", "--serve"]`, or end a wrapper '
        'script with `exec "$@"`; where a shell is really needed, start it with an init '
        "(`docker run --init`, or `tini` as the entrypoint)."
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#shell-and-exec-form",
        OCI_CONFIG,
    ),
)
def shell_form(image: Image) -> Iterator[Hit]:
    key = "Entrypoint" if image.argv("Entrypoint") else "Cmd"
    argv = image.argv(key)
    if not argv:
        return
    script = shell_script(argv)
    if script is None:
        return
    if not script and key == "Entrypoint":  # ["/bin/sh", "-c"] with the script in Cmd
        script = " ".join(image.argv("Cmd") or [])
    if script.lstrip().startswith("exec "):
        return
    shown = shorten(f"{' '.join(argv[:2])} {script}", 60)
    yield Hit(f"{key} runs `{shown}`: a shell is PID 1", line=image.line(key))


@rule(
    id="IMG-EXEC-002",
    artifact_type="image",
    title="Image defines neither Entrypoint nor Cmd",
    severity="low",
    description=(
        "The image configuration has no `Entrypoint` and no `Cmd`: `docker run IMAGE` fails "
        'with "no command specified", and every deployment has to know and repeat the '
        "command, which drifts from the image it runs. For a base or data-only image that "
        "is intended, for an application image it is a build that lost its final instruction."
    ),
    remediation=(
        "End the build with the command the image exists to run, in exec form: "
        '`ENTRYPOINT ["/app/server"]` and `CMD ["--port", "8080"]` for its default '
        "arguments."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#entrypoint", OCI_CONFIG),
)
def no_command(image: Image) -> Iterator[Hit]:
    if image.argv("Entrypoint") is None and image.argv("Cmd") is None:
        yield Hit(f"{where(image)} has no Entrypoint and no Cmd", line=image.config_line)


@rule(
    id="IMG-BUILD-001",
    artifact_type="image",
    title="Image carries ONBUILD triggers",
    severity="low",
    description=(
        "The image configuration lists `OnBuild` triggers: instructions that run, unseen, in "
        "the build of every image that starts `FROM` this one. Whoever builds on the image "
        "executes commands its own Dockerfile does not show (a `RUN` that downloads, an `ADD` "
        "of the build context), and the OCI image format drops them, so the same base behaves "
        "differently under BuildKit's OCI exporter."
    ),
    remediation=(
        "Move the steps into the Dockerfiles that build on the image, where they can be "
        "reviewed, and rebuild the base without `ONBUILD` instructions."
    ),
    references=("https://docs.docker.com/reference/dockerfile/#onbuild",),
)
def onbuild_triggers(image: Image) -> Iterator[Hit]:
    triggers = image.config.get("OnBuild")
    if isinstance(triggers, list) and triggers:
        shown = shorten("; ".join(str(trigger) for trigger in triggers), 80)
        count = len(triggers)
        yield Hit(
            f"{count} ONBUILD trigger{'s' * (count > 1)} run in every build on top: {shown}",
            line=image.line("OnBuild"),
        )
