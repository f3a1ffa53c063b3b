"""Rules about the size of an image."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image
from rules.image._helpers import DOCKER_INSPECT, number_param, where

_MB = 1024 * 1024


@rule(
    id="IMG-SIZE-001",
    artifact_type="image",
    title="Image larger than the allowed size",
    severity="low",
    description=(
        "The image is larger than `max_size_mb` MiB (`Size` of `docker image inspect`; for an "
        "archive, the sum of its layers as stored). Large images usually carry compilers, "
        "package caches and tools the application never uses: more packages to patch and to "
        "be exploited, slower pulls and scale-outs, and higher registry costs."
    ),
    remediation=(
        "Build in stages and copy only the result into a small runtime base: "
        "`FROM golang:1.22 AS build` ... `FROM gcr.io/distroless/static` and "
        "`COPY --from=build /out/app /app`; clean package caches in the step that fills them "
        "(`apt-get install ... && rm -rf /var/lib/apt/lists/*`)."
    ),
    references=(
        "https://docs.docker.com/build/building/multi-stage/",
        DOCKER_INSPECT,
    ),
    params={"max_size_mb": 1024},
)
def large_image(image: Image, params: Mapping[str, Any]) -> Iterator[Hit]:
    limit = number_param(params, "max_size_mb", 1024)
    if image.size is None:
        return
    size_mb = image.size / _MB
    if size_mb > limit:
        yield Hit(
            f"{where(image)} is {size_mb:,.0f} MiB, over the limit of {limit:g} MiB",
            line=image.size_line,
        )
