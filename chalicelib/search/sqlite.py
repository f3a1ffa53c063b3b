"""Embedded search adapter: SQLite with an FTS5 full-text index (the local stack's default).

One table holds each finding (keyed by tenant and finding id) with its JSON document and the
filter columns; an external-content FTS5 table over title, message, path, resource and rule_id,
kept in step by triggers, answers `q`. Each thread gets its own connection (WAL mode, busy
timeout), so an HTTP server thread and an indexing thread can share one `SqliteIndex`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

from chalicelib.search.port import (
    FACET_SIZE,
    FILTER_FIELDS,
    FacetCount,
    FindingPage,
    FindingQuery,
    decode_cursor,
    encode_cursor,
    text_terms,
)
from chalicelib.sqlite_threads import ThreadConnections

_BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS findings (
    id            INTEGER PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    finding_id    TEXT NOT NULL,
    scan_id       TEXT,
    pipeline      TEXT,
    severity      TEXT,
    rule_id       TEXT,
    artifact_type TEXT,
    status        TEXT,
    title         TEXT,
    message       TEXT,
    path          TEXT,
    resource      TEXT,
    account       TEXT,
    region        TEXT,
    service       TEXT,
    tenant_token  TEXT NOT NULL,
    doc           TEXT NOT NULL,
    UNIQUE (tenant_id, finding_id)
);
CREATE INDEX IF NOT EXISTS findings_scan ON findings (tenant_id, scan_id, finding_id);
CREATE INDEX IF NOT EXISTS findings_pipeline ON findings (tenant_id, pipeline, finding_id);
CREATE INDEX IF NOT EXISTS findings_rule ON findings (tenant_id, rule_id, finding_id);
CREATE INDEX IF NOT EXISTS findings_severity ON findings (tenant_id, severity, finding_id);
CREATE INDEX IF NOT EXISTS findings_status ON findings (tenant_id, status, finding_id);
CREATE VIRTUAL TABLE IF NOT EXISTS findings_fts USING fts5(
    tenant_token, title, message, path, resource, rule_id,
    content='findings', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS findings_ai AFTER INSERT ON findings BEGIN
    INSERT INTO findings_fts (rowid, tenant_token, title, message, path, resource, rule_id)
    VALUES (new.id, new.tenant_token, new.title, new.message, new.path, new.resource,
            new.rule_id);
END;
CREATE TRIGGER IF NOT EXISTS findings_ad AFTER DELETE ON findings BEGIN
    INSERT INTO findings_fts (findings_fts, rowid, tenant_token, title, message, path, resource,
                              rule_id)
    VALUES ('delete', old.id, old.tenant_token, old.title, old.message, old.path, old.resource,
            old.rule_id);
END;
CREATE TRIGGER IF NOT EXISTS findings_au AFTER UPDATE ON findings BEGIN
    INSERT INTO findings_fts (findings_fts, rowid, tenant_token, title, message, path, resource,
                              rule_id)
    VALUES ('delete', old.id, old.tenant_token, old.title, old.message, old.path, old.resource,
            old.rule_id);
    INSERT INTO findings_fts (rowid, tenant_token, title, message, path, resource, rule_id)
    VALUES (new.id, new.tenant_token, new.title, new.message, new.path, new.resource,
            new.rule_id);
END;
COMMIT;
"""
# Filter columns added after the first release: added to an index file that lacks them.
_ADDED_COLUMNS = ("account", "region", "service")
# The facet fields, in the order of the `findings_facets` index (most distinct values first).
_FACET_COLUMNS = ("rule_id", "pipeline", "severity", "artifact_type", "status")
# Indexes of the filters outside the facet columns, most selective first.
_NARROWER_INDEXES = {
    "scan_id": "findings_scan",
    "account": "findings_account",
    "service": "findings_service",
}
_ADDED_INDEXES = f"""
CREATE INDEX IF NOT EXISTS findings_account ON findings (tenant_id, account, finding_id);
CREATE INDEX IF NOT EXISTS findings_service ON findings (tenant_id, service, finding_id);
CREATE INDEX IF NOT EXISTS findings_facets ON findings (tenant_id, {", ".join(_FACET_COLUMNS)});
"""

