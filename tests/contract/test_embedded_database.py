"""The embedded database file: WAL, schema versions and migrations, refusals, threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from chalicelib.stores import embedded
from chalicelib.stores.embedded import database as db
from chalicelib.stores.embedded.schema import APPLICATION_ID, MIGRATIONS

from .helpers import entry


def test_a_new_file_is_in_wal_mode_at_the_newest_schema_version(tmp_path: Path) -> None:
    database = db.Database(tmp_path / "state" / "pipeguard.db")
    conn = database.connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == db.BUSY_TIMEOUT_MS
    assert db.schema_version(conn) == len(MIGRATIONS)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_the_files_are_the_owners_only(tmp_path: Path) -> None:
    stores = embedded.build(str(tmp_path / "state" / "pipeguard.db"))
    stores.settings.put("acme", "notifications", {"emails": []}, entry("acme"))
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
    for name in ("pipeguard.db", "pipeguard.db-wal"):
        assert (tmp_path / "state" / name).stat().st_mode & 0o777 == 0o600, name


def test_nothing_is_opened_until_first_use(tmp_path: Path) -> None:
    embedded.build(str(tmp_path / "pipeguard.db"))
    assert not (tmp_path / "pipeguard.db").exists()


def test_what_was_written_is_there_after_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "pipeguard.db")
    embedded.build(path).settings.put("acme", "notifications", {"emails": []}, entry("acme"))
    assert embedded.build(path).settings.get("acme", "notifications") == {"emails": []}


def test_an_older_file_is_upgraded_in_place(tmp_path: Path, monkeypatch: Any) -> None:
    path = str(tmp_path / "pipeguard.db")
    embedded.build(path).settings.put("acme", "notifications", {"emails": []}, entry("acme"))
    added = ("CREATE TABLE later (id TEXT PRIMARY KEY)", "INSERT INTO later VALUES ('x')")
    monkeypatch.setattr(db, "MIGRATIONS", (*MIGRATIONS, added))
    upgraded = embedded.build(path)
    assert upgraded.settings.get("acme", "notifications") == {"emails": []}
    conn = sqlite3.connect(path)
    assert db.schema_version(conn) == len(MIGRATIONS) + 1
    assert conn.execute("SELECT id FROM later").fetchall() == [("x",)]
    conn.close()
    monkeypatch.setattr(db, "MIGRATIONS", (*MIGRATIONS, added))  # applied once only
    assert embedded.build(path).settings.get("acme", "notifications") == {"emails": []}


def test_a_failed_migration_leaves_the_file_at_its_version(
    tmp_path: Path, monkeypatch: Any
) -> None:
    path = str(tmp_path / "pipeguard.db")
    embedded.build(path).settings.put("acme", "notifications", {"emails": []}, entry("acme"))
    broken = ("CREATE TABLE half (id TEXT)", "INSERT INTO nowhere VALUES (1)")
    monkeypatch.setattr(db, "MIGRATIONS", (*MIGRATIONS, broken))
    with pytest.raises(sqlite3.OperationalError):
        embedded.build(path).settings.get("acme", "notifications")
    conn = sqlite3.connect(path)
    assert db.schema_version(conn) == len(MIGRATIONS)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half'").fetchone() == (0,)
    conn.close()


def _refused(path: Path) -> str:
    with pytest.raises(db.DatabaseRefused) as refused:
        embedded.build(str(path)).tenants.get("acme")
    return str(refused.value)


def test_a_file_of_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "pipeguard.db"
    database = db.Database(path)
    database.connection()
    database.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()  # the last connection: its WAL is checkpointed into the file
    content = path.read_bytes()
    assert "newer than this release" in _refused(path)
    assert path.read_bytes() == content


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "pipeguard.db"
    path.write_text("these are my notes, not a database\n" * 100)
    content = path.read_bytes()
    assert "is not a SQLite database" in _refused(path)
    assert path.read_bytes() == content


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "pipeguard.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    content = path.read_bytes()
    assert "another application's database" in _refused(path)
    assert path.read_bytes() == content


def test_threads_write_at_the_same_time_without_losing_a_write(tmp_path: Path) -> None:
    stores = embedded.build(str(tmp_path / "pipeguard.db"))
    failures: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(25):
                tenant_id = f"tenant-{t}-{i}"
                stores.settings.put(tenant_id, "notifications", {"n": i}, entry(tenant_id))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(stores.settings.tenants_with("notifications")) == 150


def test_of_two_simultaneous_policy_changes_from_one_version_one_wins(tmp_path: Path) -> None:
    """SQLite's transactions keep the condition under concurrency. (moto cannot show it for
    DynamoDB: a refused transaction restores a copy of the table taken before it began, so it
    can undo a concurrent one that succeeded.)"""
    from chalicelib.stores.ports import NotWritten, PolicyVersion

    stores = embedded.build(str(tmp_path / "pipeguard.db"))

    def version(n: int, fail_on: str) -> PolicyVersion:
        return PolicyVersion(n, "2026-12-01T10:00:00+00:00", "key_x", f'{{"fail_on":"{fail_on}"}}')

    stores.policies.save("acme", version(1, "high"), 0, entry("acme", "first"))
    for _ in range(20):
        current = stores.policies.current_version("acme")
        start = threading.Barrier(3)
        outcomes: list[str] = []

        def change(
            fail_on: str,
            current: int = current,
            start: threading.Barrier = start,
            outcomes: list[str] = outcomes,
        ) -> None:
            start.wait()
            try:
                stores.policies.save(
                    "acme", version(current + 1, fail_on), current, entry("acme", fail_on)
                )
                outcomes.append(fail_on)
            except NotWritten:
                outcomes.append("refused")

        threads = [threading.Thread(target=change, args=(f,)) for f in ("low", "info", "critical")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        (winner,) = [o for o in outcomes if o != "refused"]
        assert outcomes.count("refused") == 2
        assert stores.policies.current_version("acme") == current + 1
        assert stores.policies.version("acme", current + 1) == {"fail_on": winner}
        assert stores.audit.page("acme", 1)[0][0].action == winner


def _count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM notes").fetchone()[0])


def _notes(tmp_path: Path) -> db.Database:
    database = db.Database(tmp_path / "pipeguard.db")
    with database.write() as conn:
        conn.execute("CREATE TABLE notes (n INTEGER PRIMARY KEY)")
    return database


def test_grouped_writes_commit_together_and_a_failed_one_alone_is_undone(
    tmp_path: Path,
) -> None:
    database = _notes(tmp_path)
    other = sqlite3.connect(database.path)
    with database.grouped():
        with database.write() as conn:
            conn.execute("INSERT INTO notes VALUES (1)")
        with pytest.raises(sqlite3.IntegrityError), database.write() as conn:
            conn.execute("INSERT INTO notes VALUES (2)")
            conn.execute("INSERT INTO notes VALUES (1)")  # fails: 2 goes with it, 1 stays
        with database.write() as conn:
            conn.execute("INSERT INTO notes VALUES (3)")
        assert _count(other) == 0  # nothing is visible before the group ends
    assert sorted(n for (n,) in other.execute("SELECT n FROM notes")) == [1, 3]


def test_a_group_that_raises_keeps_nothing(tmp_path: Path) -> None:
    database = _notes(tmp_path)
    with pytest.raises(RuntimeError), database.grouped():
        with database.write() as conn:
            conn.execute("INSERT INTO notes VALUES (1)")
        raise RuntimeError("cut short")
    assert _count(database.connection()) == 0
    with database.write() as conn:  # and the next write is a transaction of its own again
        conn.execute("INSERT INTO notes VALUES (2)")
    assert _count(sqlite3.connect(database.path)) == 1


def test_a_group_holds_the_write_lock_only_from_its_first_write(tmp_path: Path) -> None:
    database = _notes(tmp_path)
    other = sqlite3.connect(database.path, timeout=0, isolation_level=None)
    with database.grouped():
        assert _count(database.connection()) == 0  # a read takes no lock
        other.execute("BEGIN IMMEDIATE")  # another writer still can
        other.execute("INSERT INTO notes VALUES (7)")
        other.execute("COMMIT")
        with database.write() as conn:
            conn.execute("INSERT INTO notes VALUES (8)")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    assert _count(other) == 2


def test_groups_do_not_nest(tmp_path: Path) -> None:
    database = _notes(tmp_path)
    with (
        database.grouped(),
        pytest.raises(RuntimeError, match="grouped already"),
        database.grouped(),
    ):
        pass
