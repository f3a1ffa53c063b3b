"""Guess an artifact's type from its path and, when needed, a cheap look at its content.

A name can settle the type on its own (`type_by_name`): Dockerfiles and JUnit reports have
conventional names. Other candidates (`*.yaml`, `*.json`, `*.template`, `*.xml`) are told apart
by their first 64 KiB, without a full parse: an XML root element is found after any
declaration, comments and DOCTYPE (its internal subset included), so that a report with a DTD
is still recognised as JUnit and then refused by the parser with its reason.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from chalicelib.kinds import ArtifactType

__all__ = ["detect_type", "type_by_name"]

_SNIFF = 64 * 1024
_TEMPLATE_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".template"})
_CFN_YAML = re.compile(
    r"""^(?:[ \t]*["']?AWSTemplateFormatVersion|["']?Resources)["']?[ \t]*:""", re.MULTILINE
)
_CFN_JSON = re.compile(r'"(?:AWSTemplateFormatVersion|Resources)"\s*:')
_INVENTORY = re.compile(r'\A\s*\{[^{}\[\]]*"kind"\s*:\s*"aws_inventory"')
_XML_ROOT = re.compile(r"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
# a declaration, a comment, or a DOCTYPE with or without an internal subset ([...])
_XML_SKIP = re.compile(
    r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^>\[]*\[.*?\])?[^>]*>)", re.DOTALL | re.IGNORECASE
)
# Surefire's TEST-*.xml, junit.xml, junit-*.xml, junit_*.xml, junit.*.xml and *.junit.xml
_JUNIT_NAME = re.compile(r"(?:TEST-.*|(?i:junit(?:[._-].*)?|.*\.junit))\.(?i:xml)")
_INSTRUCTION = re.compile(r"[A-Za-z]+")


def type_by_name(path: str) -> ArtifactType | None:
    """The type the file's name alone gives (a Dockerfile or JUnit report name), else None."""
    name = PurePosixPath(path.replace("\\", "/")).name
    if _is_dockerfile_name(name.lower()):
        return ArtifactType.DOCKERFILE
    if _JUNIT_NAME.fullmatch(name):
        return ArtifactType.JUNIT
    return None


def detect_type(path: str, text: str | None = None) -> ArtifactType | None:
    """The artifact type of `path` (by name first, then content), or None if it is none of ours."""
    by_name = type_by_name(path)
    if by_name is not None:
        return by_name
    lower = PurePosixPath(path.replace("\\", "/")).name.lower()
    suffix = PurePosixPath(lower).suffix
    if suffix == ".json" and text is not None and _looks_like_inventory(text):
        return ArtifactType.AWS_INVENTORY
    if suffix in _TEMPLATE_SUFFIXES:
        if text is None:
            return ArtifactType.CLOUDFORMATION if suffix == ".template" else None
        return ArtifactType.CLOUDFORMATION if _looks_like_template(text) else None
    if suffix == ".xml":
        return ArtifactType.JUNIT if text is not None and _looks_like_junit(text) else None
    if text is None:
        return None
    return _by_content(text)


def _is_dockerfile_name(lower: str) -> bool:
    return (
        lower in ("dockerfile", "containerfile")
        or lower.startswith(("dockerfile.", "dockerfile-", "containerfile."))
        or lower.endswith((".dockerfile", ".containerfile"))
    )


def _head(text: str) -> str:
    head = text[:_SNIFF]
    return head[1:] if head.startswith("\ufeff") else head


def _looks_like_template(text: str) -> bool:
    head = _head(text)
    if head.lstrip().startswith("{"):
        return bool(_CFN_JSON.search(head))
    return bool(_CFN_YAML.search(head))


def _looks_like_inventory(text: str) -> bool:
    """A JSON object whose top-level keys, before any nested value, include
    `"kind": "aws_inventory"` (`collectors posture` writes it first)."""
    return bool(_INVENTORY.match(_head(text)))


def _looks_like_junit(text: str) -> bool:
    head = _head(text)
    position = 0
    while True:  # skip the declaration, comments and a doctype before the root element
        match = _XML_SKIP.match(head, position)
        if not match or match.end() == position:
            break
        position = match.end()
    root = _XML_ROOT.match(head[position:].lstrip())
    return bool(root) and root.group(1) in ("testsuites", "testsuite")


def _looks_like_dockerfile(text: str) -> bool:
    """The first instruction (after comments, directives and ARGs) is FROM."""
    for raw in _head(text).splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word = _INSTRUCTION.match(line)
        keyword = word.group(0).upper() if word else ""
        if keyword == "ARG":
            continue
        return keyword == "FROM" and len(line) > 4 and line[4] in " \t"
    return False


def _by_content(text: str) -> ArtifactType | None:
    if "\x00" in text[:_SNIFF]:
        return None
    stripped = _head(text).lstrip()
    if stripped.startswith("<"):
        return ArtifactType.JUNIT if _looks_like_junit(text) else None
    if stripped.startswith("{") and _looks_like_inventory(text):
        return ArtifactType.AWS_INVENTORY
    if _looks_like_template(text):
        return ArtifactType.CLOUDFORMATION
    if _looks_like_dockerfile(text):
        return ArtifactType.DOCKERFILE
    return None
