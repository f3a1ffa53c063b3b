"""Find artifacts among the paths given on the command line: files, folders and globs.

No file selected as an artifact is dropped without a word:
- A file named on the command line is always read. If it can be read but is no artifact, that
  is an error (a usage error for `submit`); if it cannot be read, it is an unreadable artifact.
- A file whose name says what it is (a Dockerfile, a JUnit report, a `*.sarif` or
  `*.sarif.json` log, a `--type PATTERN=TYPE` match) is an artifact wherever it is: text that
  is not valid UTF-8 is read with the Latin-1 fallback of `collectors.decoding` (and a note),
  and a binary file is an unreadable artifact, which fails the run as a parse error does.
- In folders and globs, candidates by suffix (`*.yaml`, `*.json`, `*.template`, `*.xml`) are
  read and kept when their content is a template, a SARIF log, image metadata or a JUnit
  report; the others are skipped, and every skipped file is listed with its reason. Files with
  no artifact's name or suffix are not read at all (counted as ignored), and excludes apply:
  `--exclude` patterns and the lines of `.pipeguardignore`, with `.gitignore` semantics
  (`build/`, `*.json`, `!keep.json`, `/only-at-root`, `**/fixtures/**`), matched against the
  path relative to the working directory (or to the folder given, for folders outside it).
- A SARIF log that Pipeguard itself wrote (an earlier run's report left in the workspace) is
  skipped in folders and globs: imported, its findings would count twice.
- An image archive (an OCI image layout or `docker save` tarball, `*.tar`, uncompressed) is
  not read whole: `chalicelib.parsers.image_archive` reads its index, manifest and config, and
  the artifact's text is that JSON summary (an `image` artifact). A `*.tar` in a folder that
  holds no image is skipped; one named on the command line (or by `--type PATTERN=image`)
  that cannot be read as an image is an unreadable artifact.
- Types are detected from the name, then the content; `--type TYPE` forces one type for every
  file, `--type PATTERN=TYPE` for the files matching a `.gitignore`-style pattern (or naming
  exactly that file). A file in a folder whose name does not look like an artifact is only read
  when a `PATTERN=TYPE` override names it.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.kinds import ArtifactType
from chalicelib.parsers.detect import detect_type, type_by_name
from collectors.decoding import NotText, decode

if TYPE_CHECKING:
    import pathspec

IGNORE_FILE = ".pipeguardignore"
MAX_SCAN_BYTES = 16 * 1024 * 1024  # what the collector reads at all (the API takes 1 MiB)
_SNIFF_BYTES = 64 * 1024
_CANDIDATE_SUFFIXES = {".yaml", ".yml", ".json", ".template", ".xml"}
_OUR_REPORT = re.compile(r'"driver"\s*:\s*\{\s*"name"\s*:\s*"Pipeguard"')
_ARCHIVE_SUFFIX = ".tar"
_SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".local"}

# Kept for callers of the first version of this module.
MAX_FILE_BYTES = 1024 * 1024


@dataclass
class Artifact:
    path: str
    type: ArtifactType
    text: str
    note: str | None = None  # how the text was decoded, when not as plain UTF-8

    @property
    def size(self) -> int:
        """The content's size in bytes, UTF-8 encoded (what the API limits)."""
        return len(self.text.encode("utf-8"))


