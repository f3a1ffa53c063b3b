"""Who hears about failing scans: per-tenant email settings, immediate alerts, daily digests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chalicelib import audit
from chalicelib.config import settings
from chalicelib.errors import from_pydantic
from chalicelib.models import SEVERITY_ORDER, Severity
from chalicelib.stores import scans
from chalicelib.stores.backend import stores
from chalicelib.stores.ports import Email

# the local part: no space, control character or character that needs quoting (RFC 5322)
_EMAIL = re.compile(
    r'^[^@\s\x00-\x1f\x7f<>()\[\]\\,;:"]{1,64}'  # the local part
    r"@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$"
)
SETTING = "notifications"


class NotificationSettings(BaseModel):
    """`PUT /v1/notifications`: where a tenant's alerts and digests go."""

    model_config = ConfigDict(extra="forbid")

    emails: list[str] = Field(default_factory=list, max_length=20)
    min_severity: Severity = Severity.HIGH
    alert_on_fail: bool = True
    daily_digest: bool = True

    @field_validator("emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if not _EMAIL.fullmatch(email):
                raise ValueError(f"{email!r} is not an email address")
        return emails


def get(tenant_id: str) -> NotificationSettings:
    stored = stores().settings.get(tenant_id, SETTING)
    return NotificationSettings.model_validate(stored) if stored else NotificationSettings()


def put(tenant_id: str, document: dict[str, Any], actor: str) -> NotificationSettings:
    """Replace the tenant's settings, audited (`notifications.update`) in the same write."""
    try:
        chosen = NotificationSettings.model_validate(document)
    except ValidationError as exc:
        raise from_pydantic(exc, "the notification settings") from None
    before = get(tenant_id).model_dump(mode="json")
    after = chosen.model_dump(mode="json")
    entry = audit.new_entry(tenant_id, actor, "notifications.update", SETTING, before, after)
    stores().settings.put(tenant_id, SETTING, after, entry)
    return chosen


def worst(counts: dict[str, int]) -> Severity | None:
    return next((s for s in reversed(SEVERITY_ORDER) if counts.get(s.value)), None)


def email_alert(tenant_id: str, scan: dict[str, Any], counts: dict[str, int]) -> None:
    """Email the tenant's addresses about a failed scan, if its settings ask for it."""
    chosen = get(tenant_id)
    top = worst(counts)
    if not (
        chosen.emails and chosen.alert_on_fail and top and top.rank >= chosen.min_severity.rank
    ):
        return
    lines = [
        f"Pipeline {scan['pipeline']} (run {scan['run_id']}) failed its policy.",
        "Findings: "
        + ", ".join(f"{counts.get(s.value, 0)} {s.value}" for s in reversed(SEVERITY_ORDER)),
        f"Scan: {scan['scan_id']}",
    ]
    _send(chosen.emails, f"Pipeguard: {scan['pipeline']} failed policy", "\n".join(lines))


def send_digests(now: datetime | None = None) -> int:
    """Email each tenant that wants one a summary of the last 24 hours; returns how many."""
    now = now or datetime.now(UTC)
    since = (now - timedelta(days=1)).isoformat(timespec="milliseconds")
    sent = 0
    for tenant_id in stores().settings.tenants_with(SETTING):
        chosen = get(tenant_id)
        if not (chosen.emails and chosen.daily_digest):
            continue
        recent = scans.received_since(tenant_id, since)
        failed = [s for s in recent if s.get("verdict") == "fail"]
        totals = {s.value: 0 for s in SEVERITY_ORDER}
        for scan in recent:
            for severity, n in (scan.get("counts") or {}).items():
                totals[severity] = totals.get(severity, 0) + n
        pipelines = sorted({s["pipeline"] for s in failed})
        body = "\n".join(
            [
                f"Scans in the last 24 hours: {len(recent)}, failed: {len(failed)}.",
                "Findings: "
                + ", ".join(f"{totals[s.value]} {s.value}" for s in reversed(SEVERITY_ORDER)),
                "Failing pipelines: " + (", ".join(pipelines) if pipelines else "none"),
            ]
        )
        _send(
            chosen.emails,
            f"Pipeguard daily digest: {len(failed)} of {len(recent)} scans failed",
            body,
        )
        sent += 1
    return sent


def _send(to: list[str], subject: str, body: str) -> None:
    """Through the backend's mailer: SES on AWS, SMTP or .eml files embedded."""
    stores().mail.send(Email(settings().alert_sender, tuple(to), subject, body))
