"""Backup and restore of the embedded stack's state directory.

A backup is a folder: `pipeguard.db` and `search.db` copied by SQLite's online backup API inside
one read transaction (a consistent snapshot, taken while the stack runs and writes), then the
blob files (written once and renamed into place, so every blob the database names is there
when they are copied after it), the tenants' key files, and `manifest.json` last. It is built
under a hidden name beside its target and renamed into place once whole.

A restore checks the backup (its manifest, `PRAGMA integrity_check`, a schema version this
release knows), holds the state directory's lock so no stack starts meanwhile, builds the new
state directory beside it, and swaps the two by rename: the state directory is always the old
one or the restored one, never a part. The old one is kept beside it (`<name>.before-restore-
<time>`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib.local import statedir
from chalicelib.local.statedir import BLOBS, DATABASE, SEARCH_INDEX, StateDirBusy, StateLock

MANIFEST = "manifest.json"
FORMAT = "pipeguard-state-backup"
FORMAT_VERSION = 1
PAGES_PER_STEP = 4096  # 16 MiB of 4 KiB pages between progress reports
KEY_SUFFIX = "-api-key"
OPERATOR_KEY = "admin-api-key"  # the operator key: not kept (a restored folder makes its own)
COUNTED_TABLES = ("tenants", "api_keys", "scans", "findings", "accounts", "audit_log")


class BackupRefused(RuntimeError):
    """A backup or restore that cannot be done: the message says why and what to do."""


@dataclass
class Progress:
    """Progress lines for long copies (at most one a `every` seconds), and one per part."""

    write: Callable[[str], None]
    every: float = 1.0
    _last: float = field(default_factory=time.monotonic, init=False)

    def step(self, what: str, done: int, total: int, unit: str) -> None:
        now = time.monotonic()
        if now - self._last >= self.every and done < total:
            self._last = now
            self.write(f"{what}: {done:,} of {total:,} {unit} ({100 * done // max(total, 1)}%)")

    def done(self, line: str) -> None:
        self.write(line)


def backup(state_dir: Path, target: Path, progress: Progress) -> dict[str, Any]:
    """Back up `state_dir` into the new folder `target`; returns the manifest."""
    database = state_dir / DATABASE
    if not database.is_file():
        raise BackupRefused(
            f"{state_dir} holds no embedded database ({DATABASE}): nothing to back up"
        )
    try:
        statedir.check(state_dir)
    except statedir.StateDirUnusable as exc:
        raise BackupRefused(str(exc)) from None
    if target.exists():
        raise BackupRefused(f"{target} exists: name a new folder for the backup")
    if target.absolute().resolve().is_relative_to(state_dir.absolute().resolve()):
        raise BackupRefused(f"{target} is inside the state folder: name a folder outside it")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    partial.mkdir(mode=0o700)
    started = time.monotonic()
    try:
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "state_dir": str(state_dir.absolute()),
        }
        manifest["database"] = _copy_database(database, partial / DATABASE, progress, "database")
        index = state_dir / SEARCH_INDEX
        if index.is_file() and index.stat().st_size:
            manifest["search_index"] = _copy_database(
                index, partial / SEARCH_INDEX, progress, "search index"
            )
        manifest["blobs"] = _copy_blobs(state_dir / BLOBS, partial / BLOBS, progress)
        manifest["key_files"] = _copy_key_files(state_dir, partial)
        manifest["seconds"] = round(time.monotonic() - started, 3)
        statedir.write_private(partial / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        os.sync()  # on disk before it is named a backup
        os.rename(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def restore(source: Path, state_dir: Path, progress: Progress) -> dict[str, Any]:
    """Replace `state_dir` by the backup `source`; returns the backup's manifest and where the
    previous state directory was kept."""
    if state_dir.exists() and not state_dir.is_dir():
        raise BackupRefused(f"{state_dir} is a file, not a state directory: move it away")
    running = statedir.holder(state_dir) if state_dir.is_dir() else None
    if running is not None:  # said first: whatever the backup, the stack must stop
        raise BackupRefused(f"{StateDirBusy(state_dir, running)}; then restore")
    manifest = verify(source)
    lock = StateLock(state_dir) if state_dir.is_dir() else None
    if lock is not None:  # held from here on: no stack starts on the folder meanwhile
        try:
            lock.acquire()
        except StateDirBusy as exc:
            raise BackupRefused(f"{exc}; then restore") from None
    try:
        state_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = state_dir.parent / f".{state_dir.name}.restoring-{secrets.token_hex(4)}"
        staging.mkdir(mode=0o700)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    previous: Path | None = None
    try:
        _copy_database(source / DATABASE, staging / DATABASE, progress, "database")
        if (source / SEARCH_INDEX).is_file():
            _copy_database(source / SEARCH_INDEX, staging / SEARCH_INDEX, progress, "search index")
        _copy_blobs(source / BLOBS, staging / BLOBS, progress)
        _copy_key_files(source, staging)
        os.sync()  # the copy is on disk before it becomes the state folder
        if state_dir.is_dir():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            previous = state_dir.with_name(f"{state_dir.name}.before-restore-{stamp}")
            os.rename(state_dir, previous)
        try:
            os.rename(staging, state_dir)
        except BaseException:
            if previous is not None:
                os.rename(previous, state_dir)
                previous = None
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if lock is not None:
            lock.release()
    return {"from": str(source), "previous": str(previous) if previous else None, **manifest}


def verify(source: Path) -> dict[str, Any]:
    """The manifest of the backup `source`, or `BackupRefused` saying what is wrong with it."""
    from chalicelib.stores.embedded.database import DatabaseRefused, inspect

    manifest_file = source / MANIFEST
    if not manifest_file.is_file():
        raise BackupRefused(
            f"{source} is not a Pipeguard backup (it has no {MANIFEST}): name the folder "
            "`python -m chalicelib.ops --local backup` wrote"
        )
    try:
        manifest = json.loads(manifest_file.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BackupRefused(f"{manifest_file} cannot be read ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"{source} is not a Pipeguard backup ({MANIFEST} is another's)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupRefused(
            f"{source} is a backup of format {manifest.get('format_version')}; this release "
            f"reads format {FORMAT_VERSION}: restore it with the release that wrote it"
        )
    for name in (DATABASE, *([SEARCH_INDEX] if "search_index" in manifest else [])):
        path = source / name
        if not path.is_file():
            raise BackupRefused(f"{source} is incomplete: {name} is missing")
        if name == DATABASE:
            try:
                inspect(path)
            except DatabaseRefused as exc:
                raise BackupRefused(f"the backup's {exc}") from None
        problem = _integrity_problem(path)
        if problem:
            raise BackupRefused(f"the backup's {path} is damaged ({problem}): use another backup")
    return manifest


def _copy_database(source: Path, target: Path, progress: Progress, what: str) -> dict[str, Any]:
    """Copy a SQLite file by the online backup API, from one read transaction (a snapshot that
    writers of other connections do not change), then check the copy."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    started = time.monotonic()
    src = sqlite3.connect(source, timeout=10, isolation_level=None)
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts
        src.backup(
            dst,
            pages=PAGES_PER_STEP,
            progress=lambda _status, remaining, total: progress.step(
                what, total - remaining, total, "pages"
            ),
        )
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        details = _describe(dst)
    finally:
        src.close()
        dst.close()
    problem = _integrity_problem(target)
    if problem:
        raise BackupRefused(f"the copy of {source} is damaged ({problem})")
    details["bytes"] = target.stat().st_size
    progress.done(
        f"{what}: {details['bytes']:,} bytes copied in {time.monotonic() - started:.2f} s"
    )
    return details


