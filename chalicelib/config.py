"""Runtime settings, read from the environment (`.chalice/config.json` or the local stack)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    """Names of the resources the handlers talk to, and service limits."""

    region: str
    backend: str
    home: str
    tenants_table: str
    scans_table: str
    findings_table: str
    artifact_bucket: str
    scan_stream: str
    alert_topic_arn: str
    alert_sender: str
    dead_letter_queue_url: str
    account_scan_queue: str
    account_scan_queue_url: str
    account_scan_attempts: int
    search_backend: str
    search_sqlite_path: str
    opensearch_endpoint: str
    opensearch_index: str
    max_request_bytes: int
    max_artifact_bytes: int
    max_artifacts_per_scan: int
    max_upload_bytes: int
    upload_expiry_seconds: int
    stream_shards: int = 4
    trends_table: str = "pipeguard-trends"
    alert_webhook: str = ""
    smtp_url: str = ""
    smtp_user: str = ""
    smtp_password: str = ""
    public_url: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            region=env("AWS_REGION") or env("AWS_DEFAULT_REGION") or "us-east-1",
            backend=env("PIPEGUARD_BACKEND", "aws"),
            home=env("PIPEGUARD_HOME", ".local"),
            tenants_table=env("TENANTS_TABLE", "pipeguard-tenants"),
            scans_table=env("SCANS_TABLE", "pipeguard-scans"),
            findings_table=env("FINDINGS_TABLE", "pipeguard-findings"),
            artifact_bucket=env("ARTIFACT_BUCKET", "pipeguard-artifacts"),
            scan_stream=env("SCAN_STREAM", "pipeguard-scans"),
            alert_topic_arn=env("ALERT_TOPIC_ARN", ""),
            alert_sender=env("ALERT_SENDER", "alerts@pipeguard.local"),
            dead_letter_queue_url=env("DEAD_LETTER_QUEUE_URL", ""),
            account_scan_queue=env("ACCOUNT_SCAN_QUEUE", "pipeguard-account-scans"),
            account_scan_queue_url=env("ACCOUNT_SCAN_QUEUE_URL", ""),
            # the queue's redrive policy moves a job to its dead-letter queue after this many
            account_scan_attempts=int(env("ACCOUNT_SCAN_ATTEMPTS", "3")),
            search_backend=env("SEARCH_BACKEND", "sqlite"),
            search_sqlite_path=env("SEARCH_SQLITE_PATH") or _default_search_path(),
            opensearch_endpoint=env("OPENSEARCH_ENDPOINT", ""),
            opensearch_index=env("OPENSEARCH_INDEX", "pipeguard-findings"),
            # Lambda takes at most 6 MB per invocation event, body included.
            max_request_bytes=int(env("MAX_REQUEST_BYTES", str(5 * 1024 * 1024))),
            max_artifact_bytes=int(env("MAX_ARTIFACT_BYTES", str(1024 * 1024))),
            max_artifacts_per_scan=int(env("MAX_ARTIFACTS_PER_SCAN", "100")),
            max_upload_bytes=int(env("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024))),
            upload_expiry_seconds=int(env("UPLOAD_EXPIRY_SECONDS", "900")),
            # the embedded scan stream's and findings change log's shards
            stream_shards=int(env("PIPEGUARD_STREAM_SHARDS", "4")),
            trends_table=env("TRENDS_TABLE", "pipeguard-trends"),
            # embedded backend: where alerts, e-mail and uploads go
            alert_webhook=env("PIPEGUARD_ALERT_WEBHOOK", ""),
            smtp_url=env("PIPEGUARD_SMTP_URL", ""),
            smtp_user=env("PIPEGUARD_SMTP_USER", ""),
            smtp_password=env("PIPEGUARD_SMTP_PASSWORD", ""),
            public_url=env("PIPEGUARD_PUBLIC_URL", ""),
        )

    @property
    def database_path(self) -> str:
        """The embedded backend's SQLite file, inside the state directory."""
        return os.path.join(self.home, DATABASE_NAME)

    @property
    def mail_outbox(self) -> str:
        """Where the embedded backend writes e-mail as .eml files when no SMTP server is set."""
        return os.path.join(self.home, "outbox")


DATABASE_NAME = "pipeguard.db"
SEARCH_INDEX_NAME = "search.db"


def _default_search_path() -> str:
    """The embedded backend keeps its search index in the state directory (backed up with
    it); otherwise a file in /tmp."""
    if os.environ.get("PIPEGUARD_BACKEND", "aws").strip().lower() == "embedded":
        return os.path.join(os.environ.get("PIPEGUARD_HOME", ".local"), SEARCH_INDEX_NAME)
    return "/tmp/pipeguard-search.db"


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings (environment read once)."""
    return Settings.from_env()
