"""Parsers turn artifact text into the models rules inspect; bad input raises `ParseError`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.kinds import ArtifactType


class ParseError(ValueError):
    """The artifact cannot be read; the message says why, for the person who wrote the file."""


@dataclass(frozen=True)
class View:
    """An artifact seen as another type's model, so that type's rules judge it too (an AWS
    inventory as a template). `translate(rule_id, hit)` turns a hit on the view into a hit
    on the artifact, or None to drop it (the data it needs was not read)."""

    artifact_type: ArtifactType
    model: Any
    translate: Callable[[str, Any], Any]


_MODULES = {
    ArtifactType.DOCKERFILE: "chalicelib.parsers.dockerfile",
    ArtifactType.CLOUDFORMATION: "chalicelib.parsers.cloudformation",
    ArtifactType.JUNIT: "chalicelib.parsers.junit",
    ArtifactType.SARIF: "chalicelib.parsers.sarif",
    ArtifactType.IMAGE: "chalicelib.parsers.image",
    ArtifactType.AWS_INVENTORY: "chalicelib.parsers.aws_inventory",
}


def load_parser(artifact_type: ArtifactType) -> Any:
    """The parser module of `artifact_type` (imported on first use)."""
    return importlib.import_module(_MODULES[artifact_type])


def parse(artifact_type: ArtifactType, text: str, path: str = "") -> Any:
    """Parse `text` as `artifact_type` (the parser module is imported on first use)."""
    if not text.strip():
        raise ParseError("the file is empty")
    if "\x00" in text:
        raise ParseError("the file is binary (it contains NUL bytes), not a text artifact")
    return load_parser(artifact_type).parse(text)