def _describe(conn: sqlite3.Connection) -> dict[str, Any]:
    """Schema version and row counts of a copied database (what the manifest records)."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    counts = {
        name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # noqa: S608 - known names
        for name in COUNTED_TABLES
        if name in tables
    }
    return {
        "schema_version": conn.execute("PRAGMA user_version").fetchone()[0],
        "counts": counts,
    }


def _integrity_problem(path: Path) -> str | None:
    conn = sqlite3.connect(path.absolute().as_uri() + "?mode=ro", uri=True)
    try:
        rows = [row[0] for row in conn.execute("PRAGMA integrity_check(5)")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return None if rows == ["ok"] else "; ".join(rows)


def _copy_blobs(source: Path, target: Path, progress: Progress) -> dict[str, int]:
    """Copy every blob file (not the temporary files of writes in progress, `.name.random`)."""
    started = time.monotonic()
    files = [
        Path(root, name)
        for root, _dirs, names in os.walk(source)
        for name in names
        if not name.startswith(".")
    ]
    total = sum(path.stat().st_size for path in files)
    target.mkdir(mode=0o700, exist_ok=True)
    copied = 0
    for number, path in enumerate(files, start=1):
        out = target / path.relative_to(source)
        _directories(out.parent, target)
        shutil.copyfile(path, out)
        out.chmod(0o600)
        copied += out.stat().st_size
        progress.step("blobs", copied, total, f"bytes ({number:,} of {len(files):,} files)")
    progress.done(
        f"blobs: {len(files):,} files, {copied:,} bytes copied in "
        f"{time.monotonic() - started:.2f} s"
    )
    return {"files": len(files), "bytes": copied}


def _directories(directory: Path, root: Path) -> None:
    if directory == root or directory.is_dir():
        return
    _directories(directory.parent, root)
    directory.mkdir(mode=0o700)


def _copy_key_files(source: Path, target: Path) -> list[str]:
    """The tenants' key files the stack wrote (the operator key is made anew at each start)."""
    names = sorted(
        p.name for p in source.glob(f"*{KEY_SUFFIX}") if p.is_file() and p.name != OPERATOR_KEY
    )
    for name in names:
        statedir.write_private(target / name, (source / name).read_text())
    return names
