"""`GET /v1/trends`: the query (range of UTC days, bucket, filters) and the series it answers,
read from the trend counters."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from chalicelib.errors import ValidationFailed
from chalicelib.models import Severity
from chalicelib.paging import NoQuery, parse_query
from chalicelib.stores.backend import stores

MAX_DAYS = 1100  # about three years
DEFAULT_DAYS = 30
COUNTED = ("opened", "fixed", "reopened", "waived")
SEVERITIES = tuple(s.value for s in Severity)


class TrendQuery(NoQuery):
    """`GET /v1/trends`: the range (UTC days, inclusive), the bucket, optional filters."""

    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    bucket: Literal["day", "week", "month"] = "day"
    pipeline: str | None = Field(default=None, min_length=1, max_length=256)
    severity: Literal["info", "low", "medium", "high", "critical"] | None = None

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value) if len(value) == 10 else _bad_day()
            except ValueError:
                _bad_day()
        return value

    @model_validator(mode="after")
    def _range(self) -> TrendQuery:
        self.to = self.to or datetime.now(UTC).date()
        self.from_ = self.from_ or self.to - timedelta(DEFAULT_DAYS - 1)
        return self


def _bad_day() -> Any:
    raise ValueError("must be a date written YYYY-MM-DD")


def _parse(params: dict[str, str] | None) -> TrendQuery:
    query = parse_query(TrendQuery, params)
    assert query.from_ is not None and query.to is not None
    if query.from_ > query.to:
        raise ValidationFailed(
            "the range is empty: from must be on or before to",
            [{"field": "from", "message": f"{query.from_} is after to ({query.to})"}],
        )
    days = (query.to - query.from_).days + 1
    if days > MAX_DAYS:
        raise ValidationFailed(
            f"the range is {days} days; at most {MAX_DAYS} (about three years) can be asked for",
            [{"field": "from", "message": "ask for a shorter range, or several ranges"}],
        )
    return query


def _bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":  # ISO weeks, from Monday
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next_bucket(start: date, bucket: str) -> date:
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def series(tenant_id: str, params: dict[str, str] | None) -> dict[str, Any]:
    """The tenant's trend series over the range, and the times to fix by severity."""
    query = _parse(params)
    assert query.from_ is not None and query.to is not None
    first, last = query.from_.isoformat(), query.to.isoformat()
    store = stores().trends
    wanted = (query.severity,) if query.severity else SEVERITIES

    def pick(counts: dict[str, int]) -> int:
        return sum(amount for severity, amount in counts.items() if severity in wanted)

    per_day: dict[str, dict[str, int]] = {}
    for row in store.days(tenant_id, first, last, query.pipeline):
        totals = per_day.setdefault(row.day, {})
        for name, counts in row.counts.items():
            totals[name] = totals.get(name, 0) + pick(counts)
    open_total = pick(store.open_before(tenant_id, first, query.pipeline))
    buckets = []
    start = query.from_
    while start <= query.to:
        end = min(_next_bucket(_bucket_start(start, query.bucket), query.bucket), query.to + _DAY)
        entry: dict[str, Any] = {"start": start.isoformat(), "end": (end - _DAY).isoformat()}
        entry.update(dict.fromkeys(COUNTED, 0))
        day = start
        while day < end:
            totals = per_day.get(day.isoformat(), {})
            for name in COUNTED:
                entry[name] += totals.get(name, 0)
            open_total += totals.get("open", 0)
            day += _DAY
        entry["open"] = open_total
        buckets.append(entry)
        start = end
    fixes: dict[str, list[float]] = {}
    for severity, seconds in store.fixes(tenant_id, first, last, query.pipeline):
        if severity in wanted:
            fixes.setdefault(severity, []).append(seconds)
    return {
        "from": first,
        "to": last,
        "bucket": query.bucket,
        "pipeline": query.pipeline,
        "severity": query.severity,
        "series": buckets,
        "time_to_fix": {
            severity: {
                "fixed": len(values),
                "mean_seconds": round(statistics.fmean(values), 3),
                "median_seconds": round(statistics.median(values), 3),
            }
            for severity in SEVERITIES
            if (values := fixes.get(severity))
        },
    }


_DAY = timedelta(days=1)
