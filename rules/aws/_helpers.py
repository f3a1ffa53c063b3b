"""Helpers of the account rules: registration with what each rule reads, and the ids of
account-level findings."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from chalicelib.engine.registry import CheckFn, Hit, rule
from chalicelib.posture.inventory import GLOBAL, Inventory

__all__ = [
    "CIS",
    "FSBP",
    "GLOBAL",
    "NEEDS",
    "account_rule",
    "age_days",
    "in_regions",
    "parse_time",
    "where",
]

CIS = "https://www.cisecurity.org/benchmark/amazon_web_services"
FSBP = "https://docs.aws.amazon.com/securityhub/latest/userguide"

NEEDS: dict[str, tuple[str, ...]] = {}
"""Rule id → the facts and resource types it reads: a read that failed for one of them makes
the rule "not assessed" (AWS-ACCESS-001 lists it)."""


def account_rule(*, id: str, needs: Iterable[str], **meta: Any) -> Callable[[CheckFn], CheckFn]:  # noqa: A002
    """`@rule` for the aws_inventory pack, recording what the rule reads. The check runs only
    when all of it was read: a service left out of the collection, or a listing that failed
    (AWS-ACCESS-001 says which), makes the rule not assessed rather than pass or fail."""
    wanted = NEEDS[id] = tuple(needs)

    def register(check: CheckFn) -> CheckFn:
        @functools.wraps(check)
        def guarded(inventory: Inventory, *params: Any) -> Iterable[Hit]:
            if not all(inventory.read(feed) for feed in wanted):
                return ()
            return check(inventory, *params)

        rule(id=id, artifact_type="aws_inventory", **meta)(guarded)
        return check

    return register


def where(inventory: Inventory, region: str = GLOBAL) -> str:
    """The resource id of an account-level finding: the account, or `<account>/<region>`."""
    return inventory.account_id if region == GLOBAL else f"{inventory.account_id}/{region}"


def in_regions(inventory: Inventory, fact: str) -> Iterator[tuple[str, Any]]:
    """(region, value) of a regional fact, for each collected region where it was read."""
    for region in inventory.regions:
        if inventory.has_fact(region, fact):
            yield region, inventory.fact(region, fact)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time from an inventory (credential reports say N/A, no_information ...)."""
    if not isinstance(value, str) or not value[:1].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age_days(value: Any, now: datetime) -> float | None:
    """Days from `value` to `now`, None when `value` is no time."""
    moment = parse_time(value)
    return None if moment is None else (now - moment).total_seconds() / 86400


def collected_at(inventory: Inventory) -> datetime:
    """When the inventory was collected: ages are measured from then, not from today."""
    return parse_time(inventory.collected_at) or datetime.now(UTC)
