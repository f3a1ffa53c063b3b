"""Waivers: a tenant accepts a finding or a rule on a scope, with a reason, an approver and an
expiry. Waived findings stay visible as waived and do not fail the verdict until it expires."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib import audit
from chalicelib.errors import Conflict
from chalicelib.stores.backend import stores
from chalicelib.stores.ports import NotWritten

MAX_DAYS = 366
WAIVER_ID = re.compile(r"^wvr_[0-9a-f]{20}$")


class WaiverRequest(BaseModel):
    """`POST /v1/waivers`: what is waived (a finding, or a rule on an optional scope) and why."""

    model_config = ConfigDict(extra="forbid")

    finding_id: str | None = Field(default=None, pattern=r"^fnd_[0-9a-f]{24}$")
    rule_id: str | None = Field(default=None, min_length=1, max_length=300)
    pipeline: str | None = Field(default=None, min_length=1, max_length=200)
    path: str | None = Field(default=None, min_length=1, max_length=1024)
    resource: str | None = Field(default=None, min_length=1, max_length=512)
    justification: str = Field(min_length=10, max_length=2000)
    approver: str = Field(min_length=1, max_length=200)
    expires_at: datetime

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: datetime) -> datetime:
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        now = datetime.now(UTC)
        if value <= now:
            raise ValueError("must be in the future")
        if value > now + timedelta(days=MAX_DAYS):
            raise ValueError(f"must be at most {MAX_DAYS} days ahead: waivers are reviewed")
        return value

    @field_validator("rule_id")
    @classmethod
    def _rule_exists(cls, rule_id: str | None) -> str | None:
        from chalicelib.engine import imported
        from chalicelib.engine.registry import get_rule

        if rule_id and imported.is_imported(rule_id):
            if not imported.valid_reference(rule_id, packs=False):
                raise ValueError(f"{rule_id[:80]!r} is no imported rule id sarif:<tool>/<rule>")
            return rule_id
        if rule_id and not rule_id.startswith("X-") and get_rule(rule_id) is None:
            raise ValueError(f"no rule {rule_id!r}")
        return rule_id

    @model_validator(mode="after")
    def _names_something(self) -> WaiverRequest:
        if not self.finding_id and not self.rule_id:
            raise ValueError("name a finding_id, or a rule_id (with an optional scope)")
        return self


def create(tenant_id: str, request: WaiverRequest, actor: str, now: str) -> dict[str, Any]:
    """Store a new waiver together with its audit entry (`waiver.create`); returns it."""
    waiver = {
        "waiver_id": "wvr_" + uuid.uuid4().hex[:20],
        **request.model_dump(mode="json"),
        "status": "active",
        "created_by": actor,
        "created_at": now,
    }
    entry = audit.new_entry(tenant_id, actor, "waiver.create", waiver["waiver_id"], None, waiver)
    stores().waivers.create(tenant_id, waiver, entry)
    return waiver


def get(tenant_id: str, waiver_id: str) -> dict[str, Any] | None:
    return stores().waivers.get(tenant_id, waiver_id)


def all_of(tenant_id: str) -> list[dict[str, Any]]:
    return stores().waivers.all(tenant_id)


def revoke(tenant_id: str, waiver_id: str, actor: str, now: str) -> dict[str, Any] | None:
    """Revoke a waiver of this tenant together with its audit entry (`waiver.revoke`);
    returns the revoked waiver, None if it is not the tenant's."""
    for _ in range(3):
        before = get(tenant_id, waiver_id)
        if before is None:
            return None
        after = {**before, "status": "revoked", "revoked_at": now}
        entry = audit.new_entry(tenant_id, actor, "waiver.revoke", waiver_id, before, after)
        try:
            stores().waivers.revoke(tenant_id, waiver_id, before["status"], now, entry)
        except NotWritten:
            continue  # changed since it was read: read it again
        return after
    raise Conflict(f"waiver {waiver_id!r} was changed at the same time: retry")


def is_active(waiver: dict[str, Any], at: str) -> bool:
    """Not revoked and not expired at `at` (ISO-8601)."""
    return waiver.get("status") == "active" and _time(waiver["expires_at"]) > _time(at)


def matching(waivers: list[dict[str, Any]], finding: dict[str, Any], at: str) -> dict | None:
    """The first active waiver that covers this finding at time `at`, if any."""
    for waiver in waivers:
        if not is_active(waiver, at):
            continue
        if waiver.get("finding_id"):
            if waiver["finding_id"] == finding["finding_id"]:
                return waiver
            continue
        if waiver.get("rule_id") != finding["rule_id"]:
            continue
        if all(
            waiver.get(field) in (None, finding.get(field))
            for field in ("pipeline", "path", "resource")
        ):
            return waiver
    return None


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
