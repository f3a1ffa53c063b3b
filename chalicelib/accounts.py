"""Registered AWS accounts: what the service scans from its side, through each tenant's role.

A registration binds (tenant, AWS account) to an external id the service generates: the
tenant's role trusts the service only with that id, so no other tenant can make the service
read the account (the confused-deputy problem). Scans run on each account's own interval.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from chalicelib.config import settings

ACCOUNT_ID = r"^[0-9]{12}$"
ROLE_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):role/(?:[\x21-\x7e]{0,510}/)?[\w+=,.@-]{1,64}$"
)
SCHEDULE = re.compile(r"^([1-9][0-9]{0,5})(m|h|d)$")
MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(days=7)
DEFAULT_SCHEDULE = "6h"
MAX_REGIONS = 40
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}

# statuses of a registration
PENDING, OK, CANNOT_ASSUME, SCAN_FAILED = "pending", "ok", "cannot_assume_role", "scan_failed"
STATUSES = (PENDING, OK, CANNOT_ASSUME, SCAN_FAILED)
CANNOT_ASSUME_MESSAGE = "cannot assume role: check its trust policy and external id"


@cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows, in every partition."""
    import boto3

    session = boto3.session.Session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )


def interval_of(schedule: str) -> timedelta:
    """`30m`, `6h`, `1d` as a duration (ValueError naming the allowed range otherwise)."""
    match = SCHEDULE.fullmatch(schedule)
    if not match:
        raise ValueError("must be a whole number and a unit m, h or d, e.g. 30m, 6h or 1d")
    interval = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise ValueError("must be at least 15m and at most 7d")
    return interval


class AccountRequest(BaseModel):
    """`POST /v1/accounts`: an AWS account, the role the service assumes in it, where and how
    often to scan it."""

    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(pattern=ACCOUNT_ID, description="The 12-digit AWS account id.")
    role_arn: str = Field(min_length=20, max_length=2048)
    regions: list[str] | None = Field(default=None, min_length=1, max_length=MAX_REGIONS)
    schedule: str = Field(default=DEFAULT_SCHEDULE, min_length=2, max_length=8)

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, regions: list[str] | None) -> list[str] | None:
        if regions is None:
            return None
        unknown = [r for r in regions if r not in known_regions()]
        if unknown:
            shown = ", ".join(repr(r[:40]) for r in unknown[:5])
            raise ValueError(f"unknown region(s) {shown}: give AWS region names like eu-west-1")
        return list(dict.fromkeys(regions))

    @field_validator("schedule")
    @classmethod
    def _interval(cls, schedule: str) -> str:
        interval_of(schedule)
        return schedule

    @field_validator("role_arn")
    @classmethod
    def _role(cls, role_arn: str, info: ValidationInfo) -> str:
        match = ROLE_ARN.fullmatch(role_arn)
        if not match:
            raise ValueError("must be an IAM role ARN: arn:aws:iam::<account id>:role/<name>")
        account_id = info.data.get("account_id")
        if account_id and match.group(2) != account_id:
            raise ValueError(
                f"is a role of account {match.group(2)}, not of account_id {account_id}: "
                "give the role the service assumes in that account"
            )
        return role_arn


def new_record(tenant_id: str, request: AccountRequest, actor: str, now: datetime) -> dict:
    """The stored registration: the request, a new external id, and the first scan due now."""
    return {
        "tenant_id": tenant_id,
        "account_id": request.account_id,
        "role_arn": request.role_arn,
        "regions": request.regions or [settings().region],
        "schedule": request.schedule,
        "external_id": secrets.token_urlsafe(32),
        "status": PENDING,
        "status_message": None,
        "created_at": iso(now),
        "created_by": actor,
        "last_scan_at": None,
        "last_scan_id": None,
        "next_scan_at": iso(now),
    }


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A registration as the API shows it."""
    return {k: v for k, v in record.items() if k not in ("tenant_id", "created_by")}


def iso(moment: datetime) -> str:
    """UTC, to the second: registrations compare these strings to find due scans."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def now() -> datetime:
    return datetime.now(UTC)