@dataclass
class Collected:
    artifacts: list[Artifact] = field(default_factory=list)
    # files named on the command line that are no artifact, artifacts too large: file, message
    errors: list[dict[str, str]] = field(default_factory=list)
    # artifacts that cannot be read (binary, unreadable): file, message; they fail the run
    unreadable: list[dict[str, str]] = field(default_factory=list)
    # candidates in folders and globs that turned out to be no artifact: file, reason
    skipped: list[dict[str, str]] = field(default_factory=list)
    # artifacts read with the Latin-1 fallback: file, message
    notes: list[dict[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    ignored: int = 0  # files whose names are no artifact's: not read
    excluded: int = 0


class TypeOverrides:
    """`--type` values: one type for everything, and/or types for files matching patterns."""

    def __init__(self, overrides: Iterable[tuple[str | None, ArtifactType]] = ()) -> None:
        self.default: ArtifactType | None = None
        # (spec, the real path the pattern names if it is an existing file, type)
        self.patterns: list[tuple[pathspec.GitIgnoreSpec, str | None, ArtifactType]] = []
        for pattern, kind in overrides:
            if pattern is None:
                self.default = kind
            else:
                import pathspec

                spec = pathspec.GitIgnoreSpec.from_lines([pattern])
                exact = os.path.realpath(pattern) if os.path.isfile(pattern) else None
                self.patterns.append((spec, exact, kind))

    def named(self, real_path: str, match_path: str) -> ArtifactType | None:
        """The type a `PATTERN=TYPE` override gives this file (the last one that matches)."""
        found = None
        for spec, exact, kind in self.patterns:
            if exact == real_path or spec.match_file(match_path):
                found = kind
        return found


def parse_type_option(value: str) -> tuple[str | None, ArtifactType]:
    """`TYPE` or `PATTERN=TYPE`; raises ValueError with a message for people."""
    pattern, sep, kind = value.rpartition("=")
    choices = ", ".join(t.value for t in ArtifactType)
    try:
        artifact_type = ArtifactType(kind.strip().lower())
    except ValueError:
        raise ValueError(f"unknown artifact type {kind!r} (choose from {choices})") from None
    if sep and not pattern.strip():
        raise ValueError(f"--type {value!r}: the pattern before '=' is empty")
    return (pattern.strip() if sep else None), artifact_type


class Excludes:
    """`.gitignore`-style exclude patterns (pathspec is only imported when there are some)."""

    def __init__(self, lines: Iterable[str] = ()) -> None:
        lines = list(lines)
        self._spec: pathspec.PathSpec | None = None
        if any(line.strip() and not line.lstrip().startswith("#") for line in lines):
            import pathspec

            self._spec = pathspec.GitIgnoreSpec.from_lines(lines)

    def match_file(self, path: str) -> bool:
        return self._spec is not None and bool(self._spec.match_file(path))


def load_excludes(patterns: Sequence[str], ignore_file: str | None) -> Excludes:
    """`--exclude` patterns plus the lines of the ignore file (if it exists)."""
    lines = list(patterns)
    if ignore_file and Path(ignore_file).is_file():
        lines += Path(ignore_file).read_text(encoding="utf-8", errors="replace").splitlines()
    return Excludes(lines)


@dataclass
class _Run:
    out: Collected
    excludes: Excludes
    types: TypeOverrides
    cwd: str  # the working directory's real path
    seen: set[str] = field(default_factory=set)


def collect(
    paths: Sequence[str],
    excludes: Excludes | None = None,
    types: TypeOverrides | None = None,
) -> Collected:
    """Artifacts from files, folders and globs; named files that aren't artifacts are errors."""
    run = _Run(
        out=Collected(),
        excludes=excludes or Excludes(),
        types=types or TypeOverrides(),
        cwd=os.path.realpath(os.getcwd()),
    )
    for raw in paths:
        if os.path.isdir(raw):
            _walk(run, raw)
        elif os.path.isfile(raw):
            _add_file(run, raw, explicit=True)
        elif glob.has_magic(raw):
            matches = sorted(glob.glob(raw, recursive=True))
            if not matches:
                run.out.missing.append(raw)
            literal = len(_literal_prefix(raw).parts)
            for match in matches:
                if _SKIP_DIRS.intersection(Path(match).parts[literal:]):
                    continue
                if os.path.isdir(match):
                    _walk(run, match)
                elif os.path.isfile(match):
                    _add_file(run, match, explicit=False)
        else:
            run.out.missing.append(raw)
    return run.out


def _literal_prefix(pattern: str) -> Path:
    """The folders of a glob before its first wildcard (`infra/*/x.yaml` → `infra`)."""
    parts = Path(pattern).parts
    first_magic = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    return Path(*parts[:first_magic]) if first_magic else Path()


def _relative_to_cwd(run: _Run, real_path: str) -> str | None:
    """`real_path` relative to the working directory, with `/`; None when outside it."""
    relative = os.path.relpath(real_path, run.cwd)
    if relative == ".." or relative.startswith(".." + os.sep):
        return None
    return relative.replace(os.sep, "/")


def _add_file(run: _Run, given: str, explicit: bool) -> None:
    """A file named on the command line (`explicit`) or matched by a glob."""
    real = os.path.realpath(given)
    name = _relative_to_cwd(run, real) or Path(given).as_posix()
    if not explicit and run.excludes.match_file(name):
        run.out.excluded += 1
        return
    _add(run, real, name, name, explicit=explicit, by_glob=not explicit)


def _walk(run: _Run, root: str) -> None:
    """Every file under `root`; paths are resolved once, for the root, not per file."""
    real_root = os.path.realpath(root)
    inside = _relative_to_cwd(run, real_root)
    # reported paths: relative to the working directory, else under the folder as given
    base = inside if inside is not None else Path(root).as_posix().rstrip("/")
    for folder, dirs, files in os.walk(real_root):
        # os.walk joins below real_root: the folder relative to it is a slice of the string
        rel_folder = folder[len(real_root) :].lstrip(os.sep).replace(os.sep, "/")
        prefix = rel_folder + "/" if rel_folder else ""
        kept = []
        for name in sorted(dirs):
            if name in _SKIP_DIRS:
                continue
            if run.excludes.match_file(_join(base, inside, prefix + name) + "/"):
                run.out.excluded += 1
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            match_path = _join(base, inside, prefix + name)
            if run.excludes.match_file(match_path):
                run.out.excluded += 1
                continue
            reported = prefix + name if base in ("", ".") else f"{base}/{prefix}{name}"
            _add(run, os.path.join(folder, name), reported, match_path, explicit=False)


def _join(base: str, inside: str | None, in_root: str) -> str:
    """The path excludes and type patterns see: relative to the working directory when the
    folder is inside it, else relative to the folder."""
    if inside is None:
        return in_root
    return in_root if base in ("", ".") else f"{base}/{in_root}"


def artifact_path(file: Path) -> str:
    """The path to report: relative to the working directory when inside it, with `/`."""
    relative = os.path.relpath(file.resolve(), Path.cwd())
    chosen = Path(relative) if not relative.startswith("..") else file
    return chosen.as_posix()


def _add(
    run: _Run,
    real_path: str,
    name: str,
    match_path: str,
    explicit: bool,
    by_glob: bool = False,
) -> None:
    out = run.out
    if real_path in run.seen:  # named twice (a file and its folder, overlapping globs)
        return
    run.seen.add(real_path)
    override = run.types.named(real_path, match_path)
    by_name = override or type_by_name(name)
    if not (explicit or by_glob or by_name or _may_be_artifact(name)):
        out.ignored += 1
        return
    forced = override or run.types.default
    # selected: named on the command line, or an artifact by its name or by --type
    selected = explicit or bool(by_name or forced)
    named = explicit or forced is not None
    if forced in (None, ArtifactType.IMAGE) and _is_archive(real_path, name, named):
        _add_archive(out, real_path, name, selected=named)
        return
    try:
        size = os.stat(real_path).st_size
        if size > MAX_SCAN_BYTES:
            with open(real_path, "rb") as handle:
                head = handle.read(_SNIFF_BYTES).decode("utf-8", errors="replace")
            if forced or detect_type(name, head):  # an artifact, too large to be scanned
                message = f"larger than {MAX_SCAN_BYTES} bytes ({size})"
                out.errors.append({"file": name, "message": message})
            else:
                reason = f"too large to read ({size} bytes), and no artifact by its first 64 KiB"
                _pass_over(out, name, explicit, reason)
            return
        with open(real_path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        _unreadable(out, name, selected, f"cannot be read: {exc.strerror or exc}")
        return
    try:
        decoded = decode(data)
    except NotText as exc:
        _unreadable(out, name, selected, f"not a text file ({exc})")
        return
    kind = forced or by_name or detect_type(name, decoded.text)
    if kind is None:
        _pass_over(out, name, explicit, _not_an_artifact(name))
        return
    if kind is ArtifactType.SARIF and not (explicit or forced) and _is_our_report(decoded.text):
        # a report an earlier run left in the workspace (Jenkins keeps it): its findings are
        # this scan's own, imported again they would count twice
        reason = "a Pipeguard SARIF report, not another scanner's (name it to submit it)"
        out.skipped.append({"file": name, "reason": reason})
        return
    out.artifacts.append(Artifact(path=name, type=kind, text=decoded.text, note=decoded.note))
    if decoded.note:
        out.notes.append({"file": name, "message": decoded.note})


def _is_our_report(text: str) -> bool:
    return bool(_OUR_REPORT.search(text[:_SNIFF_BYTES]))


def _is_archive(real_path: str, name: str, named: bool) -> bool:
    """A tarball to read as an image archive: a `*.tar`; or, named on the command line or by
    `--type`, any tar, and compressed ones (`*.tar.gz`, `*.tgz`), refused with a hint."""
    lower = name.lower()
    if lower.endswith(_ARCHIVE_SUFFIX):
        return True
    if not named:
        return False
    if ".tar." in lower or lower.endswith(".tgz"):
        return True
    from chalicelib.parsers.image_archive import is_archive

    try:
        with open(real_path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return False  # reported as unreadable by the ordinary path
    return is_archive(head)


def _add_archive(out: Collected, real_path: str, name: str, selected: bool) -> None:
    """An image archive, reduced to the JSON summary that is its artifact text."""
    from chalicelib.parsers import ParseError
    from chalicelib.parsers.image_archive import summarize

    try:
        text = summarize(real_path)
    except ParseError as exc:
        _unreadable(out, name, selected, f"not a readable image archive: {exc}")
        return
    out.artifacts.append(Artifact(path=name, type=ArtifactType.IMAGE, text=text))


def _may_be_artifact(path: str) -> bool:
    """Cheap name test for files inside folders; content decides afterwards."""
    lower = path.rsplit("/", 1)[-1].lower()
    return (
        lower.endswith(_ARCHIVE_SUFFIX)
        or lower.startswith(("dockerfile", "containerfile"))
        or lower.endswith((".dockerfile", ".containerfile"))
        or os.path.splitext(lower)[1] in _CANDIDATE_SUFFIXES
    )


def _not_an_artifact(name: str) -> str:
    """Why a candidate's content is no artifact, in the words of its suffix."""
    suffix = os.path.splitext(name.lower())[1]
    if suffix == ".xml":
        return "not a JUnit report (the root element is not testsuites or testsuite)"
    if suffix == ".json":
        return (
            "not a CloudFormation template (no AWSTemplateFormatVersion or Resources key), "
            "nor a SARIF log (no SARIF $schema, nor version 2.1.0 with runs), nor image "
            "metadata"
        )
    if suffix in _CANDIDATE_SUFFIXES:
        return "not a CloudFormation template (no AWSTemplateFormatVersion or Resources key)"
    return "not a Dockerfile, CloudFormation template, JUnit report or SARIF log"


def _unreadable(out: Collected, name: str, selected: bool, reason: str) -> None:
    """An artifact that cannot be read fails the run; a mere candidate is skipped."""
    if selected:
        out.unreadable.append({"file": name, "message": reason})
    else:
        out.skipped.append({"file": name, "reason": reason})


def _pass_over(out: Collected, name: str, explicit: bool, reason: str) -> None:
    """A file that is no artifact: an error when named on the command line, else skipped."""
    if explicit:
        out.errors.append({"file": name, "message": f"not a recognised artifact: {reason}"})
    else:
        out.skipped.append({"file": name, "reason": reason})
