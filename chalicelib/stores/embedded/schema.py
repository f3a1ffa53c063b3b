"""The embedded database's schema: migrations in order; the file's `user_version` counts those
applied. Append a migration for every change (never edit one that was released)."""

from __future__ import annotations

APPLICATION_ID = 0x50475244  # "PGRD": marks a file as this application's database

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the tenancy stores
    (
        """CREATE TABLE tenants (
            tenant_id TEXT PRIMARY KEY,
            status    TEXT NOT NULL,
            doc       TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE api_keys (
            key_hash  TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL,
            key_id    TEXT NOT NULL,
            doc       TEXT NOT NULL,
            UNIQUE (tenant_id, key_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE policy_versions (
            tenant_id  TEXT NOT NULL,
            version    INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            document   TEXT NOT NULL,
            PRIMARY KEY (tenant_id, version)
        ) WITHOUT ROWID""",
        """CREATE TABLE policy_pointers (
            tenant_id  TEXT PRIMARY KEY,
            version    INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE audit_log (
            tenant_id TEXT NOT NULL,
            position  TEXT NOT NULL,
            at        TEXT NOT NULL,
            nonce     TEXT NOT NULL,
            actor     TEXT NOT NULL,
            action    TEXT NOT NULL,
            target    TEXT NOT NULL,
            before    TEXT NOT NULL,
            after     TEXT NOT NULL,
            PRIMARY KEY (tenant_id, position)
        ) WITHOUT ROWID""",
        """CREATE TABLE waivers (
            tenant_id TEXT NOT NULL,
            waiver_id TEXT NOT NULL,
            doc       TEXT NOT NULL,
            PRIMARY KEY (tenant_id, waiver_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE settings (
            tenant_id TEXT NOT NULL,
            name      TEXT NOT NULL,
            doc       TEXT NOT NULL,
            PRIMARY KEY (tenant_id, name)
        ) WITHOUT ROWID""",
        "CREATE INDEX settings_by_name ON settings (name, tenant_id)",
    ),
    # 2: scans and findings
    (
        """CREATE TABLE scans (
            tenant_id    TEXT NOT NULL,
            scan_id      TEXT NOT NULL,
            pipeline_key TEXT,
            received_at  TEXT,
            status       TEXT,
            doc          TEXT NOT NULL,
            PRIMARY KEY (tenant_id, scan_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX scans_by_pipeline ON scans (pipeline_key, received_at, scan_id)",
        """CREATE TABLE findings (
            tenant_id    TEXT NOT NULL,
            finding_id   TEXT NOT NULL,
            artifact_key TEXT,
            pipeline_key TEXT,
            doc          TEXT NOT NULL,
            PRIMARY KEY (tenant_id, finding_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX findings_by_artifact ON findings (artifact_key, finding_id)",
        "CREATE INDEX findings_by_pipeline ON findings (pipeline_key, finding_id)",
    ),
    # 3: registered AWS accounts (the sweep reads them by next scan)
    (
        """CREATE TABLE accounts (
            tenant_id    TEXT NOT NULL,
            account_id   TEXT NOT NULL,
            next_scan_at TEXT NOT NULL,
            doc          TEXT NOT NULL,
            PRIMARY KEY (tenant_id, account_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX accounts_by_next_scan ON accounts (next_scan_at)",
    ),
    # 4: the alert outbox (delivered to a webhook) and the one-use upload grants
    (
        """CREATE TABLE alert_outbox (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            alert_id     TEXT NOT NULL UNIQUE,
            tenant_id    TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            subject      TEXT NOT NULL,
            message      TEXT NOT NULL,
            attributes   TEXT NOT NULL,
            attempts     INTEGER NOT NULL DEFAULT 0,
            next_attempt REAL NOT NULL DEFAULT 0,
            delivered_at TEXT,
            last_error   TEXT
        )""",
        "CREATE INDEX alert_outbox_pending ON alert_outbox (delivered_at, next_attempt)",
        """CREATE TABLE upload_grants (
            upload_id  TEXT PRIMARY KEY,
            tenant_id  TEXT NOT NULL,
            used_at    TEXT
        ) WITHOUT ROWID""",
        """CREATE TABLE signing_secrets (
            name   TEXT PRIMARY KEY,
            secret BLOB NOT NULL
        ) WITHOUT ROWID""",
    ),
)