_COLUMNS = (
    "tenant_id",
    "finding_id",
    *FILTER_FIELDS,
    "title",
    "message",
    "path",
    "resource",
    "tenant_token",
)
_UPSERT = (
    f"INSERT INTO findings ({', '.join(_COLUMNS)}, doc) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}, ?) "
    "ON CONFLICT (tenant_id, finding_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS[2:], "doc"))
)


def tenant_token(tenant_id: str) -> str:
    """One full-text token per tenant (letters and digits only, so the tokenizer keeps it)."""
    return "tn" + hashlib.sha256(tenant_id.encode("utf-8")).hexdigest()[:24]


def fts_query(q: str | None) -> str | None:
    """FTS5 MATCH expression for user text: each term a quoted phrase, the last one a prefix.

    Quoting turns FTS5 operators (`AND`, `NEAR(`, `*`, `:`) into plain words, so no input can
    cause an FTS5 syntax error. None when `q` holds no searchable word.
    """
    terms = text_terms(q)
    if not terms:
        return None
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    quoted[-1] += "*"
    return " ".join(quoted)


def _by_count_then_value(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _where(
    tenant_id: str, query: FindingQuery, *, tested: bool = False, from_text: bool = False
) -> tuple[list[str], list[Any]]:
    """WHERE terms and parameters of `query`'s filters and text (not its cursor). `tested`
    filters are checked on each row, never used to pick an index (`+f.x = ?`); `from_text`
    (with `tested`) leaves the full-text match set as the only way in: rows by rowid."""
    where = [f"{'+' if from_text else ''}f.tenant_id = ?"]
    params: list[Any] = [tenant_id]
    for field in FILTER_FIELDS:
        value = getattr(query, field)
        if value is not None:
            where.append(f"{'+' if tested else ''}f.{field} = ?")
            params.append(value)
    match = fts_query(query.q)
    if match is not None:
        # The tenant's token narrows the full-text match to its own rows; `f.tenant_id = ?`
        # above stays the rule. `+f.id` keeps SQLite from looking up each match by rowid
        # and sorting them all: it walks the tenant's (filter, finding_id) index in page
        # order instead, testing membership in the match set, and stops at the page's end.
        where.append(
            f"{'' if from_text else '+'}f.id IN "
            "(SELECT rowid FROM findings_fts WHERE findings_fts MATCH ?)"
        )
        params.append(
            f'tenant_token : "{tenant_token(tenant_id)}" AND '
            f"{{title message path resource rule_id}} : ({match})"
        )
    return where, params


def _json_default(value: Any) -> Any:
    """Numbers from DynamoDB arrive as Decimal; sets as sets."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class SqliteIndex:
    """`SearchIndex` over one SQLite file, safe to share between threads of one process."""

    def __init__(self, path: str) -> None:
        if not path or path == ":memory:" or path.startswith("file::memory:"):
            raise ValueError("SqliteIndex needs a file path: each thread opens its own connection")
        self.path = path
        self._connections = ThreadConnections(self._open)
        conn = self._conn()
        conn.executescript(_SCHEMA)
        with self._write() as conn:
            have = {row[1] for row in conn.execute("PRAGMA table_info(findings)")}
            for column in _ADDED_COLUMNS:
                if column not in have:
                    conn.execute(f"ALTER TABLE findings ADD COLUMN {column} TEXT")
        conn.executescript(_ADDED_INDEXES)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction, taking the write lock up front (no lock upgrade, no deadlock),
        or a savepoint of the thread's group."""
        return self._connections.write()

    def grouped(self) -> AbstractContextManager[None]:
        """The thread's writes in the block as one transaction (see `sqlite_threads`)."""
        return self._connections.grouped()

    def close(self) -> None:
        """Close the calling thread's connection (others close when their thread ends)."""
        self._connections.close()

    def upsert(self, tenant_id: str, docs: list[dict[str, Any]]) -> None:
        """Insert or replace documents by (tenant, finding id), all in one transaction."""
        rows = []
        token = tenant_token(tenant_id)
        for doc in docs:
            if doc.get("tenant_id") != tenant_id:
                raise ValueError(f"document tenant {doc.get('tenant_id')!r} is not {tenant_id!r}")
            if not doc.get("finding_id"):
                raise ValueError("document without finding_id")
            values = [_text(doc.get(column)) for column in _COLUMNS[:-1]] + [token]
            rows.append((*values, json.dumps(doc, separators=(",", ":"), default=_json_default)))
        if not rows:
            return
        with self._write() as conn:
            conn.executemany(_UPSERT, rows)

    def delete(self, tenant_id: str, finding_ids: list[str]) -> None:
        """Delete this tenant's documents with these ids; other tenants' rows are never touched."""
        if not finding_ids:
            return
        with self._write() as conn:
            conn.executemany(
                "DELETE FROM findings WHERE tenant_id = ? AND finding_id = ?",
                [(tenant_id, finding_id) for finding_id in finding_ids],
            )

    def search(self, tenant_id: str, query: FindingQuery) -> FindingPage:
        """One page of this tenant's matching documents, by ascending finding id, and the
        facets asked for (over every match, the cursor ignored)."""
        where, params = _where(tenant_id, query)
        if query.cursor is not None:
            where.append("f.finding_id > ?")
            params.append(decode_cursor(query.cursor))
        sql = (
            "SELECT f.finding_id, f.doc FROM findings AS f WHERE "
            + " AND ".join(where)
            + " ORDER BY f.finding_id LIMIT ?"
        )
        conn = self._conn()
        rows = conn.execute(sql, [*params, query.limit + 1]).fetchall()
        page = rows[: query.limit]
        findings = []
        for _, doc_json in page:
            doc = json.loads(doc_json)
            doc.pop("tenant_id", None)
            findings.append(doc)
        next_cursor = encode_cursor(page[-1][0]) if len(rows) > query.limit else None
        facets = None
        if query.facet_fields:
            facets = self._facets(conn, tenant_id, query)
        return FindingPage(findings=findings, next_cursor=next_cursor, facets=facets)

    @staticmethod
    def _facets(
        conn: sqlite3.Connection, tenant_id: str, query: FindingQuery
    ) -> dict[str, list[FacetCount]]:
        """Top values of each facet field among the matches, from one statement.

        It groups the matches by the `findings_facets` columns up to the last one asked for,
        in that index's order: SQLite walks the tenant's index entries once, aggregating as it
        goes (no table rows, no sort), and the few groups are summed per field here. With `q`
        it reads the rows of the full-text match set by rowid instead (a fraction of the
        tenant: measured faster than walking the whole tenant). A filter outside those
        columns (`scan_id`, `account`, ...) narrows better through its own index (SQLite, to
        skip a sort, would walk the facets index and read every row of the tenant).
        """
        from_text = fts_query(query.q) is not None
        covered = not from_text and all(
            getattr(query, f) is None for f in FILTER_FIELDS if f not in _FACET_COLUMNS
        )
        # An equality on a grouped column, used as an index bound, would cost a sort.
        where, params = _where(tenant_id, query, tested=covered or from_text, from_text=from_text)
        fields = query.facet_fields
        grouped = ", ".join(
            f"f.{c}" for c in _FACET_COLUMNS[: 1 + max(map(_FACET_COLUMNS.index, fields))]
        )
        index = "findings_facets" if covered else None
        for field, narrower in _NARROWER_INDEXES.items():
            if index is None and not from_text and getattr(query, field) is not None:
                index = narrower
        sql = (
            f"SELECT {grouped}, count(*) FROM findings AS f"
            + (f" INDEXED BY {index}" if index else "")
            + " WHERE "
            + " AND ".join(where)
            + f" GROUP BY {grouped}"
        )
        tallies: dict[str, Counter[str]] = {field: Counter() for field in fields}
        positions = [(field, _FACET_COLUMNS.index(field)) for field in fields]
        for row in conn.execute(sql, params):
            for field, position in positions:
                if row[position] is not None:
                    tallies[field][row[position]] += row[-1]
        return {
            field: [
                FacetCount(value=value, count=count)
                for value, count in sorted(tally.items(), key=_by_count_then_value)[:FACET_SIZE]
            ]
            for field, tally in tallies.items()
        }

    def clear(self) -> None:
        """Drop every document of every tenant."""
        with self._write() as conn:
            conn.execute("DELETE FROM findings")
