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
    # 4: the scan stream, the findings change log (written by triggers, in the transaction of
    # the change), the consumers' checkpoints and their dead letters
    (
        """CREATE TABLE stream_shards (
            stream TEXT PRIMARY KEY,
            shards INTEGER NOT NULL CHECK (shards > 0)
        ) WITHOUT ROWID""",
        "INSERT INTO stream_shards (stream, shards) VALUES ('scans', 4), ('findings', 4)",
        """CREATE TABLE stream_records (
            sequence      INTEGER PRIMARY KEY AUTOINCREMENT,
            shard         INTEGER NOT NULL,
            partition_key TEXT NOT NULL,
            arrived_at    REAL NOT NULL,
            data          BLOB NOT NULL
        )""",
        "CREATE INDEX stream_records_by_shard ON stream_records (shard, sequence)",
        """CREATE TABLE finding_changes (
            sequence   INTEGER PRIMARY KEY AUTOINCREMENT,
            shard      INTEGER NOT NULL,
            event_name TEXT NOT NULL CHECK (event_name IN ('INSERT', 'MODIFY', 'REMOVE')),
            tenant_id  TEXT NOT NULL,
            finding_id TEXT NOT NULL,
            new_image  TEXT,
            changed_at REAL NOT NULL
        )""",
        "CREATE INDEX finding_changes_by_shard ON finding_changes (shard, sequence)",
        # A finding's shard: its id's last two characters, so its changes stay in order.
        *(
            f"""CREATE TRIGGER findings_{event.lower()} AFTER {op} ON findings {when}BEGIN
                INSERT INTO finding_changes
                    (shard, event_name, tenant_id, finding_id, new_image, changed_at)
                VALUES (
                    (coalesce(unicode(substr({row}.finding_id, -1)), 0)
                     + 31 * coalesce(unicode(substr({row}.finding_id, -2, 1)), 0))
                    % (SELECT shards FROM stream_shards WHERE stream = 'findings'),
                    '{event}', {row}.tenant_id, {row}.finding_id, {image},
                    (julianday('now') - 2440587.5) * 86400.0);
            END"""
            for op, event, row, image, when in (
                ("INSERT", "INSERT", "NEW", "NEW.doc", ""),
                ("UPDATE", "MODIFY", "NEW", "NEW.doc", "WHEN OLD.doc IS NOT NEW.doc "),
                ("DELETE", "REMOVE", "OLD", "NULL", ""),
            )
        ),
        """CREATE TABLE stream_checkpoints (
            stream   TEXT NOT NULL,
            consumer TEXT NOT NULL,
            shard    INTEGER NOT NULL,
            sequence INTEGER NOT NULL,
            PRIMARY KEY (stream, shard, consumer)
        ) WITHOUT ROWID""",
        """CREATE TABLE dead_letters (
            letter_id  INTEGER PRIMARY KEY AUTOINCREMENT,
            source     TEXT NOT NULL,
            condition  TEXT NOT NULL,
            attempts   INTEGER NOT NULL,
            at         REAL NOT NULL,
            visible_at REAL NOT NULL,
            body       TEXT NOT NULL
        )""",
        "CREATE INDEX dead_letters_by_visibility ON dead_letters (visible_at, letter_id)",
    ),
    # 5: the account-scan job queue and its dead-letter queue (`queue` names which); `seq`
    # orders the jobs, `visible_at` (epoch ms) is when a job can be received, `receipt` names
    # its latest delivery
    (
        """CREATE TABLE jobs (
            seq               INTEGER PRIMARY KEY,
            job_id            TEXT NOT NULL UNIQUE,
            queue             TEXT NOT NULL,
            tenant_id         TEXT NOT NULL,
            body              TEXT NOT NULL,
            sent_at           INTEGER NOT NULL,
            visible_at        INTEGER NOT NULL,
            receive_count     INTEGER NOT NULL DEFAULT 0,
            first_received_at INTEGER,
            receipt           TEXT,
            dead_lettered_at  INTEGER
        )""",
        "CREATE INDEX jobs_by_visibility ON jobs (queue, visible_at, seq)",
    ),
    # 6: the alert outbox (delivered to a webhook) and the one-use upload grants
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
    # 7: blobs up to `blobs.INLINE_LIMIT` bytes, kept in the database (larger ones are files)
    (
        """CREATE TABLE blobs (
            tenant_id TEXT NOT NULL,
            key       TEXT NOT NULL,
            data      BLOB NOT NULL,
            PRIMARY KEY (tenant_id, key)
        )""",
    ),
    # 8: trend counters per tenant, day, pipeline and severity; the version of each finding
    # they hold (changes at or below it are not counted again); each fix's time to fix
    (
        """CREATE TABLE trend_applied (
            tenant_id  TEXT NOT NULL,
            finding_id TEXT NOT NULL,
            version    INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, finding_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE trend_days (
            tenant_id TEXT NOT NULL,
            day       TEXT NOT NULL,
            pipeline  TEXT NOT NULL,
            severity  TEXT NOT NULL,
            field     TEXT NOT NULL,
            amount    INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, day, pipeline, severity, field)
        ) WITHOUT ROWID""",
        """CREATE TABLE trend_fixes (
            tenant_id  TEXT NOT NULL,
            finding_id TEXT NOT NULL,
            version    INTEGER NOT NULL,
            day        TEXT NOT NULL,
            pipeline   TEXT NOT NULL,
            severity   TEXT NOT NULL,
            seconds    REAL NOT NULL,
            PRIMARY KEY (tenant_id, finding_id, version)
        ) WITHOUT ROWID""",
        "CREATE INDEX trend_fixes_by_day ON trend_fixes (tenant_id, day)",
    ),
)
