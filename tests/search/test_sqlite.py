"""SQLite adapter specifics: FTS5 query building, schema reuse, threads sharing one index."""

from __future__ import annotations

import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.search.port import FACET_FIELDS, FindingQuery
from chalicelib.search.sqlite import _FACET_COLUMNS, SqliteIndex, fts_query

from .helpers import make_doc


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (None, None),
        ("", None),
        ('  * " ( ', None),
        ("root", '"root"*'),
        ("AND (", '"AND"*'),
        ("NEAR(a b, 2)", '"NEAR a" "b" "2"*'),
        ("docker/Dockerfile user", '"docker Dockerfile" "user"*'),
        ("title:root", '"title root"*'),
        ("café", '"café"*'),
    ],
)
def test_fts_query(q: str | None, expected: str | None) -> None:
    assert fts_query(q) == expected


@pytest.mark.parametrize("q", ['"', "AND (", "NEAR(", "a OR", "x:y", "^a", "(*)", "NOT b", "'"])
def test_fts_queries_are_valid_fts5(tmp_path: Path, q: str) -> None:
    conn = sqlite3.connect(tmp_path / "fts.db")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
    match = fts_query(q)
    if match is not None:
        conn.execute("SELECT * FROM t WHERE t MATCH ?", (match,)).fetchall()


def test_memory_paths_are_refused() -> None:
    with pytest.raises(ValueError):
        SqliteIndex(":memory:")


def test_reopening_keeps_documents_and_uses_wal(tmp_path: Path) -> None:
    path = str(tmp_path / "search.db")
    SqliteIndex(path).upsert("t1", [make_doc("t1", 1)])

    reopened = SqliteIndex(path)

    assert len(reopened.search("t1", FindingQuery(q="number")).findings) == 1
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_concurrent_writer_and_readers(tmp_path: Path) -> None:
    index = SqliteIndex(str(tmp_path / "search.db"))
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for batch in range(20):
                index.upsert("t1", [make_doc("t1", batch * 10 + n) for n in range(10)])
                index.delete("t1", [make_doc("t1", batch * 10)["finding_id"]])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    def read() -> None:
        try:
            while not done.is_set():
                index.search("t1", FindingQuery(q="finding", severity="high", limit=20))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            index.close()

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    page = index.search("t1", FindingQuery(limit=500))
    assert len(page.findings) == 180


def test_dynamodb_numbers_are_stored_as_json_numbers(tmp_path: Path) -> None:
    index = SqliteIndex(str(tmp_path / "search.db"))
    doc = make_doc("t1", 1, line=Decimal("12"), lines=[Decimal("12"), Decimal("13")])
    index.upsert("t1", [doc])
    doc = index.search("t1", FindingQuery()).findings[0]
    assert (doc["line"], doc["lines"]) == (12, [12, 13])


def test_an_index_file_without_the_aws_columns_gets_them(tmp_path: Path) -> None:
    path = str(tmp_path / "search.db")
    SqliteIndex(path).upsert("t1", [make_doc("t1", 1)])
    old = sqlite3.connect(path)  # the file as releases before the account filters left it
    old.execute("DROP INDEX findings_account")
    old.execute("DROP INDEX findings_service")
    for column in ("account", "region", "service"):
        old.execute(f"ALTER TABLE findings DROP COLUMN {column}")
    old.commit()
    old.close()

    reopened = SqliteIndex(path)
    reopened.upsert("t1", [make_doc("t1", 2, account="123456789012", service="ec2")])

    assert [
        d["finding_id"] for d in reopened.search("t1", FindingQuery(service="ec2")).findings
    ] == [make_doc("t1", 2)["finding_id"]]
    assert len(reopened.search("t1", FindingQuery(q="number")).findings) == 2


def test_the_facets_index_holds_every_facet_field() -> None:
    assert sorted(_FACET_COLUMNS) == sorted(FACET_FIELDS)


def _facet_statements(index: SqliteIndex, query: FindingQuery) -> list[str]:
    """SQLite's plan of each facet statement `search` runs for `query`."""
    conn = index._conn()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        index.search("t1", query)
    finally:
        conn.set_trace_callback(None)
    return [
        " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
        for sql in statements
        if "GROUP BY" in sql
    ]


def test_facets_walk_the_covering_index_or_the_text_matches(tmp_path: Path) -> None:
    index = SqliteIndex(str(tmp_path / "search.db"))
    index.upsert("t1", [make_doc("t1", n) for n in range(5)])

    for query in (
        FindingQuery(facets="severity,rule_id,pipeline"),
        FindingQuery(facets="status", severity="high"),
    ):
        [plan] = _facet_statements(index, query)
        assert "USING COVERING INDEX findings_facets (tenant_id=?)" in plan
        assert "TEMP B-TREE" not in plan
    [by_text] = _facet_statements(index, FindingQuery(facets="status", severity="high", q="n"))
    assert by_text.startswith("SEARCH f USING INTEGER PRIMARY KEY (rowid=?)")
    [by_scan] = _facet_statements(index, FindingQuery(facets="severity", scan_id="scn_1"))
    assert "INDEX findings_scan (tenant_id=? AND scan_id=?)" in by_scan


def test_an_index_file_without_the_facets_index_gets_it(tmp_path: Path) -> None:
    path = str(tmp_path / "search.db")
    SqliteIndex(path).upsert("t1", [make_doc("t1", 1), make_doc("t1", 2, severity="low")])
    old = sqlite3.connect(path)
    old.execute("DROP INDEX findings_facets")
    old.commit()
    old.close()

    page = SqliteIndex(path).search("t1", FindingQuery(facets="severity"))

    assert page.facets is not None
    assert [(c.value, c.count) for c in page.facets["severity"]] == [("high", 1), ("low", 1)]


def test_grouped_writes_are_one_transaction_kept_whole_or_not_at_all(tmp_path: Path) -> None:
    path = str(tmp_path / "search.db")
    index = SqliteIndex(path)
    with pytest.raises(RuntimeError), index.grouped():
        index.upsert("t1", [make_doc("t1", 1)])
        index.upsert("t2", [make_doc("t2", 2)])
        raise RuntimeError("the batch was cut short")
    assert index.search("t1", FindingQuery()).findings == []
    with index.grouped():
        index.upsert("t1", [make_doc("t1", 1)])
        index.upsert("t2", [make_doc("t2", 2)])
        other = sqlite3.connect(path)
        assert other.execute("SELECT count(*) FROM findings").fetchone()[0] == 0
    assert other.execute("SELECT count(*) FROM findings").fetchone()[0] == 2
