"""Find artifacts among the paths given on the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.models import ArtifactType
from chalicelib.parsers.detect import detect_type

MAX_FILE_BYTES = 1024 * 1024
_CANDIDATE_SUFFIXES = {".yaml", ".yml", ".json", ".template", ".xml"}
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".local"}


@dataclass
class Artifact:
    path: str
    type: ArtifactType
    text: str


@dataclass
class Collected:
    artifacts: list[Artifact] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    skipped: int = 0


def collect(paths: list[str]) -> Collected:
    """Artifacts from files and folders; named files that aren't artifacts become errors."""
    out = Collected()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _walk(path):
                _add(out, file, explicit=False)
        elif path.is_file():
            _add(out, path, explicit=True)
        else:
            out.missing.append(raw)
    return out


def _walk(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        found.extend(Path(folder, f) for f in sorted(files))
    return found


def artifact_path(file: Path) -> str:
    """The path to report: relative to the working directory when inside it, with `/`."""
    relative = os.path.relpath(file.resolve(), Path.cwd())
    chosen = Path(relative) if not relative.startswith("..") else file
    return chosen.as_posix()


def _add(out: Collected, file: Path, explicit: bool) -> None:
    name = artifact_path(file)
    if not explicit and not _may_be_artifact(file):
        out.skipped += 1
        return
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            _refuse(out, name, explicit, f"larger than {MAX_FILE_BYTES} bytes ({size})")
            return
        data = file.read_bytes()
    except OSError as exc:
        _refuse(out, name, explicit, f"cannot be read: {exc.strerror}")
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse(out, name, explicit, "not UTF-8 text (binary file?)")
        return
    kind = detect_type(name, text)
    if kind is None:
        _refuse(
            out, name, explicit, "not a recognised artifact (Dockerfile, CloudFormation, JUnit)"
        )
        return
    out.artifacts.append(Artifact(path=name, type=kind, text=text))


def _may_be_artifact(file: Path) -> bool:
    """Cheap name test for files inside folders; content decides afterwards."""
    lower = file.name.lower()
    return (
        lower.startswith("dockerfile")
        or lower.endswith(".dockerfile")
        or file.suffix.lower() in _CANDIDATE_SUFFIXES
    )


def _refuse(out: Collected, name: str, explicit: bool, reason: str) -> None:
    if explicit:
        out.errors.append({"file": name, "message": reason})
    else:
        out.skipped += 1
