"""Rules about the labels that say where an image comes from."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.engine.registry import Hit, rule
from chalicelib.parsers.image import Image
from rules.image._helpers import OCI_ANNOTATIONS, strings_param, where

REQUIRED_LABELS = (
    "org.opencontainers.image.source",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.licenses",
)


@rule(
    id="IMG-LABEL-001",
    artifact_type="image",
    title="Image lacks the OCI provenance labels",
    severity="low",
    description=(
        "The image does not carry the OCI labels that tie it to its origin: "
        "`org.opencontainers.image.source` (the repository), `.revision` (the commit) and "
        "`.licenses` (an SPDX expression). Without them nobody can tell from a running "
        "container which code it runs, which commit to patch or under which license it "
        "ships; registries and scanners (GitHub, Renovate, Trivy) read these labels to link "
        "images to code. The list is the `required_labels` parameter."
    ),
    remediation=(
        "Set the labels at build time:\n"
        "`docker build --label org.opencontainers.image.source=https://github.com/acme/app "
        "--label org.opencontainers.image.revision=$(git rev-parse HEAD) "
        "--label org.opencontainers.image.licenses=Apache-2.0 .`\n"
        "(`docker/metadata-action` writes them in GitHub Actions)."
    ),
    references=(OCI_ANNOTATIONS, "https://docs.docker.com/reference/dockerfile/#label"),
    params={"required_labels": list(REQUIRED_LABELS)},
)
def missing_labels(image: Image, params: Mapping[str, Any]) -> Iterator[Hit]:
    labels = image.labels
    required = strings_param(params, "required_labels", REQUIRED_LABELS)
    missing = [
        name
        for name in required
        if not (isinstance(labels.get(name), str) and labels[name].strip())
    ]
    if missing:
        yield Hit(
            f"{where(image)} has no {', '.join(missing)} label{'s' * (len(missing) > 1)}",
            line=image.line("Labels"),
        )
