"""Base image rules."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import global_arg_defaults, substitute


def split_image(ref: str) -> tuple[str, str | None, str | None]:
    """`registry:5000/name:tag@sha256:..` -> (name with registry, tag, digest)."""
    name, _, digest = ref.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag or None, digest or None


@rule(
    id="DF-BASE-001",
    artifact_type="dockerfile",
    title="Base image not pinned to a version",
    severity="medium",
    description=(
        "A base image without a tag, or with the `latest` tag, can change under you between two "
        "builds: the same Dockerfile silently produces a different image, with different "
        "packages and vulnerabilities, and a build cannot be reproduced or audited."
    ),
    remediation=(
        "Name an explicit version tag, ideally with its digest:\n"
        "`FROM python:3.12.4-slim-bookworm@sha256:<digest>` instead of `FROM python` or "
        "`FROM python:latest`."
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#from",
        "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
    ),
)
def base_image_not_pinned(df: Dockerfile) -> Iterator[Hit]:
    args = global_arg_defaults(df)
    for stage in df.stages:
        if stage.from_stage is not None:
            continue
        image = substitute(stage.base_image, args)
        if "$" in image or image.lower() == "scratch":
            continue  # decided at build time, or no image at all
        if any(other.alias and other.alias.lower() == image.lower() for other in df.stages):
            continue
        _, tag, digest = split_image(image)
        if digest:
            continue
        if tag is None:
            yield Hit(f"base image {image!r} has no tag, so it means 'latest'", line=stage.line)
        elif tag.lower() == "latest":
            yield Hit(f"base image {image!r} uses the mutable 'latest' tag", line=stage.line)
