"""Guess an artifact's type from its path and, when needed, a cheap look at its content.

A name can settle the type on its own (`type_by_name`): Dockerfiles and JUnit reports have
conventional names, and so do image metadata files (`*.image.json`). Other candidates
(`*.yaml`, `*.json`, `*.template`, `*.xml`) are told apart by their first 64 KiB, without a
full parse (a JSON SARIF log by its `$schema`, or its version 2.1.0 with `runs`, at the start
or at the end of the file; a JSON file may also be `docker image inspect` output or an OCI
image config): an XML root element is found after any declaration, comments and DOCTYPE (its
internal subset included), so that a report with a DTD is still recognised as JUnit and then
refused by the parser with its reason.
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
_SARIF_SUFFIXES = (".sarif", ".sarif.json")
_SARIF_SCHEMA = re.compile(r'"\$schema"\s*:\s*"[^"]*sarif[^"]*"', re.IGNORECASE)
_SARIF_VERSION = re.compile(r'"version"\s*:\s*"2\.1\.0"')
_SARIF_RUNS = re.compile(r'"runs"\s*:\s*\[')
# `docker image inspect` output, an OCI image config, or an image archive summary
_IMAGE_NAME_SUFFIX = ".image.json"
_INSPECT_CONFIG = re.compile(r'"Config"\s*:')
_INSPECT_KEYS = re.compile(r'"(?:RepoTags|RepoDigests|RootFS|GraphDriver)"\s*:')
_OCI_CONFIG = re.compile(r'"rootfs"\s*:\s*\{')
_OCI_KEYS = re.compile(r'"(?:diff_ids|architecture|history)"\s*:')
_ARCHIVE_SUMMARY = re.compile(r'^\{\s*"pipeguard_image_archive"\s*:')


def type_by_name(path: str) -> ArtifactType | None:
    """The type the file's name alone gives (a Dockerfile, JUnit report or SARIF log name),
    else None."""
    name = _file_name(path)
    if _is_dockerfile_name(name.lower()):
        return ArtifactType.DOCKERFILE
    if _JUNIT_NAME.fullmatch(name):
        return ArtifactType.JUNIT
    if name.lower().endswith(_SARIF_SUFFIXES):
        return ArtifactType.SARIF
    if name.lower().endswith(_IMAGE_NAME_SUFFIX):
        return ArtifactType.IMAGE
    return None


def _file_name(path: str) -> str:
    """The last part of a `/` or `\\` separated path (what `PurePosixPath.name` gives, cheaper:
    it runs for every file of a folder scan)."""
    if "\\" in path:
        path = path.replace("\\", "/")
    return path.rstrip("/").rpartition("/")[2]


def detect_type(path: str, text: str | None = None) -> ArtifactType | None:
    """The artifact type of `path` (by name first, then content), or None if it is none of ours."""
    by_name = type_by_name(path)
    if by_name is not None:
        return by_name
    lower = _file_name(path).lower()
    suffix = PurePosixPath(lower).suffix
    if suffix == ".json" and text is not None and _looks_like_inventory(text):
        return ArtifactType.AWS_INVENTORY
    if suffix == ".json" and text is not None and _looks_like_image(text):
        return ArtifactType.IMAGE
    if suffix in _TEMPLATE_SUFFIXES:
        if text is None:
            return ArtifactType.CLOUDFORMATION if suffix == ".template" else None
        if suffix == ".json" and _looks_like_sarif(text):
            return ArtifactType.SARIF
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
    if _CFN_YAML.search(head):
        return True
    indent = _document_indent(head)  # a document indented as a whole (` Resources:`)
    if not indent:
        return False
    pattern = rf"^{re.escape(indent)}[\"']?Resources[\"']?[ \t]*:"
    return re.search(pattern, head, re.MULTILINE) is not None


def _document_indent(head: str) -> str:
    """The indentation of the first key of a YAML document (its top-level keys share it)."""
    for line in head.splitlines():
        content = line.lstrip(" \t")
        if content and not content.startswith(("#", "%", "---")):
            return line[: len(line) - len(content)]
    return ""


def _looks_like_image(text: str) -> bool:
    """`docker image inspect` output, an OCI image config or an image archive summary."""
    head = _head(text).lstrip()
    if not head.startswith(("{", "[")):
        return False
    if _ARCHIVE_SUMMARY.match(head):
        return True
    if _INSPECT_CONFIG.search(head) and _INSPECT_KEYS.search(head):
        return True
    return bool(_OCI_CONFIG.search(head) and _OCI_KEYS.search(head))


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


def _looks_like_sarif(text: str) -> bool:
    """A JSON object naming a SARIF schema, or with version 2.1.0 and runs; tools write these
    keys first or last (Bandit), so both ends of the file are looked at."""
    head = _head(text).lstrip()
    if not head.startswith("{"):
        return False
    ends = (head, text[-_SNIFF:]) if len(text) > _SNIFF else (head,)
    if any(_SARIF_SCHEMA.search(part) for part in ends):
        return True
    return any(_SARIF_VERSION.search(part) for part in ends) and bool(_SARIF_RUNS.search(head))


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
    if _looks_like_sarif(text):
        return ArtifactType.SARIF
    if _looks_like_image(text):
        return ArtifactType.IMAGE
    if _looks_like_template(text):
        return ArtifactType.CLOUDFORMATION
    if _looks_like_dockerfile(text):
        return ArtifactType.DOCKERFILE
    return None
