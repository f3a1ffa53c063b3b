"""`--image NAME`: inspect a local image with the docker CLI and make it an `image` artifact.

The artifact's text is exactly what `docker image inspect NAME` prints; its path is the image's
repository without tag or digest plus `.image.json` (`registry.example.com/shop/api.image.json`),
so that the findings of the next build, tagged anew, are the same findings. Any failure (no
docker on PATH, no daemon, no such image) is a setup error whose message says what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from chalicelib.kinds import ArtifactType
from collectors.files import Artifact

__all__ = ["ImageSetupError", "inspect_image", "artifact_path"]

TIMEOUT_SECONDS = 120
MAX_OUTPUT_BYTES = 16 * 1024 * 1024
# a reference or an image id: registry[:port]/path[:tag][@algo:digest]
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,511}$")


class ImageSetupError(Exception):
    """The image cannot be inspected here; the message says why and what to do."""


def artifact_path(name: str) -> str:
    """`registry:5000/shop/api:1.2@sha256:..` -> `registry:5000/shop/api.image.json`."""
    repository = name.split("@", 1)[0]
    slash, colon = repository.rfind("/"), repository.rfind(":")
    if colon > slash:
        repository = repository[:colon]
    return f"{repository}.image.json"


def inspect_image(name: str) -> Artifact:
    """`docker image inspect NAME` as an artifact; raises `ImageSetupError`."""
    if not _REFERENCE.match(name):
        raise ImageSetupError(
            f"--image {name!r} is not an image reference (registry/name:tag, name@sha256:..., "
            "or an image id)"
        )
    docker = shutil.which(os.environ.get("PIPEGUARD_DOCKER", "docker"))
    if docker is None:
        raise ImageSetupError(
            f"--image {name} needs the docker CLI, and none is on PATH: install Docker (or "
            "set PIPEGUARD_DOCKER to a compatible CLI such as podman), or save the metadata "
            f"where docker runs (`docker image inspect {name} > image.image.json`) and pass "
            "that file"
        )
    try:
        result = subprocess.run(
            [docker, "image", "inspect", "--", name],
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ImageSetupError(
            f"`docker image inspect {name}` did not answer within {TIMEOUT_SECONDS} s: is the "
            "docker daemon responsive?"
        ) from None
    except OSError as exc:
        raise ImageSetupError(f"cannot run {docker}: {exc.strerror or exc}") from None
    stderr = result.stderr.decode("utf-8", "replace").strip()
    if result.returncode != 0:
        reason = stderr.splitlines()[-1] if stderr else f"exit code {result.returncode}"
        hint = (
            "start the docker daemon, or point DOCKER_HOST at one"
            if "daemon" in stderr.lower()
            else f"build or pull it first (`docker pull {name}`)"
        )
        raise ImageSetupError(f"`docker image inspect {name}` failed: {reason}; {hint}")
    if len(result.stdout) > MAX_OUTPUT_BYTES:
        raise ImageSetupError(f"`docker image inspect {name}` printed more than 16 MiB")
    text = result.stdout.decode("utf-8", "replace")
    return Artifact(path=artifact_path(name), type=ArtifactType.IMAGE, text=text)
