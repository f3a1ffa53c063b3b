"""The findings search port and its adapters (SQLite FTS5 embedded, OpenSearch deployed)."""
