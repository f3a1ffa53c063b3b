"""The embedded adapters of the ports: one SQLite file (WAL mode) in the state directory, and
blobs in it, or as files in its `blobs/` directory when they are large."""

from __future__ import annotations

from chalicelib.stores.ports import Stores

BLOB_DIRECTORY = "blobs"


def build(path: str) -> Stores:
    """Every port on the database at `path` (created and migrated on first use); large blobs
    in `blobs/` beside it."""
    from pathlib import Path

    from chalicelib.config import settings
    from chalicelib.stores.embedded.accounts import SqliteAccounts
    from chalicelib.stores.embedded.audit import SqliteAuditLog
    from chalicelib.stores.embedded.blobs import EmbeddedBlobs
    from chalicelib.stores.embedded.database import Database
    from chalicelib.stores.embedded.dead_letters import SqliteDeadLetters
    from chalicelib.stores.embedded.findings import SqliteFindings
    from chalicelib.stores.embedded.jobs import SqliteJobs
    from chalicelib.stores.embedded.mail import LocalMail
    from chalicelib.stores.embedded.outbox import SqliteAlertOutbox
    from chalicelib.stores.embedded.policies import SqlitePolicies
    from chalicelib.stores.embedded.scans import SqliteScans
    from chalicelib.stores.embedded.settings import SqliteSettings
    from chalicelib.stores.embedded.stream import SqliteScanStream
    from chalicelib.stores.embedded.tenants import SqliteTenants
    from chalicelib.stores.embedded.trends import SqliteTrends
    from chalicelib.stores.embedded.upload_forms import SignedUploadForms
    from chalicelib.stores.embedded.waivers import SqliteWaivers

    database = Database(path)
    return Stores(
        tenants=SqliteTenants(database),
        policies=SqlitePolicies(database),
        audit=SqliteAuditLog(database),
        waivers=SqliteWaivers(database),
        settings=SqliteSettings(database),
        scans=SqliteScans(database),
        findings=SqliteFindings(database),
        blobs=EmbeddedBlobs(database, Path(path).parent / BLOB_DIRECTORY),
        accounts=SqliteAccounts(database),
        jobs=SqliteJobs(database),
        stream=SqliteScanStream(database, settings().stream_shards),
        dead_letters=SqliteDeadLetters(database),
        alerts=SqliteAlertOutbox(database),
        mail=LocalMail(Path(path).parent),
        uploads=SignedUploadForms(database),
        trends=SqliteTrends(database),
    )
