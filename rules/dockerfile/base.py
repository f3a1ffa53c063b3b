"""Base image rules."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.dockerfile import Dockerfile
from rules.dockerfile._helpers import (
    PREDEFINED_ARGS,
    cis,
    facts,
    global_arg_defaults,
    key_values,
    referenced,
    split_image,
    substitute,
)

__all__ = ["external_images", "split_image"]


def external_images(df: Dockerfile) -> list[tuple[int, str, str | None, str | None]]:
    """(line, image, tag, digest) of each FROM that names a registry image, not a stage."""
    memo = facts(df).memo
    found = memo.get("external_images")
    if found is None:
        found = memo["external_images"] = list(_find_external_images(df))
    return found


def _find_external_images(df: Dockerfile) -> Iterator[tuple[int, str, str | None, str | None]]:
    args = global_arg_defaults(df) if df.global_args else {}
    earlier: set[str] = set()  # a FROM can only name a stage defined before it
    for stage in df.stages:
        image = substitute(stage.base_image, args)
        named_stage = stage.from_stage is not None or image.lower() in earlier
        if stage.alias:
            earlier.add(stage.alias.lower())
        if named_stage or "$" in image or image.lower() == "scratch":
            continue  # an earlier stage, decided at build time, or no image at all
        _, tag, digest = split_image(image)
        yield stage.line, image, tag, digest


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
        cis("4.2"),
    ),
)
def base_image_not_pinned(df: Dockerfile) -> Iterator[Hit]:
    for line, image, tag, digest in external_images(df):
        if digest:
            continue
        if tag is None:
            yield Hit(f"base image {image!r} has no tag, so it means 'latest'", line=line)
        elif tag.lower() == "latest":
            yield Hit(f"base image {image!r} uses the mutable 'latest' tag", line=line)


@rule(
    id="DF-BASE-002",
    artifact_type="dockerfile",
    title="Base image pinned by tag but not by digest",
    severity="info",
    description=(
        "A version tag is a label the publisher can move: `python:3.12-slim` is rebuilt and "
        "re-pushed regularly, so two builds a week apart start from different bytes. Only the "
        "content digest names one exact image, which makes the build reproducible and an "
        "audit of what was shipped possible."
    ),
    remediation=(
        "Keep the readable tag and add the digest it currently points to "
        "(`docker buildx imagetools inspect python:3.12.4-slim` shows it), and let a bot such "
        "as Renovate or Dependabot bump both:\n"
        "`FROM python:3.12.4-slim@sha256:<digest>`"
    ),
    references=(
        "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
        "https://docs.docker.com/reference/dockerfile/#from",
    ),
)
def base_image_without_digest(df: Dockerfile) -> Iterator[Hit]:
    for line, image, tag, digest in external_images(df):
        if digest is None and tag is not None and tag.lower() != "latest":
            yield Hit(f"base image {image!r} is pinned by tag only, not by digest", line=line)


@rule(
    id="DF-BASE-003",
    artifact_type="dockerfile",
    title="Files copied from an unpinned external image",
    severity="medium",
    description=(
        "`COPY --from=<image>` pulls files straight out of another registry image. When that "
        "image has no tag or uses `latest`, the copied binaries change whenever the publisher "
        "pushes, without any change to the Dockerfile: the build is neither reproducible nor "
        "reviewable, exactly as with an unpinned FROM."
    ),
    remediation=(
        "Pin the source image like a base image, by version and preferably by digest:\n"
        "`COPY --from=ghcr.io/astral-sh/uv:0.4.18@sha256:<digest> /uv /usr/local/bin/uv`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#copy---from",
        "https://docs.docker.com/build/building/best-practices/#pin-base-image-versions",
    ),
)
def copy_from_unpinned_image(df: Dockerfile) -> Iterator[Hit]:
    copies = [ins for ins in df.find("COPY") if "from" in ins.flags]
    if not copies:
        return
    args = global_arg_defaults(df)
    aliases = {stage.alias.lower() for stage in df.stages if stage.alias}
    for ins in copies:
        source = substitute(ins.flags["from"].strip("'\""), args)
        if not source or "$" in source or source.isdigit() or source.lower() in aliases:
            continue  # a build stage (by name or index), or decided at build time
        _, tag, digest = split_image(source)
        if digest is None and (tag is None or tag.lower() == "latest"):
            how = "has no tag" if tag is None else "uses the 'latest' tag"
            yield Hit(f"COPY --from={source} copies from an image that {how}", line=ins.line)


@rule(
    id="DF-BASE-004",
    artifact_type="dockerfile",
    title="FROM pinned to a fixed --platform",
    severity="low",
    description=(
        "`FROM --platform=linux/amd64` forces one architecture whatever the build targets: a "
        "multi-platform build then ships amd64 binaries in its arm64 image, and on an arm64 "
        "machine the container runs under emulation, slowly, or not at all. The platform "
        "belongs to the build command, or to `$BUILDPLATFORM` / `$TARGETPLATFORM`."
    ),
    remediation=(
        "Drop the flag and pass the platform to the build (`docker buildx build --platform "
        "linux/amd64,linux/arm64 .`), or use the build's own variables for cross-compiling: "
        "`FROM --platform=$BUILDPLATFORM golang:1.22.5 AS build`."
    ),
    references=(
        "https://docs.docker.com/reference/build-checks/from-platform-flag-const-disallowed/",
        "https://docs.docker.com/build/building/multi-platform/",
    ),
)
def fixed_platform(df: Dockerfile) -> Iterator[Hit]:
    for stage in df.stages:
        platform = (stage.platform or "").strip("'\"")
        if platform and "$" not in platform:
            yield Hit(f"FROM --platform={platform} fixes the architecture", line=stage.line)


@rule(
    id="DF-BASE-005",
    artifact_type="dockerfile",
    title="FROM uses a variable no ARG before it declares",
    severity="low",
    description=(
        "Only ARGs declared before the first FROM (and the builder's own platform "
        "variables) can be used in FROM lines. Any other `$VAR` there expands to nothing: "
        "`FROM node:${NODE_VERSION}` becomes `node:` (an error) and `FROM ${REGISTRY}/app` "
        "pulls `/app`, so the base image is not the one the author had in mind."
    ),
    remediation=(
        "Declare the variable, with a default, above the first FROM:\n`ARG NODE_VERSION=20.16.0`"
        "\n`FROM node:${NODE_VERSION}-bookworm-slim`"
    ),
    references=(
        "https://docs.docker.com/reference/dockerfile/#understand-how-arg-and-from-interact",
        "https://docs.docker.com/reference/build-checks/undefined-arg-in-from/",
    ),
)
def undeclared_arg_in_from(df: Dockerfile) -> Iterator[Hit]:
    declared = {name for ins in df.global_args for name, _ in key_values(ins)}
    for stage in df.stages:
        text = f"{stage.base_image} {stage.platform or ''}"
        if "$" not in text:
            continue
        missing = [
            name
            for name, _ in referenced(text)
            if name not in declared and name not in PREDEFINED_ARGS
        ]
        if missing:
            yield Hit(f"FROM uses ${missing[0]}, which no ARG before it declares", line=stage.line)
