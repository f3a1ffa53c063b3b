"""A state directory that is not the stack's: `make run` (`python -m chalicelib.local run`)
exits 2 before it starts anything, naming the file and what to do, and changes nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chalicelib.local import statedir
from tests.conftest import REPO_ROOT


def _snapshot(root: Path) -> dict[str, bytes | None]:
    if root.is_file():
        return {".": root.read_bytes()}
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def _file_as_state_dir(state: Path) -> Path:
    state.write_text("my notes\n")
    return state


def _garbage_database(state: Path) -> Path:
    state.mkdir()
    (state / "pipeguard.db").write_bytes(b"not a database at all\n" * 200)
    return state / "pipeguard.db"


def _foreign_database(state: Path) -> Path:
    state.mkdir()
    conn = sqlite3.connect(state / "pipeguard.db")
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    return state / "pipeguard.db"


def _newer_database(state: Path) -> Path:
    state.mkdir()
    conn = sqlite3.connect(state / "pipeguard.db")
    conn.execute(f"PRAGMA application_id = {0x50475244}")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    return state / "pipeguard.db"


def _blobs_is_a_file(state: Path) -> Path:
    state.mkdir()
    (state / "blobs").write_text("a file where the blobs folder goes\n")
    return state / "blobs"


def _garbage_search_index(state: Path) -> Path:
    state.mkdir()
    (state / "search.db").write_bytes(b"\x00garbage" * 100)
    return state / "search.db"


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "state dir is a file": (_file_as_state_dir, "is a file, not a folder"),
    "garbage database": (_garbage_database, "is not a SQLite database"),
    "another application's database": (_foreign_database, "another application's database"),
    "database of a newer release": (_newer_database, "newer than this release knows"),
    "blobs is a file": (_blobs_is_a_file, "must be the folder of stored blobs"),
    "garbage search index": (_garbage_search_index, "is not a SQLite database"),
}


@pytest.mark.parametrize("case", CASES)
def test_the_check_names_the_file_and_what_to_do(tmp_path: Path, case: str) -> None:
    make, said = CASES[case]
    state = tmp_path / "state"
    named = make(state)
    before = _snapshot(state)
    with pytest.raises(statedir.StateDirUnusable) as refused:
        statedir.check(state)
    assert said in str(refused.value)
    assert str(named) in str(refused.value)
    assert _snapshot(state) == before


@pytest.mark.parametrize("case", ["state dir is a file", "garbage database", "blobs is a file"])
def test_the_stack_refuses_to_start_and_changes_nothing(tmp_path: Path, case: str) -> None:
    make, said = CASES[case]
    state = tmp_path / "state"
    named = make(state)
    before = _snapshot(state)
    done = subprocess.run(
        [sys.executable, "-m", "chalicelib.local", "run", "--state-dir", str(state), "--port", "0"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and str(named) in done.stderr
    assert "Traceback" not in done.stderr
    assert _snapshot(state) == before


def test_a_state_dir_of_this_application_passes(tmp_path: Path) -> None:
    from chalicelib.stores import embedded

    state = tmp_path / "state"
    statedir.check(state)  # not there yet
    stores = embedded.build(str(state / "pipeguard.db"))
    stores.blobs.put("acme", "tenants/acme/artifacts/x", b"x")
    stores.tenants.get("acme")
    statedir.check(state)


def test_the_embedded_search_index_is_in_the_state_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.config import Settings

    monkeypatch.delenv("SEARCH_SQLITE_PATH", raising=False)
    monkeypatch.setenv("PIPEGUARD_HOME", "/srv/pipeguard")
    monkeypatch.setenv("PIPEGUARD_BACKEND", "embedded")
    assert Settings.from_env().search_sqlite_path == "/srv/pipeguard/search.db"
    monkeypatch.setenv("SEARCH_SQLITE_PATH", "/data/index.db")  # set: it wins
    assert Settings.from_env().search_sqlite_path == "/data/index.db"
    monkeypatch.delenv("SEARCH_SQLITE_PATH")
    monkeypatch.setenv("PIPEGUARD_BACKEND", "aws")
    assert Settings.from_env().search_sqlite_path == "/tmp/pipeguard-search.db"
